"""The class round (klassenronde): one group's state for the four-weekly meeting of
leadership and the coordinator, since the last round.

Every read is bounded, whatever the size of the school's history: one Query of the
group's report pointers in the period (at most MAX_REPORTS) and one BatchGet of
those reports; one Query of the group's weekly counters for the period and the
period before; one GetItem of its open cases; one BatchGet of the pupils shown.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from chalicelib import aggregates, insights
from chalicelib.cases import ListFilter
from chalicelib.errors import NotFound
from chalicelib.i18n import both
from chalicelib.models import Pupil, Report, ReportIndex, School
from chalicelib.reports import group_scope

DEFAULT_DAYS = 28  # the round is held every four weeks
# The period reaches back one school year at most: insights.period keeps the
# figures to 53 weeks, and the report list stops at MAX_REPORTS anyway.
MAX_DAYS = 7 * insights.MAX_WEEKS
# The newest reports of the period shown; a group with more in one period is
# told so on the page, and the report list (filtered by group) shows the rest.
MAX_REPORTS = 200
# Open cases received longer ago than this are counted apart: they need a look.
OLD_CASE_WEEKS = 4
# Pupils named on one sheet; a group has about thirty, so this only bounds a
# BatchGet against a threshold set very low.
MAX_PUPILS = 100
DEFAULT_THRESHOLD = 3


@dataclass(frozen=True)
class RepeatPupil:
    """A pupil linked to at least the threshold of the group's reports."""

    pupil_id: str
    name: str | None  # None when the pupil is no longer in the roster
    hurt: int
    did_it: int


@dataclass(frozen=True)
class ClassRound:
    group_id: str
    group_name: str
    since: date
    today: date
    period: insights.Period  # whole weeks of receipt covering since..today
    reports: list[Report]  # newest first, without reports removed as spam or test
    truncated: bool  # more than MAX_REPORTS pointers in the period
    total: insights.Trend
    categories: list[insights.Trend]
    locations: list[insights.Trend]
    open_cases: int
    open_older: int  # open cases received before the week `old_before`
    old_before: str  # the ISO week OLD_CASE_WEEKS weeks before today's
    threshold: int
    repeat: list[RepeatPupil]

    @property
    def open_reports(self) -> list[Report]:
        return [r for r in self.reports if r.status != "closed"]


def since_from_query(text: str | None, today: date) -> date:
    """The first day of the round; unreadable or absent: four weeks ago.

    A date after today is today; one before MAX_DAYS ago is MAX_DAYS ago.
    """
    since = insights.parse_day(text) or today - timedelta(days=DEFAULT_DAYS)
    return min(max(since, today - timedelta(days=MAX_DAYS)), today)


def group_of(school: School, group_id: str | None) -> Any:
    """The school's group with this id; any other id answers 404."""
    for group in school.groups:
        if group.id == group_id:
            return group
    raise NotFound(both("This page does not exist."))


def build(school: School, group: Any, since: date, today: date) -> ClassRound:
    scope = group_scope(school.school_id, group.id)
    chosen = insights.period(since, today, today)
    reports, truncated = _reports(school.school_id, scope, since, today)

    weeks = aggregates.weeks_of(scope, chosen.previous[0], chosen.weeks[-1])
    current = _sum(weeks, chosen.weeks)
    previous = _sum(weeks, chosen.previous)

    open_weeks = aggregates.open_by_week(scope)
    old_before = insights.week_of(today - timedelta(weeks=OLD_CASE_WEEKS))

    threshold = max(1, int(school.repeat_threshold or DEFAULT_THRESHOLD))
    return ClassRound(
        group_id=group.id,
        group_name=group.name,
        since=since,
        today=today,
        period=chosen,
        reports=reports,
        truncated=truncated,
        total=insights.Trend("total", current["total"], previous["total"]),
        categories=insights.trends(current, previous, "cat"),
        locations=insights.trends(current, previous, "loc"),
        open_cases=sum(open_weeks.values()),
        open_older=sum(n for week, n in open_weeks.items() if week < old_before),
        old_before=old_before,
        threshold=threshold,
        repeat=_repeat_pupils(school.school_id, current, threshold),
    )


def _reports(
    school_id: str, scope: str, since: date, today: date
) -> tuple[list[Report], bool]:
    """The group's reports received from `since` to today, newest first."""
    low, high = ListFilter(start=since, end=today).key_range()
    pointers = ReportIndex.query(
        scope,
        range_key_condition=ReportIndex.sort.between(low, high),
        scan_index_forward=False,
        limit=MAX_REPORTS + 1,
        page_size=MAX_REPORTS + 1,
    )
    ids = [p.report_id for p in pointers]
    found = Report.batch_get([(school_id, i) for i in ids[:MAX_REPORTS]])
    reports = sorted(
        (r for r in found if not r.removed_reason),
        key=lambda r: str(r.report_id),
        reverse=True,
    )
    return reports, len(ids) > MAX_REPORTS


def _repeat_pupils(
    school_id: str, counters: Counter[str], threshold: int
) -> list[RepeatPupil]:
    """Pupils hurt, or who did it, in at least `threshold` reports of the period."""
    hurt = _per_pupil(counters, "ph:")
    did_it = _per_pupil(counters, "pd:")
    chosen = sorted(
        (
            pupil
            for pupil in hurt.keys() | did_it.keys()
            if hurt[pupil] >= threshold or did_it[pupil] >= threshold
        ),
        key=lambda pupil: (-max(hurt[pupil], did_it[pupil]), pupil),
    )[:MAX_PUPILS]
    if not chosen:
        return []

    names = {
        str(p.pupil_id): f"{p.first_name} {p.last_name}"
        for p in Pupil.batch_get([(school_id, pupil) for pupil in chosen])
    }
    return [
        RepeatPupil(pupil, names.get(pupil), hurt[pupil], did_it[pupil])
        for pupil in chosen
    ]


def _per_pupil(counters: Counter[str], prefix: str) -> Counter[str]:
    return Counter(
        {k[len(prefix) :]: v for k, v in counters.items() if k.startswith(prefix)}
    )


def _sum(weeks: dict[str, Counter[str]], chosen: tuple[str, ...]) -> Counter[str]:
    total: Counter[str] = Counter()
    for week in chosen:
        total.update(weeks.get(week, Counter()))
    return total
