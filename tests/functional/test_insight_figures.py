"""Repeat involvement, the effect of interventions, case handling and the
leadership dashboard: the figures shown follow the cases, each role sees what
it may, and the cost does not grow with the reports stored."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import timedelta

import pytest

from benchmarks.bulk_seed import ReportFactory, write_into_moto
from benchmarks.dynamo_meter import metered
from chalicelib import casefigures, cases, casework, dashboard, insights
from chalicelib.models import Report
from chalicelib.reports import store_report
from chalicelib.weeks import local_today, now_utc

from .staff_fixtures import OTHER_SCHOOL, SCHOOL, StaffWorld, html
from .test_aggregates import _context

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

OWN_GROUP = "g-5"  # the demo teacher's group
OTHER_GROUP = "g-3"


def _report(world: StaffWorld, group: str, days_ago: int, **answers) -> Report:
    """A report about two pupils of `group`, received `days_ago` days ago."""
    received = now_utc() - timedelta(days=days_ago, hours=2)
    fields = {
        "language": "nl",
        "reporter_role": "pupil",
        "anonymous": True,
        "contact": None,
        "categories": ["pesten"],
        "description": f"Beschrijving {uuid.uuid4().hex}",
        "hurt_self": False,
        "did_it_unknown": False,
        "persons": [
            {"role": "hurt", "name": world.fake.first_name(), "group": group},
            {"role": "did_it", "name": world.fake.name(), "group": group},
        ],
        "groups": [group],
        "location": "plein",
        "location_note": None,
        "occurred_on": (local_today() - timedelta(days=days_ago)).isoformat(),
        "part_of_day": "lunch",
        "frequency": "several",
        "told": [],
        "witnesses": None,
        "danger_now": "no",
        **answers,
    }
    return store_report(
        world.schools[SCHOOL], uuid.uuid4().hex, fields, received=received
    )


def _link(world: StaffWorld, report: Report, person: int, pupil_id: str) -> Report:
    coordinator = _context(world.member("coordinator"))
    casework.apply(coordinator, report, casework.link_pupil(report, person, pupil_id))
    return Report.get(report.school_id, report.report_id)


@pytest.fixture(scope="module")
def pupils(staff_world: StaffWorld) -> dict[str, str]:
    """A pupil hurt four times and one who did it three times (both in the
    teacher's group), and one hurt twice in another group."""
    world = staff_world
    often_hurt = world.enrol(SCHOOL, OWN_GROUP, "500001")
    often_did = world.enrol(SCHOOL, OWN_GROUP, "500002")
    elsewhere = world.enrol(SCHOOL, OTHER_GROUP, "300001")
    for days_ago in (3, 10, 17, 24):
        report = _report(world, OWN_GROUP, days_ago)
        report = _link(world, report, 0, often_hurt.pupil_id)
        if days_ago != 24:
            _link(world, report, 1, often_did.pupil_id)
    for days_ago in (4, 11):
        _link(world, _report(world, OTHER_GROUP, days_ago), 0, elsewhere.pupil_id)
    # Older than the window: does not count.
    for days_ago in (80, 90, 100):
        _link(world, _report(world, OTHER_GROUP, days_ago), 0, elsewhere.pupil_id)
    return {
        "often_hurt": often_hurt.pupil_id,
        "often_did": often_did.pupil_id,
        "elsewhere": elsewhere.pupil_id,
    }


def _rows(body: str, table: str) -> dict[str, list[str]]:
    if f'id="{table}"' not in body:
        return {}
    section = body.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in re.findall(
        r"<tr[^>]*data-pupil=\"(\w+)\"[^>]*>(.*?)</tr>", section, re.S
    ):
        rows[row[0]] = re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)
    return rows


def test_repeat_involvement_lists_pupils_at_the_threshold(staff_world, pupils):
    coordinator = staff_world.sign_in("coordinator")

    response = coordinator.get("/staff/insights/pupils")

    body = html(response)
    assert response.status_code == 200
    rows = _rows(body, "repeat-pupils")
    assert rows[pupils["often_hurt"]][1:] == ["4", "0"]
    assert rows[pupils["often_did"]][1:] == ["0", "3"]
    assert pupils["elsewhere"] not in rows  # twice in the window: below 3
    assert f'href="/staff/pupils/{pupils["often_hurt"]}"' in body


def test_repeat_involvement_window_and_threshold_can_be_chosen(staff_world, pupils):
    coordinator = staff_world.sign_in("coordinator")

    wide = _rows(
        html(coordinator.get("/staff/insights/pupils?weeks=26&threshold=2")),
        "repeat-pupils",
    )
    narrow = _rows(
        html(coordinator.get("/staff/insights/pupils?weeks=1&threshold=2")),
        "repeat-pupils",
    )

    assert wide[pupils["elsewhere"]][1:] == ["5", "0"]
    assert pupils["often_hurt"] not in narrow


def test_a_teacher_sees_repeat_involvement_of_their_own_groups_only(
    staff_world, pupils
):
    teacher = staff_world.sign_in("teacher")

    body = html(teacher.get("/staff/insights/pupils?threshold=2"))

    rows = _rows(body, "repeat-pupils")
    assert set(rows) >= {pupils["often_hurt"], pupils["often_did"]}
    assert pupils["elsewhere"] not in rows
    assert "/staff/pupils/" not in body  # the pupil history is not theirs to read
    assert teacher.get(f"/staff/insights/pupils?group={OTHER_GROUP}").status_code == 404


def test_viewing_repeat_involvement_is_audited(staff_world, pupils):
    from chalicelib import audit

    staff_world.sign_in("deputy").get("/staff/insights/pupils")

    entries = audit.trail_of(audit.school_trail(SCHOOL), limit=20)
    assert any(
        e.action == "repeat_involvement_viewed" and e.actor_role == "deputy"
        for e in entries
    )


def test_intervention_effects_and_new_reports_after_them(staff_world, pupils):
    world = staff_world
    coordinator = _context(world.member("coordinator"))
    school = world.schools[SCHOOL]
    today = local_today()
    held = today - timedelta(days=55)
    # Two talks with the pupil who did it: one followed by a new report about
    # them within six weeks, one not; their effects are recorded.
    first = _link(world, _report(world, OWN_GROUP, 62), 1, "500002")
    second = _link(world, _report(world, OTHER_GROUP, 62), 1, "300001")
    for report, outcome in ((first, "less"), (second, "stopped")):
        casework.apply(
            coordinator,
            report,
            casework.intervention(
                school,
                report,
                kind="talk_did_it",
                on=held.isoformat(),
                follow_up_on=None,
                text=None,
            ),
        )
        held_case = Report.get(SCHOOL, report.report_id)
        [event] = [e for e in cases.timeline(held_case) if e.kind == "intervention"]
        casework.apply(
            coordinator, held_case, casework.effect(held_case, event, outcome)
        )
    # Within six weeks after the talks (55 to 13 days ago), "500002" was
    # reported again 17 days ago; "300001" only 11 and 4 days ago: too late.
    period = insights.period(held - timedelta(days=7), today, today)

    result = casefigures.intervention_effects(coordinator, school, period, today)

    [row] = [r for r in result.rows if r.kind == "talk_did_it"]
    assert row.interventions == 2
    assert row.effects == Counter({"less": 1, "stopped": 1})
    assert (row.followed, row.recurred) == (2, 1)
    page = html(
        world.sign_in("coordinator").get(
            f"/staff/insights/interventions?from={held - timedelta(days=7)}"
        )
    )
    assert 'data-key="effects:talk_did_it"' in page


def test_case_handling_open_cases_first_action_and_overdue(staff_world, pupils):
    world = staff_world
    coordinator = _context(world.member("coordinator"))
    school = world.schools[SCHOOL]
    today = local_today()
    period = insights.period(today - timedelta(weeks=8), today, today)
    before = casefigures.handling(coordinator, school, period, today)
    acted = _report(world, OWN_GROUP, 5)
    closed = _report(world, OWN_GROUP, 5)
    overdue = _report(world, OTHER_GROUP, 30)
    casework.apply(coordinator, acted, casework.note("Gesprek gepland"))
    casework.apply(
        coordinator, closed, casework.set_status(closed, "closed", "stopped")
    )
    casework.apply(
        coordinator,
        overdue,
        casework.intervention(
            school,
            overdue,
            kind="talk_hurt",
            on=(today - timedelta(days=20)).isoformat(),
            follow_up_on=(today - timedelta(days=2)).isoformat(),
            text=None,
        ),
    )

    after = casefigures.handling(coordinator, school, period, today)

    assert after.open_total == before.open_total + 2  # closed one is not open
    assert after.received == before.received + 3
    assert after.acted == before.acted + 3
    assert any(row[1] == overdue.report_id for row in after.overdue)
    assert after.median_hours is not None
    teacher = _context(world.member("teacher"))
    teacher_view = casefigures.handling(teacher, school, period, today)
    assert all(row[1] != overdue.report_id for row in teacher_view.overdue)
    page = world.sign_in("coordinator").get("/staff/insights/cases")
    assert page.status_code == 200
    assert overdue.report_id in html(page)


def test_removing_a_report_as_spam_takes_it_out_of_every_figure(staff_world, pupils):
    world = staff_world
    coordinator = _context(world.member("coordinator"))
    school = world.schools[SCHOOL]
    today = local_today()
    before = dashboard.dashboard(coordinator, school, today)
    spam = _report(world, OWN_GROUP, 0, description="Koop nu goedkope horloges!!!")
    counted = dashboard.dashboard(coordinator, school, today)
    browser = world.sign_in("coordinator")

    response = browser.post(
        f"/staff/reports/{spam.report_id}/remove",
        {"reason": "spam", "version": str(spam.version)},
    )

    after = dashboard.dashboard(coordinator, school, today)
    assert response.status_code == 303
    assert counted.this_week == before.this_week + 1
    assert after.this_week == before.this_week
    assert after.handling.open_total == before.handling.open_total
    stored = Report.get(SCHOOL, spam.report_id)
    assert stored.description == ""
    assert stored.removed_reason == "spam"
    assert spam.report_id not in html(browser.get("/staff/"))
    assert spam.report_id not in html(world.sign_in("teacher").get("/staff/"))


def test_dashboard_shows_the_figures_with_drill_down(staff_world, pupils):
    browser = staff_world.sign_in("leadership")

    response = browser.get("/staff/dashboard")

    body = html(response)
    assert response.status_code == 200
    assert 'id="key-figures"' in body
    assert 'id="trend"' in body
    assert "/staff/?start=" in body
    assert "<script" not in body
    assert staff_world.sign_in("teacher").get("/staff/dashboard").status_code == 404


def test_other_schools_figures_never_show(staff_world, pupils):
    other = staff_world.sign_in("coordinator", OTHER_SCHOOL)

    body = html(other.get("/staff/insights/pupils?threshold=2"))

    assert all(p not in body for p in pupils.values())


PAGES = (
    ("coordinator", "/staff/insights/pupils"),
    ("coordinator", "/staff/insights/interventions"),
    ("coordinator", "/staff/insights/cases"),
    ("teacher", "/staff/insights/pupils"),
    ("teacher", "/staff/insights/cases"),
    ("leadership", "/staff/dashboard"),
)


def test_figures_cost_the_same_with_more_history(staff_world, pupils):
    """Requests and items read are equal before and after 3,000 more reports
    from earlier years (the 10k/100k run is benchmarks' figure test)."""
    browsers = {role: staff_world.sign_in(role) for role, _ in PAGES}

    def costs():
        result = {}
        for role, path in PAGES:
            with metered() as meter:
                assert browsers[role].get(path).status_code == 200
            result[(role, path)] = meter.counts()
        return result

    costs()
    small = costs()
    write_into_moto(ReportFactory(staff_world.schools[SCHOOL]), 3000)
    large = costs()

    assert large == small
    assert all(c["scans"] == 0 for c in small.values())
