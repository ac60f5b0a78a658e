"""School time: ISO weeks and dates in Europe/Amsterdam."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SCHOOL_TZ = ZoneInfo("Europe/Amsterdam")


def now_utc() -> datetime:
    return datetime.now(UTC)


def local_today(instant: datetime | None = None) -> date:
    return (instant or now_utc()).astimezone(SCHOOL_TZ).date()


def iso_week(instant: datetime) -> str:
    """The Amsterdam ISO week an instant falls in, e.g. "2026-W49"."""
    year, week, _ = instant.astimezone(SCHOOL_TZ).isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week: str) -> tuple[datetime, datetime]:
    """UTC instants [start, end) of an Amsterdam ISO week such as "2026-W49"."""
    year, number = week.split("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    start = datetime.combine(monday, time.min, SCHOOL_TZ)
    end = datetime.combine(monday + timedelta(days=7), time.min, SCHOOL_TZ)
    return start.astimezone(UTC), end.astimezone(UTC)
