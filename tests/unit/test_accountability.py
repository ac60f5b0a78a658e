"""Suppression, periods and file safety of the accountability report.

The suppression rules are checked against a reader who knows the published
meaning of every mark ("<5" is 1 to 4, "x" is 5 or more, or anything in a
withheld table) and the total, and works out every value each hidden cell
could have. No small count may come out as one value.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.accountability import (
    HIDDEN,
    MAX_WEEKS,
    SMALL,
    SMALL_MAX,
    Table,
    current_school_year,
    month_of,
    period,
    period_from_query,
    school_years,
    suppress,
    week_of,
)
from chalicelib.accountability_files import latin1, neutralised

TODAY = date(2026, 12, 3)  # a Thursday in 2026-W49, school year 2026-2027


def _possible_values(table: Table) -> list[set[int]]:
    """Every value each cell could have, given what the table shows.

    Brute force over sets of sums, independent of the rule suppress() applies.
    """
    if table.total_shown == SMALL:
        totals = set(range(1, SMALL_MAX + 1))
    else:
        totals = {int(table.total_shown)}
    ceiling = max(totals)

    def options(shown: str) -> set[int]:
        if table.withheld:
            return set(range(ceiling + 1))
        if shown == SMALL:
            return set(range(1, SMALL_MAX + 1))
        if shown == HIDDEN:
            return set(range(SMALL_MAX + 1, ceiling + 1))
        return {int(shown)}

    cells = [options(cell.shown) for cell in table.cells]
    result = []
    for index, own in enumerate(cells):
        sums = {0}
        for other, values in enumerate(cells):
            if other != index:
                sums = {s + v for s in sums for v in values if s + v <= ceiling}
        result.append({v for v in own if any(v + s in totals for s in sums)})
    return result


rows_strategy = st.lists(
    st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 12)), min_size=1, max_size=7
)


@settings(max_examples=400, deadline=None)
@given(rows_strategy)
def test_no_small_count_can_be_worked_out_from_the_total(rows):
    table = suppress(rows)

    possible = _possible_values(table)

    for cell, values in zip(table.cells, possible, strict=True):
        assert cell.count in values  # the reader's model holds the truth
        if 1 <= cell.count <= SMALL_MAX:
            assert len(values) >= 2, (rows, table)


@settings(max_examples=400, deadline=None)
@given(rows_strategy)
def test_a_shown_total_never_leaves_exactly_one_cell_hidden(rows):
    table = suppress(rows)

    hidden = table.hidden

    if table.total_shown.isdigit():
        assert len(hidden) != 1
        if len(hidden) >= 2:
            shown_sum = sum(int(c.shown) for c in table.cells if c.shown.isdigit())
            assert table.total - shown_sum == sum(c.count for c in hidden)


@settings(max_examples=400, deadline=None)
@given(rows_strategy)
def test_every_mark_tells_the_truth(rows):
    table = suppress(rows)

    assert table.total == sum(count for _, count in rows)
    assert [c.key for c in table.cells] == [key for key, _ in rows]
    for cell in table.cells:
        if cell.shown == SMALL:
            assert 1 <= cell.count <= SMALL_MAX
        elif cell.shown == HIDDEN:
            assert table.withheld or cell.count > SMALL_MAX
        else:
            assert cell.shown == str(cell.count)
    if table.withheld:
        assert {c.shown for c in table.cells} == {HIDDEN}


@pytest.mark.parametrize(
    ("counts", "shown", "total"),
    [
        pytest.param([0, 7, 12], ["0", "7", "12"], "19", id="nothing-small"),
        pytest.param([3, 10, 20], [SMALL, HIDDEN, "20"], "33", id="one-small-one-more"),
        pytest.param([3, 2, 20], [SMALL, SMALL, "20"], "25", id="two-small-suffice"),
        pytest.param([1, 1, 20], [SMALL, SMALL, HIDDEN], "22", id="two-ones-known"),
        pytest.param([4, 4, 20], [SMALL, SMALL, HIDDEN], "28", id="two-fours-known"),
        pytest.param([2, 0], [SMALL, "0"], SMALL, id="small-total"),
        pytest.param([0, 0], ["0", "0"], "0", id="zero"),
        pytest.param([1, 5], [HIDDEN, HIDDEN], "6", id="withheld"),
        pytest.param([1, 1, 1, 1], [HIDDEN] * 4, SMALL, id="withheld-small-total"),
    ],
)
def test_suppression_examples(counts, shown, total):
    table = suppress([(f"c{i}", count) for i, count in enumerate(counts)])

    assert [c.shown for c in table.cells] == shown
    assert table.total_shown == total


def test_secondary_suppression_takes_the_smallest_count_still_shown():
    table = suppress([("a", 30), ("b", 2), ("c", 9), ("d", 11)])

    assert [c.shown for c in table.cells] == ["30", SMALL, HIDDEN, "11"]


def test_negative_counts_are_refused():
    with pytest.raises(ValueError, match="negative"):
        suppress([("a", -1)])


def test_a_school_year_is_the_weeks_whose_thursday_falls_in_it():
    chosen = period_from_query({"year": "2025-2026"}, TODAY)

    assert chosen.school_year == "2025-2026"
    assert chosen.weeks[0] == "2025-W32"  # Thursday 7 August 2025
    assert chosen.weeks[-1] == "2026-W31"  # Thursday 30 July 2026
    assert len(chosen.weeks) == 52
    assert chosen.months[0] == "2025-08"
    assert chosen.months[-1] == "2026-07"
    assert len(chosen.months) == 12


def test_consecutive_school_years_share_no_week():
    one = period_from_query({"year": "2024-2025"}, TODAY)
    two = period_from_query({"year": "2025-2026"}, TODAY)

    assert not set(one.weeks) & set(two.weeks)
    assert one.weeks[-1] < two.weeks[0]


def test_this_school_year_stops_at_this_week():
    chosen = period_from_query({}, TODAY)

    assert chosen.school_year == "2026-2027"
    assert chosen.weeks[0] == "2026-W32"
    assert chosen.weeks[-1] == "2026-W49"


@pytest.mark.parametrize(
    ("week", "month"),
    [
        ("2025-W31", "2025-07"),  # Thursday 31 July 2025
        ("2025-W32", "2025-08"),
        ("2026-W01", "2026-01"),  # Monday 29 December 2025, Thursday 1 January
        ("2020-W53", "2020-12"),  # Thursday 31 December 2020
        ("2026-W05", "2026-01"),  # Thursday 29 January, Sunday 1 February
    ],
)
def test_a_week_counts_in_the_month_of_its_thursday(week, month):
    assert month_of(week) == month


@pytest.mark.parametrize(
    "params",
    [
        {"year": "2025-2027"},
        {"year": "2030-2031"},
        {"year": "1999-2000"},
        {"year": "x" * 5000},
        {"from": "2026-13-01", "to": "2026-02-01"},
        {"from": "2026-01-01"},
    ],
    ids=["not-consecutive", "future", "too-old", "long", "bad-date", "half-period"],
)
def test_unreadable_choice_falls_back_to_this_school_year(params):
    assert period_from_query(params, TODAY).school_year == current_school_year(TODAY)


def test_a_period_of_dates_keeps_its_dates_and_the_weeks_of_their_thursdays():
    chosen = period_from_query({"from": "2026-01-01", "to": "2026-03-31"}, TODAY)

    assert chosen.school_year is None
    assert chosen.name == "2026-01-01_2026-03-31"
    assert chosen.weeks[0] == "2026-W01"
    assert chosen.weeks[-1] == "2026-W13"  # Thursday 26 March


def test_a_long_period_keeps_its_last_weeks_only():
    chosen = period(date(2020, 1, 1), TODAY, TODAY)

    assert len(chosen.weeks) == MAX_WEEKS
    assert chosen.weeks[-1] == "2026-W49"
    assert chosen.first_day == date(2025, 12, 1)  # the Monday of 2025-W49


def test_a_period_without_a_thursday_has_no_weeks():
    assert period(date(2026, 1, 2), date(2026, 1, 4), TODAY).weeks == ()


@pytest.mark.parametrize(
    ("today", "year"),
    [
        (date(2027, 8, 1), "2026-2027"),  # a Sunday: its week's Thursday is 29 July
        (date(2027, 8, 2), "2027-2028"),  # the Monday after
        (date(2026, 7, 31), "2025-2026"),  # a Friday: its week's Thursday is 30 July
    ],
)
def test_this_school_year_is_the_one_this_weeks_thursday_is_in(today, year):
    assert current_school_year(today) == year
    assert period_from_query({}, today).school_year == year
    assert period_from_query({}, today).weeks[-1] == week_of(today)


def test_school_years_offered_start_with_this_one():
    assert school_years(TODAY)[:2] == ["2026-2027", "2025-2026"]


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("x")', "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"],
)
def test_text_a_spreadsheet_would_run_is_neutralised(text):
    assert neutralised(text) == "'" + text


@pytest.mark.parametrize("text", ["Pesten", "<5", "12", "Schoolplein", "a=b"])
def test_plain_text_is_left_alone(text):
    assert neutralised(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café en plein", "Café en plein"),
        ("Fietsenstalling – achter", "Fietsenstalling - achter"),
        ("Łódź", "Lódz"),  # ó is Latin-1, Ł and ź are not
        ("Online 😀", "Online ?"),
        ("“quoted”", '"quoted"'),
    ],
)
def test_pdf_text_falls_back_to_latin1(text, expected):
    assert latin1(text) == expected
