"""The management dashboard: the figures leadership looks at each week.

This week against last week and the average of the weeks before, open and
overdue cases, the median time to first action, the category mix and the
weekly trend of the school year, and the effect of interventions. Read from
the school's weekly counters (one Query for the school year and the weeks
before it), its open-cases item (one GetItem) and the bounded reads of
casefigures; nothing grows with the history stored.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib import accountability, aggregates, casefigures, insights
from chalicelib.access import StaffContext
from chalicelib.insights import Period, Trend, week_of
from chalicelib.models import School

RECENT_WEEKS = 8  # "the average of recent weeks": the weeks before last week


def school_year_label(today: date) -> str:
    """The school year this week counts in (1 August to 31 July; a week counts
    where its Thursday falls, as in the accountability report)."""
    return accountability.current_school_year(today)


def school_year_start(today: date) -> date:
    """The Monday of the school year's first week: the first week whose
    Thursday falls on or after 1 August."""
    first_day, _ = accountability.school_year_days(school_year_label(today))
    monday = first_day - timedelta(days=first_day.weekday())
    if monday + timedelta(days=3) < first_day:
        monday += timedelta(weeks=1)
    return monday


@dataclass(frozen=True)
class WeekFigure:
    week: str
    monday: date
    total: int


@dataclass(frozen=True)
class Dashboard:
    today: date
    school_year: str
    year: Period
    this_week: int
    last_week: int
    recent_average: float
    this_week_urgent: int
    last_week_urgent: int
    year_total: int
    categories: list[Trend]  # school year so far against the year's share
    trend: list[WeekFigure]
    handling: casefigures.Handling
    effects: casefigures.Effects

    @property
    def overdue(self) -> int:
        return len(self.handling.overdue)


def _monday(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def dashboard(context: StaffContext, school: School, today: date) -> Dashboard:
    year = insights.period(school_year_start(today), today, today)
    this_week = week_of(today)
    last_week = week_of(today - timedelta(weeks=1))
    recent = [week_of(today - timedelta(weeks=i)) for i in range(2, RECENT_WEEKS + 2)]
    first = min(year.weeks[0], recent[-1])
    weeks = aggregates.weeks_of(school.school_id, first, this_week)

    def total(week: str, name: str = "total") -> int:
        return weeks.get(week, Counter())[name]

    in_year: Counter[str] = Counter()
    for week in year.weeks:
        in_year.update(weeks.get(week, Counter()))
    return Dashboard(
        today=today,
        school_year=school_year_label(today),
        year=year,
        this_week=total(this_week),
        last_week=total(last_week),
        recent_average=round(sum(total(w) for w in recent) / len(recent), 1),
        this_week_urgent=total(this_week, "urgent"),
        last_week_urgent=total(last_week, "urgent"),
        year_total=in_year["total"],
        categories=insights.trends(in_year, Counter(), "cat"),
        trend=[WeekFigure(w, _monday(w), total(w)) for w in year.weeks],
        handling=casefigures.handling(context, school, year, today),
        effects=casefigures.intervention_effects(context, school, year, today),
    )
