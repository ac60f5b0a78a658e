"""The insights page: figures from the weekly counters, limited to what each role
may see, with hotspots that show planted patterns, at a cost that does not grow
with the number of reports."""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from markupsafe import escape

from benchmarks.dynamo_meter import metered
from chalicelib import insights
from chalicelib.models import Report, School
from chalicelib.reports import store_report
from chalicelib.validation import validate_report
from chalicelib.weeks import local_today, now_utc
from local.seed import random_report

from .staff_fixtures import SCHOOL, StaffBrowser, StaffWorld, html

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

BLNS = Path("/work/shared/data/naughty-strings/blns.json")
TEACHER_GROUP = "g-5"  # the demo teacher's one group


def store(
    world: StaffWorld,
    rng: random.Random,
    days_ago: int,
    **answers: object,
) -> Report:
    """A random report, received `days_ago` days ago, with some answers fixed."""
    school = world.schools[SCHOOL]
    payload = random_report(school, world.fake, rng, days_ago)
    payload.update(answers)
    if "group" in answers:
        group = answers["group"]
        payload["hurt"] = {"self": False, "persons": [{"name": "Sam", "group": group}]}
        payload["did_it"] = {"unknown": True, "persons": []}
        del payload["group"]
    received = now_utc() - timedelta(days=days_ago, hours=1)
    return store_report(
        school, uuid.uuid4().hex, validate_report(payload, school), received=received
    )


def counted(response, key: str) -> int:
    """The 'this period' number of the row or total marked data-key=`key`."""
    match = re.search(
        rf'data-key="{re.escape(key)}"[^>]*>.*?class="current">(\d+)<',
        html(response),
        re.DOTALL,
    )
    assert match, f"no figure {key}"
    return int(match.group(1))


def first_hotspot(response, table: str) -> str | None:
    match = re.search(rf'data-key="{table}:([^"]+)"', html(response))
    return match.group(1) if match else None


def recount(group: str | None = None, location: str | None = None) -> int:
    """Reports of the default period counted from the reports themselves."""
    weeks = set(insights.period(None, None, local_today()).weeks)
    return sum(
        1
        for report in Report.query(SCHOOL)
        if report.received_week in weeks
        and (group is None or group in report.groups)
        and (location is None or report.location == location)
    )


@pytest.fixture(scope="module")
def seeded(staff_world: StaffWorld) -> StaffWorld:
    """Background reports in this and the previous period, plus a planted pattern:
    many reports in the playground at lunch on Tuesdays."""
    rng = random.Random(4)
    for _ in range(40):
        store(staff_world, rng, rng.randint(0, 48))
    for _ in range(10):
        store(staff_world, rng, rng.randint(60, 100))
    for _ in range(6):
        store(staff_world, rng, rng.randint(0, 48), group=TEACHER_GROUP)
    days = [d for d in range(1, 49) if (local_today() - timedelta(days=d)).weekday()]
    tuesdays = [d for d in days if (local_today() - timedelta(days=d)).weekday() == 1]
    for index in range(14):
        store(
            staff_world,
            rng,
            tuesdays[index % len(tuesdays)],
            location="plein",
            part_of_day="lunch",
        )
    return staff_world


def test_planted_playground_at_lunch_is_the_top_hotspot(seeded):
    coordinator = seeded.sign_in("coordinator")

    response = coordinator.get("/staff/insights")

    assert response.status_code == 200
    assert first_hotspot(response, "hotspots-time") == "plein:lunch"
    assert first_hotspot(response, "hotspots-day") == "plein:1"


def test_leadership_sees_the_whole_school(seeded):
    leadership = seeded.sign_in("leadership")

    response = leadership.get("/staff/insights")

    assert response.status_code == 200
    assert counted(response, "total") == recount()
    assert counted(response, f"groups:{TEACHER_GROUP}") == recount(TEACHER_GROUP)


def test_teacher_sees_only_the_counts_of_their_own_group(seeded):
    teacher = seeded.sign_in("teacher")

    response = teacher.get("/staff/insights")

    own = recount(TEACHER_GROUP)
    assert response.status_code == 200
    assert counted(response, "total") == own
    assert own < recount()
    for location in ("plein", "klas"):
        if recount(TEACHER_GROUP, location):
            assert counted(response, f"locations:{location}") == recount(
                TEACHER_GROUP, location
            )
    assert 'data-key="groups:g-3"' not in html(response)


@pytest.mark.parametrize(
    "query",
    ["group=g-3", "group=g-5&group=g-3", "group=obs-de-regenboog", "group=..%2F"],
    ids=["other-group", "repeated-parameter", "school-scope", "path-trick"],
)
def test_teacher_cannot_read_another_groups_figures_from_the_query_string(
    seeded, query
):
    teacher = seeded.sign_in("teacher")

    response = teacher.get(f"/staff/insights?{query}")

    assert response.status_code == 404
    assert 'class="current"' not in html(response)


def test_teacher_ignores_unknown_parameters_and_still_sees_only_their_group(seeded):
    teacher = seeded.sign_in("teacher")

    response = teacher.get("/staff/insights?scope=obs-de-regenboog&school=x")

    assert counted(response, "total") == recount(TEACHER_GROUP)


def test_coordinator_can_choose_one_group(seeded):
    coordinator = seeded.sign_in("coordinator")

    response = coordinator.get(f"/staff/insights?group={TEACHER_GROUP}")

    assert counted(response, "total") == recount(TEACHER_GROUP)


def test_administrator_gets_not_found(seeded):
    administrator = seeded.sign_in("administrator")

    response = administrator.get("/staff/insights")

    assert response.status_code == 404
    assert 'class="current"' not in html(response)


def test_period_longer_than_a_school_year_is_cut_to_53_weeks(seeded):
    coordinator = seeded.sign_in("coordinator")
    today = local_today()

    response = coordinator.get(
        f"/staff/insights?from={today - timedelta(days=1000)}&to={today}"
    )

    assert response.status_code == 200
    assert html(response).count('data-key="weeks:') == insights.MAX_WEEKS


def test_charts_carry_no_script_and_no_outside_address(seeded):
    coordinator = seeded.sign_in("coordinator")

    body = html(coordinator.get("/staff/insights"))

    charts = re.findall(r"<svg.*?</svg>", body, re.DOTALL)
    assert len(charts) >= 5
    for chart in charts:
        assert "<script" not in chart.lower()
        addresses = re.findall(r"https?://[^\"'\s<>]+", chart)
        assert set(addresses) <= {"http://www.w3.org/2000/svg"}
        assert "style=" not in chart


@pytest.fixture
def naughty_labels(seeded: StaffWorld) -> Iterator[list[str]]:
    """The school's labels replaced by naughty strings, restored afterwards."""
    school = School.get(SCHOOL)
    strings = [s for s in json.loads(BLNS.read_text(encoding="utf-8")) if s.strip()]
    tags = [s for s in strings if "<" in s][:6]
    original = School.get(SCHOOL)
    for index, place in enumerate(school.locations):
        place.label.nl = tags[index % len(tags)]
    for index, category in enumerate(school.categories):
        category.label.nl = tags[(index + 1) % len(tags)]
    for index, group in enumerate(school.groups):
        group.name = tags[(index + 2) % len(tags)]
    school.save()
    yield tags
    original.save()


def test_naughty_school_labels_are_escaped(seeded, naughty_labels):
    coordinator = seeded.sign_in("coordinator")

    body = html(coordinator.get("/staff/insights"))

    for text in naughty_labels:
        assert text not in body
    assert "<script" not in body.lower()
    assert any(str(escape(text)) in body for text in naughty_labels)


def _page_counts(browser: StaffBrowser) -> dict[str, object]:
    with metered() as meter:
        response = browser.get("/staff/insights")
    assert response.status_code == 200
    return meter.counts()


def test_cost_is_the_same_with_10_and_300_reports_in_the_period(staff_world):
    rng = random.Random(9)
    other = "het-baken-college"
    # Every report lands in the same three weeks and the teacher's group, so the
    # only difference between the two measurements is the number of reports.
    days = (2, 9, 16)
    browsers = {
        "coordinator": staff_world.sign_in("coordinator", other),
        "teacher": staff_world.sign_in("teacher", other),
    }
    group = staff_world.member("teacher", other).groups[0]
    school = staff_world.schools[other]

    def seed(count: int) -> None:
        for index in range(count):
            payload = random_report(school, staff_world.fake, rng, days[index % 3])
            payload["hurt"] = {
                "self": False,
                "persons": [{"name": "Sam", "group": group}],
            }
            received = now_utc() - timedelta(days=days[index % 3], hours=1)
            store_report(
                school,
                uuid.uuid4().hex,
                validate_report(payload, school),
                received=received,
            )

    seed(10)
    for browser in browsers.values():  # first requests set up clients and keys
        _page_counts(browser)
    small = {role: _page_counts(b) for role, b in browsers.items()}
    seed(290)
    large = {role: _page_counts(b) for role, b in browsers.items()}

    assert large == small
    for role in browsers:
        assert small[role]["scans"] == 0
        assert set(small[role]["operations"]) <= {"GetItem", "Query"}
