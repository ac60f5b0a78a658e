"""The class round: one group's reports, open cases and pupils with repeat
involvement since the last round, for coordinators, deputies and leadership
only, without report texts, at a cost that does not grow with the history."""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest

from benchmarks.bulk_seed import SeededReport, write_batches
from benchmarks.dynamo_meter import metered
from chalicelib import audit, class_round
from chalicelib.models import AuditEvent, Report, ReportIndex
from chalicelib.reports import group_scope, new_report_id, store_report
from chalicelib.validation import validate_report
from chalicelib.weeks import local_today, now_utc
from local.seed import random_report

from .staff_fixtures import OTHER_SCHOOL, SCHOOL, StaffBrowser, StaffWorld, html

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

ROUND = "/staff/insights/class-round"
GROUP = "g-6"
OTHER_GROUP = "g-7"


def store(world: StaffWorld, group: str, days_ago: int, school: str = SCHOOL) -> Report:
    """A report about one pupil of `group`, received `days_ago` days ago, with a
    description and a reporter's name found nowhere else."""
    rng = random.Random(f"{group}-{days_ago}-{uuid.uuid4()}")
    payload = random_report(world.schools[school], world.fake, rng, days_ago)
    payload["description"] = f"Beschrijving {uuid.uuid4().hex} van wat er gebeurde."
    payload["reporter"] = {
        "role": "parent",
        "anonymous": False,
        "name": f"{world.fake.name()} {uuid.uuid4().hex[:6]}",
        "email": world.fake.email(),
    }
    payload["hurt"] = {
        "self": False,
        "persons": [{"name": world.fake.first_name(), "group": group}],
    }
    payload["did_it"] = {
        "unknown": False,
        "persons": [{"name": world.fake.first_name(), "group": group}],
    }
    received = now_utc() - timedelta(days=days_ago, hours=1)
    answers = validate_report(payload, world.schools[school])
    return store_report(world.schools[school], uuid.uuid4().hex, answers, received)


def listed(response) -> set[str]:
    """The report ids in the sheet's report table."""
    return set(re.findall(r'<tr data-report="([^"]+)"', html(response)))


def link(coordinator: StaffBrowser, report: Report, role: str, pupil_id: str) -> None:
    person = next(i for i, p in enumerate(report.persons) if p.role == role)
    response = coordinator.post(
        f"/staff/reports/{report.report_id}/pupils",
        {"person": str(person), "pupil_id": pupil_id},
    )
    assert response.status_code == 303


@dataclass
class Seeded:
    world: StaffWorld
    recent: list[Report]  # this group, since the default date
    older: list[Report]  # this group, before the default date
    elsewhere: list[Report]  # another group and another school, recent


@pytest.fixture(scope="module")
def seeded(staff_world: StaffWorld) -> Seeded:
    world = staff_world
    other_school_group = world.schools[OTHER_SCHOOL].groups[0].id
    return Seeded(
        world,
        recent=[store(world, GROUP, days) for days in (1, 6, 13, 20)],
        older=[store(world, GROUP, days) for days in (35, 60)],
        elsewhere=[
            store(world, OTHER_GROUP, 2),
            store(world, other_school_group, 2, OTHER_SCHOOL),
        ],
    )


@pytest.mark.parametrize("role", ["coordinator", "deputy", "leadership"])
def test_round_lists_the_groups_reports_of_the_last_four_weeks(seeded, role):
    browser = seeded.world.sign_in(role)

    response = browser.get(f"{ROUND}?group={GROUP}")

    assert response.status_code == 200
    assert listed(response) == {r.report_id for r in seeded.recent}
    for report in seeded.recent:
        assert f'href="/staff/reports/{report.report_id}"' in html(response)


def test_round_since_a_chosen_date_leaves_out_older_reports(seeded):
    coordinator = seeded.world.sign_in("coordinator")
    since = local_today() - timedelta(days=10)

    response = coordinator.get(f"{ROUND}?group={GROUP}&since={since.isoformat()}")

    assert listed(response) == {r.report_id for r in seeded.recent[:2]}


def test_round_reaching_back_further_shows_the_older_reports(seeded):
    coordinator = seeded.world.sign_in("coordinator")
    since = local_today() - timedelta(days=90)

    response = coordinator.get(f"{ROUND}?group={GROUP}&since={since.isoformat()}")

    assert listed(response) == {r.report_id for r in seeded.recent + seeded.older}


def test_round_shows_no_report_text_and_nothing_of_the_reporter(seeded):
    coordinator = seeded.world.sign_in("coordinator")
    since = local_today() - timedelta(days=90)

    body = html(coordinator.get(f"{ROUND}?group={GROUP}&since={since.isoformat()}"))

    for report in seeded.recent + seeded.older:
        assert report.description not in body
        assert report.contact.name not in body
        assert report.contact.email not in body
        for person in report.persons:
            assert person.name not in body


def test_round_of_one_group_leaves_out_other_groups_and_schools(seeded):
    coordinator = seeded.world.sign_in("coordinator")

    response = coordinator.get(f"{ROUND}?group={GROUP}")

    for report in seeded.elsewhere:
        assert report.report_id not in html(response)


def test_without_a_group_the_page_offers_each_group_of_the_school(seeded):
    coordinator = seeded.world.sign_in("coordinator")

    body = html(coordinator.get(ROUND))

    for group in seeded.world.schools[SCHOOL].groups:
        assert f'href="{ROUND}?group={group.id}"' in body
    for group in seeded.world.schools[OTHER_SCHOOL].groups:
        assert f"?group={group.id}" not in body
    assert 'data-report="' not in body


@pytest.mark.parametrize("role", ["teacher", "administrator"])
def test_teacher_and_administrator_get_not_found(seeded, role):
    browser = seeded.world.sign_in(role)
    own_group = seeded.world.member(role).groups[:1] or [GROUP]

    for path in (ROUND, f"{ROUND}?group={own_group[0]}", f"{ROUND}?group={GROUP}"):
        response = browser.get(path)

        assert response.status_code == 404
        assert 'data-report="' not in html(response)


@pytest.mark.parametrize(
    "group",
    ["other-school", "g-99", "obs-de-regenboog", "..%2Fg-6", "g-6%23x"],
    ids=["other-school", "unknown", "school-scope", "path-trick", "scope-trick"],
)
def test_group_outside_the_school_gets_not_found(seeded, group):
    if group == "other-school":
        group = seeded.world.schools[OTHER_SCHOOL].groups[0].id
    coordinator = seeded.world.sign_in("coordinator")

    response = coordinator.get(f"{ROUND}?group={group}")

    assert response.status_code == 404
    for report in seeded.elsewhere:
        assert report.report_id not in html(response)


def test_showing_a_round_is_written_to_the_school_audit_trail(seeded):
    coordinator = seeded.world.sign_in("coordinator")
    since = local_today() - timedelta(days=14)

    coordinator.get(f"{ROUND}?group={GROUP}&since={since.isoformat()}")

    trail = audit.trail_of(audit.school_trail(SCHOOL), limit=5)
    entry = next(e for e in trail if e.action == "class_round")
    assert entry.actor == seeded.world.member("coordinator").staff_id
    assert entry.detail.as_dict() == {"group": GROUP, "since": since.isoformat()}


def test_choosing_a_group_is_not_audited(seeded):
    coordinator = seeded.world.sign_in("coordinator")
    before = len(list(AuditEvent.query(audit.school_trail(SCHOOL))))

    coordinator.get(ROUND)

    entries = list(AuditEvent.query(audit.school_trail(SCHOOL)))
    assert [e.action for e in entries[before:]] == []


def test_pupils_linked_to_the_threshold_of_reports_are_listed(staff_world):
    world = staff_world
    group = "g-4"
    coordinator = world.sign_in("coordinator")
    often_hurt = world.enrol(SCHOOL, group, "640001")
    often_did_it = world.enrol(SCHOOL, group, "640002")
    once = world.enrol(SCHOOL, group, "640003")
    reports = [store(world, group, days) for days in (2, 5, 9, 16)]
    threshold = int(world.schools[SCHOOL].repeat_threshold)
    for report in reports[:threshold]:
        link(coordinator, Report.get(SCHOOL, report.report_id), "hurt", "640001")
        link(coordinator, Report.get(SCHOOL, report.report_id), "did_it", "640002")
    link(coordinator, Report.get(SCHOOL, reports[-1].report_id), "hurt", "640003")

    body = html(coordinator.get(f"{ROUND}?group={group}"))

    assert f'href="/staff/pupils/{often_hurt.pupil_id}"' in body
    assert f"{often_hurt.first_name} {often_hurt.last_name}" in body
    assert f'href="/staff/pupils/{often_did_it.pupil_id}"' in body
    assert once.last_name not in body
    hurt_row = re.search(r'data-pupil="640001".*?</tr>', body, re.DOTALL)
    assert hurt_row is not None
    assert re.findall(r"<td[^>]*>(\d+)</td>", hurt_row.group(0)) == [
        str(threshold),
        "0",
    ]


def test_open_cases_are_counted_with_those_older_than_four_weeks(staff_world):
    world = staff_world
    group = "g-8"
    coordinator = world.sign_in("coordinator")
    recent = [store(world, group, days) for days in (1, 3, 10)]
    store(world, group, 50)  # open, received long before the round
    closed = coordinator.post(
        f"/staff/reports/{recent[0].report_id}/status",
        {"status": "closed", "reason": "stopped"},
    )
    assert closed.status_code == 303

    body = html(coordinator.get(f"{ROUND}?group={group}"))

    counts = re.search(r'id="open-cases">Open zaken: (\d+), waarvan (\d+) ', body)
    assert counts is not None
    assert counts.groups() == ("3", "1")
    open_list = re.search(r'<ul id="open-reports">.*?</ul>', body, re.DOTALL)
    assert open_list is not None
    assert recent[0].report_id not in open_list.group(0)
    for report in recent[1:]:
        assert report.report_id in open_list.group(0)


def test_figures_compare_the_period_with_the_weeks_before(staff_world):
    world = staff_world
    group = "g-3"
    coordinator = world.sign_in("coordinator")
    for days in (1, 2, 3):
        store(world, group, days)
    store(world, group, 45)

    body = html(coordinator.get(f"{ROUND}?group={group}"))

    current = re.search(r'data-key="total".*?class="current">(\d+)<', body, re.DOTALL)
    previous = re.search(r'data-key="total".*?class="previous">(\d+)<', body, re.DOTALL)
    assert current is not None and previous is not None
    assert (current.group(1), previous.group(1)) == ("3", "1")


def _round_counts(browser: StaffBrowser, group: str) -> dict[str, object]:
    with metered() as meter:
        response = browser.get(f"{ROUND}?group={group}")
    assert response.status_code == 200
    return meter.counts()


def test_cost_is_the_same_with_few_and_many_older_reports(staff_world):
    world = staff_world
    group = "g-1-2a"
    coordinator = world.sign_in("coordinator")
    for days in (2, 8, 15):
        store(world, group, days)
    _round_counts(coordinator, group)  # the first request sets up clients

    few = _round_counts(coordinator, group)
    # Long before the period and the weeks it is compared with.
    for days in range(120, 360, 8):
        store(world, group, days)
    many = _round_counts(coordinator, group)

    assert many == few
    assert few["scans"] == 0


@pytest.mark.parametrize("since", ["", "gisteren", "2026-13-45", "9" * 40])
def test_unreadable_date_falls_back_to_four_weeks(seeded, since):
    coordinator = seeded.world.sign_in("coordinator")

    response = coordinator.get(f"{ROUND}?group={GROUP}&since={since}")

    assert response.status_code == 200
    assert listed(response) == {r.report_id for r in seeded.recent}


def test_a_date_after_today_shows_today_only(seeded):
    coordinator = seeded.world.sign_in("coordinator")
    later = local_today() + timedelta(days=30)

    response = coordinator.get(f"{ROUND}?group={GROUP}&since={later.isoformat()}")

    assert response.status_code == 200
    assert listed(response) == set()


def copies(template: Report, count: int) -> list[Report]:
    """`count` copies of a stored report, each received a minute apart before it,
    written as intake writes the report and its group pointers (no counters)."""
    seeded = []
    for minute in range(1, count + 1):
        received = template.received_at - timedelta(minutes=minute)
        copy = Report.from_raw_data(template.serialize())
        copy.report_id = new_report_id(received)
        copy.received_at = received
        pointers = [
            ReportIndex(scope, copy.report_id, report_id=copy.report_id)
            for scope in (group_scope(SCHOOL, g) for g in copy.groups)
        ]
        seeded.append(SeededReport(copy, pointers))
    write_batches(seeded)
    return [s.report for s in seeded]


def test_a_crowded_period_shows_the_newest_reports_and_says_so(staff_world):
    world = staff_world
    group = "g-1-2b"
    newest = store(world, group, 1)
    older = copies(newest, class_round.MAX_REPORTS + 1)
    coordinator = world.sign_in("coordinator")

    response = coordinator.get(f"{ROUND}?group={group}")

    shown = [newest, *older][: class_round.MAX_REPORTS]
    assert listed(response) == {r.report_id for r in shown}
    assert f"Alleen de nieuwste {class_round.MAX_REPORTS} meldingen" in html(response)
