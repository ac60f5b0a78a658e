"""Receipt codes and school weeks: pure functions, no AWS."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.receipts import (
    keyed_hash,
    normalise_receipt,
    receipt_code,
    receipt_hash,
)
from chalicelib.weeks import iso_week, local_today, week_bounds

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SCHOOL = "obs-de-regenboog"
KEY = "0f8e2d4c6b1a49d7a3e5c7b9d1f3a5c7"
CODE_SHAPE = re.compile(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}")


def amsterdam(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=AMSTERDAM)


# Receipt codes


@pytest.mark.parametrize(
    "key", [KEY, "a" * 16, "Z" * 100, "sleutel_met-streep"], ids=repr
)
def test_receipt_code_is_four_groups_of_four_base32_characters(key):
    assert CODE_SHAPE.fullmatch(receipt_code(SCHOOL, key))


def test_receipt_code_is_the_same_for_the_same_school_and_key():
    assert receipt_code(SCHOOL, KEY) == receipt_code(SCHOOL, KEY)


def test_receipt_code_differs_per_key():
    codes = {receipt_code(SCHOOL, f"{KEY[:-2]}{n:02d}") for n in range(50)}

    assert len(codes) == 50


def test_receipt_code_differs_per_school():
    assert receipt_code(SCHOOL, KEY) != receipt_code("het-baken-college", KEY)


def test_receipt_code_cannot_be_made_from_school_and_key_joined_differently():
    # The parts are separated, so "ab" + "c" is not "a" + "bc".
    assert receipt_code("obs-a", "b" * 16) != receipt_code("obs-ab", "b" * 15)


def test_receipt_code_holds_no_characters_people_confuse():
    codes = "".join(receipt_code(SCHOOL, f"{KEY[:-3]}{n:03d}") for n in range(200))

    assert not set(codes) & set("0189")


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code,
        lambda code: code.lower(),
        lambda code: code.replace("-", " "),
        lambda code: code.replace("-", ""),
        lambda code: f"  {code.lower().replace('-', '  ')}  ",
        lambda code: code.replace("O", "0").replace("I", "1").replace("B", "8"),
        lambda code: code.replace("-", "–"),
    ],
    ids=[
        "as-shown",
        "lower-case",
        "spaces",
        "run-together",
        "padded",
        "digits-for-letters",
        "en-dashes",
    ],
)
def test_receipt_code_as_typed_normalises_to_the_code(typed):
    for n in range(20):
        code = receipt_code(SCHOOL, f"{KEY[:-2]}{n:02d}")

        assert normalise_receipt(typed(code)) == code
        assert receipt_hash(SCHOOL, typed(code)) == receipt_hash(SCHOOL, code)


def test_receipt_hash_reveals_neither_code_nor_school():
    code = receipt_code(SCHOOL, KEY)

    hashed = receipt_hash(SCHOOL, code)

    assert re.fullmatch(r"[0-9a-f]{40}", hashed)
    assert code.replace("-", "").lower() not in hashed
    assert receipt_hash("het-baken-college", code) != hashed


def test_keyed_hash_depends_on_purpose():
    assert keyed_hash("client", "192.0.2.1") != keyed_hash("intake", "192.0.2.1")
    assert keyed_hash("client", "192.0.2.1") == keyed_hash("client", "192.0.2.1")


# School weeks


@pytest.mark.parametrize(
    ("sunday", "monday", "weeks"),
    [
        (amsterdam(2026, 1, 11, 23, 59), amsterdam(2026, 1, 12), ("W02", "W03")),
        (amsterdam(2026, 7, 12, 23, 59), amsterdam(2026, 7, 13), ("W28", "W29")),
        (amsterdam(2026, 3, 29, 23, 59), amsterdam(2026, 3, 30), ("W13", "W14")),
        (amsterdam(2026, 10, 25, 23, 59), amsterdam(2026, 10, 26), ("W43", "W44")),
    ],
    ids=["winter", "summer", "clocks-forward-sunday", "clocks-back-sunday"],
)
def test_sunday_night_and_monday_midnight_are_different_weeks(sunday, monday, weeks):
    assert iso_week(sunday.astimezone(UTC)) == f"2026-{weeks[0]}"
    assert iso_week(monday.astimezone(UTC)) == f"2026-{weeks[1]}"


@pytest.mark.parametrize(
    ("instant", "week"),
    [
        (datetime(2026, 1, 11, 23, 30, tzinfo=UTC), "2026-W03"),
        (datetime(2026, 7, 12, 22, 30, tzinfo=UTC), "2026-W29"),
    ],
    ids=["winter-23-30-utc", "summer-22-30-utc"],
)
def test_week_follows_amsterdam_not_utc(instant, week):
    assert instant.weekday() == 6  # still Sunday in UTC
    assert iso_week(instant) == week


@pytest.mark.parametrize(
    ("instant", "week"),
    [
        (amsterdam(2026, 12, 31, 12), "2026-W53"),
        (amsterdam(2027, 1, 3, 23, 59), "2026-W53"),
        (amsterdam(2027, 1, 4, 0, 0), "2027-W01"),
        (amsterdam(2025, 12, 29, 0, 0), "2026-W01"),
    ],
    ids=["new-years-eve", "last-sunday", "first-monday", "week-1-starts-in-december"],
)
def test_iso_week_year_is_not_the_calendar_year(instant, week):
    assert iso_week(instant) == week


@pytest.mark.parametrize(
    ("week", "hours"),
    [
        ("2026-W02", 168),
        ("2026-W13", 167),
        ("2026-W43", 169),
        ("2026-W53", 168),
        ("2027-W01", 168),
    ],
    ids=["ordinary", "clocks-forward", "clocks-back", "week-53", "first-week"],
)
def test_week_bounds_are_monday_midnights_in_amsterdam(week, hours):
    start, end = week_bounds(week)

    assert start.tzinfo == UTC
    assert end - start == timedelta(hours=hours)
    for bound in (start, end):
        local = bound.astimezone(AMSTERDAM)
        assert (local.weekday(), local.hour, local.minute) == (0, 0, 0)
    assert iso_week(start) == week
    assert iso_week(end - timedelta(microseconds=1)) == week
    assert iso_week(end) != week


def test_every_instant_falls_within_the_bounds_of_its_week():
    instant = datetime(2025, 12, 1, 0, 17, tzinfo=UTC)
    for _ in range(500):
        instant += timedelta(hours=7, minutes=13)

        start, end = week_bounds(iso_week(instant))

        assert start <= instant < end


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        (datetime(2026, 1, 11, 22, 59, tzinfo=UTC), "2026-01-11"),
        (datetime(2026, 1, 11, 23, 0, tzinfo=UTC), "2026-01-12"),
        (datetime(2026, 7, 12, 22, 0, tzinfo=UTC), "2026-07-13"),
    ],
    ids=["winter-before-midnight", "winter-midnight", "summer-midnight"],
)
def test_local_today_is_the_amsterdam_date(instant, day):
    assert local_today(instant).isoformat() == day
