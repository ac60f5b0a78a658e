"""Period, trend and hotspot arithmetic of the insights page."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from chalicelib.insights import (
    DEFAULT_WEEKS,
    MAX_WEEKS,
    Hotspot,
    Trend,
    hotspots,
    period,
    period_from_query,
    trends,
)

TODAY = date(2026, 12, 3)  # a Thursday in 2026-W49
PARTS = ("morning", "break", "lunch", "afternoon")
PLACES = ("klas", "plein", "gang", "gym")


def test_default_period_is_the_last_eight_weeks_and_the_eight_before():
    chosen = period(None, None, TODAY)

    assert len(chosen.weeks) == DEFAULT_WEEKS
    assert chosen.weeks[0] == "2026-W42"
    assert chosen.weeks[-1] == "2026-W49"
    assert chosen.previous == tuple(f"2026-W{n}" for n in range(34, 42))
    assert (chosen.start, chosen.end) == (date(2026, 10, 12), date(2026, 12, 6))


def test_period_across_new_year_keeps_iso_weeks_in_order():
    chosen = period(date(2026, 12, 21), date(2027, 1, 6), date(2027, 1, 6))

    assert chosen.weeks == ("2026-W52", "2026-W53", "2027-W01")
    assert chosen.previous == ("2026-W49", "2026-W50", "2026-W51")


def test_period_longer_than_a_school_year_keeps_its_last_53_weeks():
    chosen = period(date(2020, 1, 1), TODAY, TODAY)

    assert len(chosen.weeks) == MAX_WEEKS
    assert len(chosen.previous) == MAX_WEEKS
    assert chosen.weeks[-1] == "2026-W49"


def test_reversed_dates_are_swapped_and_the_future_is_cut_at_today():
    chosen = period(date(2027, 3, 1), date(2026, 11, 30), TODAY)

    assert chosen.weeks == ("2026-W49",)


@pytest.mark.parametrize(
    "query",
    [{"from": "not a date"}, {"from": "2026-02-30"}, {"from": "2026-10-12" * 50}],
    ids=["text", "impossible-day", "too-long"],
)
def test_unreadable_dates_fall_back_to_the_default(query):
    assert period_from_query(query, TODAY) == period(None, None, TODAY)


@pytest.mark.parametrize(
    ("current", "previous", "change", "percent"),
    [(6, 4, 2, 50), (2, 4, -2, -50), (3, 3, 0, 0), (5, 0, 5, None), (0, 3, -3, -100)],
    ids=["rise", "fall", "same", "new", "gone"],
)
def test_trend_is_change_and_percent_against_the_period_before(
    current, previous, change, percent
):
    trend = Trend("cat:pesten", current, previous)

    assert trend.change == change
    assert trend.percent == percent


def test_trends_list_keys_of_either_period_most_reports_first():
    current = Counter({"cat:pesten": 5, "cat:online": 7, "loc:plein": 9})
    previous = Counter({"cat:pesten": 2, "cat:diefstal": 4})

    result = trends(current, previous, "cat")

    assert result == [
        Trend("online", 7, 0),
        Trend("pesten", 5, 2),
        Trend("diefstal", 0, 4),
    ]


def test_trends_in_a_fixed_order_include_zeros():
    result = trends(Counter({"dow:2": 3}), Counter(), "dow", ["0", "1", "2"])

    assert [(t.key, t.current) for t in result] == [("0", 0), ("1", 0), ("2", 3)]


def _cells(**counts: int) -> Counter[str]:
    return Counter({f"lp:{k.replace('__', ':')}": v for k, v in counts.items()})


def test_cell_with_three_reports_and_twice_the_average_is_a_hotspot():
    # 16 possible cells, 8 reports: average 0.5, so the bar is 3 reports.
    current = _cells(plein__lunch=3, klas__morning=2, gang__break=2, gym__afternoon=1)

    found = hotspots(current, Counter({"lp:plein:lunch": 1}), "lp", PLACES, PARTS)

    assert found == [Hotspot("plein", "lunch", 3, 1, 0.5)]
    assert found[0].times_average == 6.0


def test_two_reports_are_never_a_hotspot_however_quiet_the_rest():
    current = _cells(plein__lunch=2)

    assert hotspots(current, Counter(), "lp", PLACES, PARTS) == []


def test_evenly_spread_reports_make_no_hotspot():
    current = Counter({f"lp:{p}:{m}": 4 for p in PLACES for m in PARTS})

    assert hotspots(current, Counter(), "lp", PLACES, PARTS) == []


def test_hotspot_needs_twice_the_average_not_just_the_most():
    # 16 cells, 64 reports: average 4, so a hotspot needs 8 reports.
    current = Counter({f"lp:{p}:{m}": 4 for p in PLACES for m in PARTS})
    current["lp:plein:lunch"] = 7
    current["lp:klas:morning"] = 1

    assert hotspots(current, Counter(), "lp", PLACES, PARTS) == []


def test_hotspots_are_ordered_by_reports_and_count_unconfigured_places():
    current = _cells(plein__lunch=6, gang__break=9, aula__lunch=5)

    found = hotspots(current, Counter(), "lp", PLACES, PARTS)

    # "aula" is no longer configured but was counted: 5 places x 4 parts.
    assert [(h.location, h.moment) for h in found] == [
        ("gang", "break"),
        ("plein", "lunch"),
        ("aula", "lunch"),
    ]
    assert found[0].average == 1.0


def test_location_ids_with_colons_keep_the_moment_apart():
    current = Counter({"ld:bus:halte:1": 5})

    [found] = hotspots(current, Counter(), "ld", ["bus:halte"], "0123456")

    assert (found.location, found.moment) == ("bus:halte", "1")
