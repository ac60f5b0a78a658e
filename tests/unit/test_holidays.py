"""The national holiday calendar and a school's own changes to it, without AWS."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from chalicelib import holidays
from chalicelib.models import Holiday, School

NAMES = {"herfst", "kerst", "voorjaar", "mei", "zomer"}
SCHOOL_YEARS = (2025, 2026, 2027)


def school(region: str = "midden", *own: tuple[str, str, str]) -> School:
    return School(
        "obs-test",
        name="OBS Test",
        kind="primary",
        region="eu-central-1",
        holiday_region=region,
        holidays=[Holiday(name=n, first_day=f, last_day=t) for n, f, t in own],
    )


@pytest.mark.parametrize("region", holidays.REGIONS)
def test_every_region_has_the_five_holidays_of_each_school_year(region: str) -> None:
    periods = holidays.national_holidays(region)

    per_year = Counter(p.school_year for p in periods)
    names = {(p.school_year, p.name) for p in periods}

    assert per_year == dict.fromkeys(SCHOOL_YEARS, 5)
    assert names == {(year, name) for year in SCHOOL_YEARS for name in NAMES}


@pytest.mark.parametrize("region", holidays.REGIONS)
def test_national_holidays_run_from_saturday_to_sunday(region: str) -> None:
    for period in holidays.national_holidays(region):
        assert period.first_day.isoweekday() == 6, period
        assert period.last_day.isoweekday() == 7, period
        assert period.first_day < period.last_day


def test_kerst_and_mei_are_the_same_in_every_region() -> None:
    def shared(region: str) -> set[holidays.Period]:
        return {
            p for p in holidays.national_holidays(region) if p.name in {"kerst", "mei"}
        }

    assert shared("noord") == shared("midden") == shared("zuid")
    assert len(shared("midden")) == 2 * len(SCHOOL_YEARS)


def test_regions_differ_in_their_autumn_holiday() -> None:
    week = "2026-W42"  # 12-16 October 2026: herfst in zuid only

    flags = {r: holidays.is_holiday_week(school(r), week) for r in holidays.REGIONS}

    assert flags == {"noord": False, "midden": False, "zuid": True}


@pytest.mark.parametrize(
    ("week", "expected"),
    [
        pytest.param("2026-W52", True, id="first-week-of-kerst"),
        pytest.param("2026-W53", True, id="second-week-of-kerst"),
        pytest.param("2027-W01", False, id="week-after-kerst"),
        pytest.param("2026-W51", False, id="week-before-kerst"),
        pytest.param("2026-W43", True, id="herfst-midden"),
        pytest.param("2027-W30", True, id="zomer-midden"),
    ],
)
def test_holiday_week_of_a_school_in_midden(week: str, expected: bool) -> None:
    assert holidays.is_holiday_week(school("midden"), week) is expected


def test_a_week_with_one_school_day_left_is_not_a_holiday_week() -> None:
    # Monday 12 to Thursday 15 October 2026 off, Friday a school day.
    partly = school("midden", ("studiedagen", "2026-10-12", "2026-10-15"))

    assert holidays.is_holiday_week(partly, "2026-W42") is False


def test_school_days_covered_by_two_holidays_make_a_holiday_week() -> None:
    # A study day on Friday 16 October, the day before midden's herfst starts,
    # and the school moved the start of its herfst to Monday.
    joined = school(
        "midden",
        ("herfst", "2026-10-12", "2026-10-15"),
        ("studiedag", "2026-10-16", "2026-10-16"),
    )

    assert holidays.is_holiday_week(joined, "2026-W42") is True


def test_own_holiday_with_a_national_name_replaces_it_in_that_school_year() -> None:
    moved = school("midden", ("Herfst", "2026-10-10", "2026-10-18"))

    periods = holidays.effective_holidays(moved)

    herfst = [p for p in periods if p.name == "herfst"]
    assert [(p.first_day, p.last_day) for p in herfst] == [
        (date(2025, 10, 18), date(2025, 10, 26)),
        (date(2026, 10, 10), date(2026, 10, 18)),
        (date(2027, 10, 16), date(2027, 10, 24)),
    ]
    assert holidays.is_holiday_week(moved, "2026-W42") is True
    assert holidays.is_holiday_week(moved, "2026-W43") is False


def test_own_holiday_with_another_name_is_added() -> None:
    added = school("noord", ("studiedagen", "2026-11-23", "2026-11-27"))

    periods = holidays.effective_holidays(added)

    assert len(periods) == len(holidays.national_holidays("noord")) + 1
    assert holidays.is_holiday_week(added, "2026-W48") is True
    assert holidays.is_holiday_week(school("noord"), "2026-W48") is False


def test_unknown_region_falls_back_to_midden() -> None:
    assert holidays.national_holidays("west") == holidays.national_holidays("midden")
