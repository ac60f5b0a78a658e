"""Pattern overviews: counts per dimension for a period, their trend against the
period before, and hotspots of place and time.

Reads only the weekly counters (`aggregates.weeks_of`): one Query per scope that
covers both periods, so the cost follows the number of weeks shown and never the
number of reports stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib import aggregates
from chalicelib.access import StaffContext
from chalicelib.errors import NotFound
from chalicelib.i18n import both
from chalicelib.models import School
from chalicelib.validation import PARTS_OF_DAY

DEFAULT_WEEKS = 8
# One school year at most: a longer period is cut to its last 53 weeks, so one
# page never reads more than 2 x 53 items per scope, however wide the request.
MAX_WEEKS = 53
# A date parameter longer than an ISO date is refused before parsing.
MAX_DATE_CHARS = 10

HOTSPOT_MIN_REPORTS = 3
HOTSPOT_FACTOR = 2
WEEKDAYS = tuple(str(day) for day in range(7))


def week_of(day: date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Period:
    """Whole ISO weeks from the Monday of `start` to the Sunday of `end`'s week,
    and the same number of weeks right before them."""

    start: date
    end: date
    weeks: tuple[str, ...]
    previous: tuple[str, ...]


def parse_day(text: str | None) -> date | None:
    if not text or len(text) > MAX_DATE_CHARS:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def period(start: date | None, end: date | None, today: date) -> Period:
    """The period asked for; by default the last DEFAULT_WEEKS weeks up to today.

    No week after today's is shown: future weeks have no reports.
    """
    end = min(end or today, today)
    if start is None:
        start = end - timedelta(weeks=DEFAULT_WEEKS - 1)
    start = min(start, today)
    if start > end:
        start, end = end, start

    first, last = _monday(start), _monday(end)
    count = (last - first).days // 7 + 1
    if count > MAX_WEEKS:
        first, count = last - timedelta(weeks=MAX_WEEKS - 1), MAX_WEEKS

    weeks = tuple(week_of(first + timedelta(weeks=i)) for i in range(count))
    previous = tuple(week_of(first - timedelta(weeks=count - i)) for i in range(count))
    return Period(first, last + timedelta(days=6), weeks, previous)


def period_from_query(params: Mapping[str, str], today: date) -> Period:
    """Unreadable dates fall back to the default, as an empty field would."""
    return period(parse_day(params.get("from")), parse_day(params.get("to")), today)


@dataclass(frozen=True)
class Trend:
    """One figure in this period against the period before of equal length."""

    key: str
    current: int
    previous: int

    @property
    def change(self) -> int:
        return self.current - self.previous

    @property
    def percent(self) -> int | None:
        """Change in whole percent; None when the period before had none."""
        if self.previous == 0:
            return None
        return round(100 * self.change / self.previous)


def trends(
    current: Counter[str],
    previous: Counter[str],
    prefix: str,
    order: Iterable[str] | None = None,
) -> list[Trend]:
    """Trends of the counters "<prefix>:<key>" seen in either period.

    With `order`, exactly those keys in that order (zeros included); otherwise
    the keys seen, most reports first.
    """
    start = f"{prefix}:"
    if order is not None:
        keys = list(order)
    else:
        seen = {k[len(start) :] for k in (*current, *previous) if k.startswith(start)}
        keys = sorted(
            seen, key=lambda k: (-current[start + k], -previous[start + k], k)
        )
    return [Trend(k, current[start + k], previous[start + k]) for k in keys]


@dataclass(frozen=True)
class Hotspot:
    location: str
    moment: str  # a part of the day, or a weekday (Monday "0")
    count: int
    previous: int
    average: float  # reports per cell in this period

    @property
    def times_average(self) -> float:
        return round(self.count / self.average, 1)


def hotspots(
    current: Counter[str],
    previous: Counter[str],
    prefix: str,
    locations: Iterable[str],
    moments: Iterable[str],
) -> list[Hotspot]:
    """Combinations of a location and a moment that stand out, most reports first.

    A cell ("lp:<location>:<part of day>" or "ld:<location>:<weekday>") stands out
    when it holds at least HOTSPOT_MIN_REPORTS reports and at least HOTSPOT_FACTOR
    times the average cell. The average is taken over every possible cell: each
    location of the school (and any other one counted) times each moment, so a
    quiet school's scattered reports never make a hotspot, while one corner
    where most reports land does.
    """
    start = f"{prefix}:"
    cells = {
        tuple(k[len(start) :].rsplit(":", 1)): v
        for k, v in current.items()
        if k.startswith(start) and v > 0
    }
    places = set(locations) | {location for location, _ in cells}
    possible = len(places) * len(set(moments))
    if not cells or not possible:
        return []

    average = sum(cells.values()) / possible
    threshold = max(HOTSPOT_MIN_REPORTS, HOTSPOT_FACTOR * average)
    found = [
        Hotspot(
            location, moment, count, previous[f"{start}{location}:{moment}"], average
        )
        for (location, moment), count in cells.items()
        if count >= threshold
    ]
    return sorted(found, key=lambda h: (-h.count, h.location, h.moment))


@dataclass(frozen=True)
class Overview:
    period: Period
    group: str | None  # the one group chosen, if any
    whole_school: bool
    total: Trend
    weeks: list[Trend]
    categories: list[Trend]
    locations: list[Trend]
    weekdays: list[Trend]
    parts_of_day: list[Trend]
    groups: list[Trend]
    place_and_time: list[Hotspot]
    place_and_day: list[Hotspot]


def readable_scopes(
    context: StaffContext, school: School, group: str | None
) -> dict[str, str | None]:
    """The aggregate scopes this staff member may read: scope -> its group.

    Coordinators, deputies and leadership read the school scope, or any one
    group of the school; a teacher reads only the scopes of their own groups,
    whatever the query string asks. A group outside one's reach answers 404,
    like one that does not exist.
    """
    school_id = context.school_id
    own = [str(g) for g in context.member.groups]
    allowed = [g.id for g in school.groups] if context.reads_all else own
    if group is not None:
        if group not in allowed:
            raise NotFound(both("This page does not exist."))
        return {f"{school_id}#group#{group}": group}
    if context.reads_all:
        return {school_id: None}
    return {f"{school_id}#group#{g}": g for g in own}


def overview(
    context: StaffContext, school: School, chosen: Period, group: str | None = None
) -> Overview:
    """Figures of the period for what this staff member may see.

    A teacher of several groups sees the sum of their groups' counters. The
    counters are kept per group and cannot tell overlaps apart, so a report
    touching two of their groups counts once in each: their total can exceed
    the number of distinct reports about their groups.
    """
    scopes = readable_scopes(context, school, group)
    current: Counter[str] = Counter()
    previous: Counter[str] = Counter()
    per_week: Counter[str] = Counter()
    per_group: dict[str, Trend] = {}
    for scope, scope_group in scopes.items():
        weeks = aggregates.weeks_of(scope, chosen.previous[0], chosen.weeks[-1])
        now = _sum(weeks, chosen.weeks)
        before = _sum(weeks, chosen.previous)
        current.update(now)
        previous.update(before)
        per_week.update({week: weeks[week]["total"] for week in weeks})
        if scope_group is not None:
            per_group[scope_group] = Trend(scope_group, now["total"], before["total"])

    whole_school = school.school_id in scopes
    return Overview(
        period=chosen,
        group=group,
        whole_school=whole_school,
        total=Trend("total", current["total"], previous["total"]),
        weeks=[
            Trend(week, per_week[week], per_week[before])
            for week, before in zip(chosen.weeks, chosen.previous, strict=True)
        ],
        categories=trends(current, previous, "cat"),
        locations=trends(current, previous, "loc"),
        weekdays=trends(current, previous, "dow", WEEKDAYS),
        parts_of_day=trends(current, previous, "pod", PARTS_OF_DAY),
        groups=(
            trends(current, previous, "grp")
            if whole_school
            else sorted(per_group.values(), key=lambda t: (-t.current, t.key))
        ),
        place_and_time=hotspots(
            current, previous, "lp", _locations(school), PARTS_OF_DAY
        ),
        place_and_day=hotspots(current, previous, "ld", _locations(school), WEEKDAYS),
    )


def _locations(school: School) -> list[str]:
    return [place.id for place in school.locations]


def _sum(weeks: Mapping[str, Counter[str]], chosen: Iterable[str]) -> Counter[str]:
    total: Counter[str] = Counter()
    for week in chosen:
        total.update(weeks.get(week, Counter()))
    return total
