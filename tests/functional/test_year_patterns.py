"""The school-year dataset (local/yeardata.py) shows what was planted in it: the
overviews find the playground at lunch, the rising group and the repeat pupils,
and the case handling has closed and open cases, interventions and effects.

A shorter version of the year (16 weeks: the period shown and the one before)
is seeded once for the module, through the same intake and case-work code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from chalicelib import aggregates, casefigures, insights, schools
from chalicelib.access import StaffContext
from chalicelib.models import School, StaffMember
from chalicelib.weeks import local_today
from local.yeardata import (
    ORDINARY_LIMIT,
    REPEAT_REPORTS,
    RISING_START,
    PlantedPatterns,
    SchoolPatterns,
    seed_year_in_process,
    staff_context,
)
from tests.functional.conftest import fresh_aws

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

WEEKS = 16
PER_WEEK = 6
SCHOOLS = ["obs-de-regenboog", "het-baken-college"]


@pytest.fixture(scope="module")
def year() -> Iterator[PlantedPatterns]:
    with fresh_aws():
        yield seed_year_in_process(weeks=WEEKS, per_week=PER_WEEK, per_group=12)


def _coordinator(planted: PlantedPatterns, school_id: str) -> StaffContext:
    members: list[StaffMember] = planted.staff[school_id]
    return staff_context(next(m for m in members if "coordinator" in m.roles))


def _school(planted: PlantedPatterns, school_id: str) -> tuple[School, SchoolPatterns]:
    return schools.get_school(school_id), planted.schools[school_id]


def _recent(school_id: str, weeks: int = insights.DEFAULT_WEEKS) -> Counter[str]:
    """The school's counters summed over the last `weeks` weeks."""
    today = local_today()
    first = insights.week_of(today - timedelta(weeks=weeks - 1))
    summed: Counter[str] = Counter()
    for counters in aggregates.weeks_of(
        school_id, first, insights.week_of(today)
    ).values():
        summed.update(counters)
    return summed


@pytest.mark.parametrize("school_id", SCHOOLS)
def test_every_week_has_its_reports_and_the_rising_group_adds_more_each_week(
    year, school_id
):
    chosen = insights.period(None, None, local_today())
    school, planted = _school(year, school_id)

    shown = insights.overview(_coordinator(year, school_id), school, chosen)

    assert [w.previous for w in shown.weeks] == [PER_WEEK] * len(chosen.weeks)
    assert [w.current for w in shown.weeks] == [
        PER_WEEK + RISING_START + index for index in range(len(chosen.weeks))
    ]
    assert shown.total.current + shown.total.previous == planted.reports


@pytest.mark.parametrize("school_id", SCHOOLS)
def test_the_playground_at_lunch_is_the_first_hotspot_and_far_above_the_rest(
    year, school_id
):
    chosen = insights.period(None, None, local_today())
    school, planted = _school(year, school_id)

    shown = insights.overview(_coordinator(year, school_id), school, chosen)

    top = shown.place_and_time[0]
    assert (top.location, top.moment) == planted.hotspot
    cells = {
        key: count
        for key, count in _recent(school_id).items()
        if key.startswith("lp:") and key != "lp:{}:{}".format(*planted.hotspot)
    }
    assert top.count >= 2 * max(cells.values())


@pytest.mark.parametrize("school_id", SCHOOLS)
def test_the_rising_group_has_by_far_the_largest_increase(year, school_id):
    chosen = insights.period(None, None, local_today())
    school, planted = _school(year, school_id)

    shown = insights.overview(_coordinator(year, school_id), school, chosen)

    by_change = sorted(shown.groups, key=lambda trend: -trend.change)
    rising, runner_up = by_change[0], by_change[1]
    assert rising.key == planted.rising_group
    assert rising.change >= 2 * max(runner_up.change, 1)
    assert rising.percent is not None and rising.percent >= 50


@pytest.mark.parametrize("school_id", SCHOOLS)
def test_only_the_planted_pupils_show_repeat_involvement(year, school_id):
    school, planted = _school(year, school_id)

    shown = casefigures.repeat_involvement(
        _coordinator(year, school_id), school, local_today()
    )

    assert sorted(p.pupil_id for p in shown.pupils) == sorted(planted.repeat_pupils)
    for pupil in shown.pupils:
        assert pupil.hurt + pupil.did_it >= REPEAT_REPORTS
    counts = casefigures.pupil_counts([_recent(school_id)])
    ordinary = {p: hd for p, hd in counts.items() if p not in planted.repeat_pupils}
    assert ordinary, "other named pupils are linked too"
    assert max(sum(hd) for hd in ordinary.values()) <= ORDINARY_LIMIT


@pytest.mark.parametrize("school_id", SCHOOLS)
def test_cases_are_handled_like_a_coordinator_would(year, school_id):
    school, _ = _school(year, school_id)
    context = _coordinator(year, school_id)
    today = local_today()
    chosen = insights.period(None, None, today)
    whole_year = insights.period(today - timedelta(weeks=WEEKS - 1), today, today)

    handling = casefigures.handling(context, school, chosen, today)
    effects = casefigures.intervention_effects(context, school, whole_year, today)
    whole = _recent(school_id, weeks=WEEKS)

    assert whole["status:closed"] > whole["status:new"] > 0
    assert whole["status:follow_up"] > 0
    assert 0 < handling.open_total < whole["total"]
    assert handling.acted > 0 and handling.median_hours is not None
    assert 1 <= handling.median_hours <= 72
    assert handling.overdue
    assert sum(row.interventions for row in effects.rows) > 0
    assert {e for row in effects.rows for e in row.effects} == {
        "stopped",
        "less",
        "unchanged",
        "worse",
    }
