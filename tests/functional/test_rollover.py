"""The school-year rollover on the fake AWS: groups move up, final years leave,
history stays with the pupil, and no pupil moves twice however the run ends."""

from __future__ import annotations

import html as html_text
import re
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from pynamodb.exceptions import UpdateError

from chalicelib import rollover
from chalicelib.models import AuditEvent, Pupil, Report, School, StaffMember
from infra import onboarding, ops

from .onboarding_helpers import first_sign_in
from .staff_fixtures import OTHER_SCHOOL, SCHOOL, html

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

YEAR = "2027-2028"


def _operator(*arguments: str) -> int:
    return onboarding.run(ops.parse_args(["--stage", "dev", *arguments]))


def _pupil(pupil_id: str, school: str = SCHOOL) -> Pupil:
    return Pupil.get(school, pupil_id, consistent_read=True)


@pytest.fixture(scope="module")
def rolled(staff_world):
    """OBS De Regenboog with pupils in groups 5, 8 and 1/2a, one who left before,
    a report about groep 5 linked to a pupil; then rolled over to 2027-2028."""
    world = staff_world
    pupils = {
        "five": world.enrol(SCHOOL, "g-5", "500001"),
        "eight": world.enrol(SCHOOL, "g-8", "800001"),
        "combined": world.enrol(SCHOOL, "g-1-2a", "120001"),
        "gone": world.enrol(SCHOOL, "g-3", "300001"),
    }
    pupils["gone"].update(actions=[Pupil.left.set(True)])
    report = world.report(SCHOOL, "g-5")
    coordinator = world.sign_in("coordinator")
    linked = coordinator.post(
        f"/staff/reports/{report.report_id}/pupils",
        {"person": "0", "pupil_id": "500001"},
    )
    assert linked.status_code == 303
    teacher_groups = list(world.member("teacher").groups)

    status = _operator("rollover", "--slug", SCHOOL, "--year", YEAR)

    return {
        "status": status,
        "pupils": pupils,
        "report": report,
        "coordinator": coordinator,
        "teacher_groups": teacher_groups,
    }


def test_rollover_moves_each_group_up_and_the_final_year_leaves(rolled):
    five, eight = _pupil("500001"), _pupil("800001")

    in_six = [p.pupil_id for p in Pupil.by_group.query(f"{SCHOOL}#g-6")]

    assert rolled["status"] == 0
    assert (five.group, five.school_group, five.left) == ("g-6", f"{SCHOOL}#g-6", False)
    assert "500001" in in_six
    assert (eight.group, eight.left) == ("g-8", True)
    assert School.get(SCHOOL).school_year == YEAR


def test_groups_that_cannot_be_derived_and_pupils_who_left_stay_as_they_were(rolled):
    combined, gone = _pupil("120001"), _pupil("300001")

    assert (combined.group, combined.left, combined.school_year) == (
        "g-1-2a",
        False,
        None,
    )
    assert (gone.group, gone.left) == ("g-3", True)


def test_a_pupil_keeps_their_history_after_the_rollover(rolled):
    report = rolled["report"]

    history = rolled["coordinator"].get("/staff/pupils/500001")

    assert history.status_code == 200
    assert report.report_id in html(history)
    assert Report.get(SCHOOL, report.report_id).groups == ["g-5"]  # as reported


def test_staff_keep_their_groups_and_the_rollover_is_audited(rolled, staff_world):
    teacher = StaffMember.get(SCHOOL, staff_world.member("teacher").staff_id)

    trail = list(AuditEvent.query(f"{SCHOOL}#school"))
    [finished] = [e for e in trail if e.action == "rollover"]
    steps = [e.detail for e in trail if e.action == "rollover_step"]

    assert list(teacher.groups) == rolled["teacher_groups"]
    assert finished.detail["year"] == YEAR
    assert sum(step["moved"] for step in steps) >= 1
    assert sum(step["left"] for step in steps) >= 1


def test_running_the_same_rollover_again_changes_nothing(rolled):
    before = {p.pupil_id: (p.group, p.left) for p in Pupil.query(SCHOOL)}

    status = _operator("rollover", "--slug", SCHOOL, "--year", YEAR)

    after = {p.pupil_id: (p.group, p.left) for p in Pupil.query(SCHOOL)}
    assert status == 0
    assert after == before


@pytest.mark.parametrize(
    "year", ["2027", "2027-2029", "2029-2030"], ids=["no-range", "two-years", "skip"]
)
def test_a_wrong_year_is_refused_without_a_change(rolled, year, capsys):
    before = {p.pupil_id: p.group for p in Pupil.query(SCHOOL)}

    status = _operator("rollover", "--slug", SCHOOL, "--year", year)

    assert status == 2
    assert capsys.readouterr().err
    assert {p.pupil_id: p.group for p in Pupil.query(SCHOOL)} == before


@pytest.fixture
def crash_after(monkeypatch):
    """Let `allowed` UpdateItem calls on the pupils table through, then fail the
    rest as an interrupted run would (the function times out or is killed)."""
    make_api_call = BaseClient._make_api_call

    def install(allowed: int) -> None:
        seen = {"updates": 0}

        def call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            pupils = str(params.get("TableName", "")).endswith("pupils")
            if operation == "UpdateItem" and pupils:
                seen["updates"] += 1
                if seen["updates"] > allowed:
                    raise ClientError(
                        {"Error": {"Code": "InternalServerError", "Message": "killed"}},
                        operation,
                    )
            return make_api_call(client, operation, params)

        monkeypatch.setattr(BaseClient, "_make_api_call", call)

    def stop() -> None:
        monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)

    install.stop = stop  # type: ignore[attr-defined]
    return install


def _secondary_class(world, count: int) -> dict[str, str]:
    """Pupils of Het Baken College in classes that move up: id -> class."""
    classes = ["H2b", "H5a", "V6a"]
    ids = {}
    for n in range(count):
        group = classes[n % len(classes)]
        pupil_id = f"9{n:05d}"
        world.enrol(OTHER_SCHOOL, f"g-{group.lower()}", pupil_id)
        ids[pupil_id] = group
    return ids


def test_an_interrupted_rollover_run_again_moves_every_pupil_exactly_once(
    staff_world, crash_after
):
    pupils = _secondary_class(staff_world, 9)
    mapping = {"B1a": "H2a"}

    crash_after(4)
    with pytest.raises(UpdateError):
        rollover.rollover(OTHER_SCHOOL, YEAR, mapping)
    crash_after.stop()
    halfway = School.get(OTHER_SCHOOL).school_year
    result = rollover.rollover(OTHER_SCHOOL, YEAR, mapping)

    moved = {pid: _pupil(pid, OTHER_SCHOOL) for pid in pupils}
    assert halfway is None
    assert result.already_done == 4
    for pupil_id, group in pupils.items():
        if group == "H2b":
            assert (moved[pupil_id].group, moved[pupil_id].left) == ("g-h3b", False)
        else:
            assert (moved[pupil_id].group, moved[pupil_id].left) == (
                f"g-{group.lower()}",
                True,
            )
    assert School.get(OTHER_SCHOOL).school_year == YEAR


def test_a_second_run_at_the_same_time_does_not_move_a_pupil_again(staff_world):
    school = School.get(OTHER_SCHOOL)
    staff_world.enrol(OTHER_SCHOOL, "g-h2b", "990001")
    stale = _pupil("990001", OTHER_SCHOOL)  # read by a second run before the first
    school.update(actions=[School.school_year.remove()])
    plan = rollover.plan(school)
    first = rollover.Result()
    second = rollover.Result()

    rollover._move(_pupil("990001", OTHER_SCHOOL), "2028-2029", plan.moves, first)
    rollover._move(stale, "2028-2029", plan.moves, second)

    assert (first.moved, second.moved, second.already_done) == (1, 0, 1)
    assert _pupil("990001", OTHER_SCHOOL).group == "g-h3b"


def test_mapping_sends_groups_the_names_cannot_tell_and_creates_new_ones(
    staff_world, capsys
):
    school = School.get(OTHER_SCHOOL)

    plan = rollover.plan(school, {"B1a": "H2a", "B1b": "M2b", "V4a": "-"})
    status = _operator(
        "rollover", "--slug", OTHER_SCHOOL, "--year", "2028-2029", "--dry-run",
        "--map", "B1a=H2a", "--map", "V4a=-",
    )  # fmt: skip
    printed = capsys.readouterr().out

    assert plan.moves["g-b1a"] == "g-h2a"
    assert plan.moves["g-b1b"] == "g-m2b"
    assert [g.name for g in plan.new_groups] == ["M2b"]
    assert plan.moves["g-v4a"] is None
    assert plan.moves["g-h5a"] is None  # havo ends after year 5
    assert "g-b1a" not in plan.unmapped
    assert status == 0
    assert "B1a" in printed and "leaves school" in printed
    assert "dry run" in printed


def _selected_moves(page: str) -> dict[str, str]:
    """The choice each group's select on the rollover page starts with."""
    moves = {}
    for name, options in re.findall(
        r'<select id="[^"]+" name="(to_[^"]+)">(.*?)</select>', page, re.S
    ):
        [chosen] = re.findall(r'<option value="([^"]*)" selected>', options)
        moves[name] = html_text.unescape(chosen)
    return moves


def _hidden_fields(page: str) -> dict[str, str]:
    return {
        name: html_text.unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page
        )
    }


def test_administrator_starts_the_new_year_from_the_page_in_steps(
    staff_world, fake, monkeypatch
):
    monkeypatch.setattr(rollover, "STEP_SIZE", 2)
    slug = "obs-de-klimop"
    email = fake.unique.email(domain="klimop.example")
    _operator(
        "create-school", "--slug", slug, "--name", "OBS De Klimop", "--type", "primary"
    )
    _operator(
        "invite",
        "--slug",
        slug,
        "--email",
        email,
        "--name",
        fake.name(),
        "--roles",
        "administrator",
    )
    admin = first_sign_in(staff_world, email)
    for pupil_id, group in [(f"55000{n}", "g-5") for n in range(5)] + [
        (f"88000{n}", "g-8") for n in range(2)
    ]:
        Pupil(
            slug,
            pupil_id,
            first_name=fake.first_name(),
            last_name=fake.last_name(),
            group=group,
            school_group=f"{slug}#{group}",
        ).save()

    form = admin.get("/staff/admin/rollover")
    fields = {"year": YEAR, **_selected_moves(html(form))}
    steps = [admin.post("/staff/admin/rollover", fields)]
    while "data-continue" in html(steps[-1]):
        carried = {
            k: v
            for k, v in _hidden_fields(html(steps[-1])).items()
            if k != "csrf_token"
        }
        steps.append(admin.post("/staff/admin/rollover", carried))

    assert form.status_code == 200
    assert fields["to_g-5"] == "g-6" and fields["to_g-8"] == "-"
    assert fields["to_g-1-2a"] == "="
    assert len(steps) == 4
    assert all(step.status_code == 200 for step in steps)
    assert (
        "5 leerlingen zijn een groep verder gegaan en 2 hebben de school verlaten"
        in html(steps[-1])
    )
    assert {p.group for p in Pupil.query(slug) if not p.left} == {"g-6"}
    assert School.get(slug).school_year == YEAR
