"""The operator's command line (`python -m infra.ops`) on the fake AWS: create a
school, its embed code and poster, and remove a school with everything in it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib import aws, snapshots
from chalicelib.casework import followup_scope, pupil_scope
from chalicelib.models import (
    AuditEvent,
    CaseEvent,
    Pupil,
    Report,
    ReportIndex,
    School,
    StaffMember,
    WeekAggregate,
    WeekSnapshot,
)
from chalicelib.reports import group_scope
from chalicelib.weeks import local_today
from infra import onboarding, ops

from .helpers import post_report, valid_report
from .onboarding_helpers import first_sign_in
from .staff_fixtures import SCHOOL, StaffWorld

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")


def _operator(*arguments: str) -> int:
    return onboarding.run(ops.parse_args(["--stage", "dev", *arguments]))


def _login_exists(world: StaffWorld, email: str) -> bool:
    users = aws.client("cognito-idp").list_users(
        UserPoolId=world.pool_id, Filter=f'email = "{email}"'
    )["Users"]
    return bool(users)


@pytest.mark.parametrize(
    "arguments",
    [
        ["--slug", SCHOOL, "--name", "Dubbel", "--type", "primary"],
        ["--slug", "Met Spaties", "--name", "Fout", "--type", "primary"],
        ["--slug", "school-x", "--name", "X", "--type", "primary", "--languages", "de"],
    ],
    ids=["existing-slug", "bad-slug", "unsupported-language"],
)
def test_create_school_refuses_and_changes_nothing(staff_world, arguments, capsys):
    before = School.get(SCHOOL).name

    status = _operator("create-school", *arguments)

    assert status == 2
    assert capsys.readouterr().err
    assert School.get(SCHOOL).name == before
    assert School.count("school-x") == 0


def test_embed_code_and_poster_lead_to_the_schools_form(staff_world, tmp_path, capsys):
    form = f"{onboarding.form_url(SCHOOL)}"

    embed_status = _operator("show-embed", "--slug", SCHOOL)
    embed = capsys.readouterr().out
    poster_status = _operator(
        "poster", "--slug", SCHOOL, "--out", str(tmp_path / "p.html")
    )
    svg_status = _operator("poster", "--slug", SCHOOL, "--out", str(tmp_path / "q.svg"))
    unknown = _operator("poster", "--slug", "bestaat-niet")

    poster = (tmp_path / "p.html").read_text(encoding="utf-8")
    svg = (tmp_path / "q.svg").read_text(encoding="utf-8")
    assert embed_status == poster_status == svg_status == 0
    assert f'href="{form}"' in embed
    assert "Stopknop" in embed
    assert "<svg" in poster and form in poster
    assert "OBS De Regenboog" in poster
    assert "0800-0432" in poster
    assert svg.startswith("<svg") and "<script" not in svg
    assert unknown == 2


def _school_with_everything(world: StaffWorld, fake, slug: str) -> dict[str, str]:
    """A school with staff (one also at OBS De Regenboog), pupils and a case."""
    _operator("create-school", "--slug", slug, "--name", "Weg", "--type", "primary")
    only_here = fake.unique.email(domain="weg.example")
    shared = world.member("leadership").email
    for email in (only_here, shared):
        _operator(
            "invite", "--slug", slug, "--email", email, "--name", fake.name(),
            "--roles", "coordinator",
        )  # fmt: skip
    Pupil(slug, "700001", first_name=fake.first_name(), last_name=fake.last_name(),
          group="g-5", school_group=f"{slug}#g-5").save()  # fmt: skip
    assert post_report(world.http, valid_report(fake), slug=slug).status_code == 201
    [report] = Report.query(slug)
    coordinator = first_sign_in(world, only_here)
    linked = coordinator.post(
        f"/staff/reports/{report.report_id}/pupils",
        {"person": "0", "pupil_id": "700001"},
    )
    planned = coordinator.post(
        f"/staff/reports/{report.report_id}/interventions",
        {
            "kind": "talk_hurt",
            "on": local_today().isoformat(),
            "follow_up_on": (local_today() + timedelta(days=7)).isoformat(),
        },
    )
    assert (linked.status_code, planned.status_code) == (303, 303)
    return {"only_here": only_here, "shared": shared}


def test_remove_school_asks_the_slug_twice_and_keeps_everything_on_a_mismatch(
    staff_world, fake, monkeypatch
):
    slug = "weg-na-vraag"
    _school_with_everything(staff_world, fake, slug)
    answers = iter([slug, slug + "x"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))

    status = _operator("remove-school", "--slug", slug)

    assert status == 1
    assert School.count(slug) == 1
    assert Report.count(slug) == 1


def test_remove_school_deletes_its_data_and_only_the_logins_nobody_else_needs(
    staff_world, fake
):
    slug = "weg-school"
    emails = _school_with_everything(staff_world, fake, slug)
    [report] = Report.query(slug)
    case = f"{slug}#{report.report_id}"
    other_reports = Report.count(SCHOOL)
    assert ReportIndex.count(pupil_scope(slug, "700001")) == 1
    assert ReportIndex.count(followup_scope(slug)) == 1
    snapshots.freeze(School.get(slug), "2026-W40")
    assert WeekSnapshot.count(slug) == 1

    status = _operator("remove-school", "--slug", slug, "--yes")

    assert status == 0
    assert School.count(slug) == 0
    assert StaffMember.count(slug) == 0
    assert Pupil.count(slug) == 0
    assert Report.count(slug) == 0
    assert CaseEvent.count(case) == 0
    assert ReportIndex.count(group_scope(slug, report.groups[0])) == 0
    assert ReportIndex.count(pupil_scope(slug, "700001")) == 0
    assert ReportIndex.count(followup_scope(slug)) == 0
    assert WeekAggregate.count(slug) == 0
    assert WeekSnapshot.count(slug) == 0
    assert not _login_exists(staff_world, emails["only_here"])
    assert _login_exists(staff_world, emails["shared"])
    assert AuditEvent.count(f"{slug}#school") > 0  # the trail stays
    assert Report.count(SCHOOL) == other_reports
