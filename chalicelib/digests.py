"""The figures of the weekly teacher mail and the mail itself.

Figures only: counts per group from the weekly counters and the follow-up
pointers, never a name, a description or anything else a reporter wrote.

Reads per school are bounded by its groups and the weeks of one school year
(BatchGet of group-week counters) plus the follow-ups due in one week, so a
school's history never makes the mail slower.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from chalicelib.casework import followup_scope
from chalicelib.config import settings
from chalicelib.models import Report, ReportIndex, School, StaffMember, WeekAggregate
from chalicelib.templating import render

TREND_WEEKS = 4
OPEN_STATUSES = ("new", "in_progress", "follow_up")
# DynamoDB's BatchGetItem takes at most 100 keys per request.
BATCH_SIZE = 100


def previous_week(week: str, count: int = 1) -> str:
    return _week_of(week_monday(week) - timedelta(weeks=count))


def week_monday(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def _week_of(day: date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def school_year_weeks(week: str) -> list[str]:
    """The weeks from the one holding 1 August of the week's school year to it."""
    monday = week_monday(week)
    first = week_monday(_week_of(date(monday.year, 8, 1)))
    if monday < first:
        first = week_monday(_week_of(date(monday.year - 1, 8, 1)))
    return [
        _week_of(first + timedelta(weeks=n))
        for n in range((monday - first).days // 7 + 1)
    ]


def group_scope(school_id: str, group_id: str) -> str:
    return f"{school_id}#group#{group_id}"


@dataclass(frozen=True)
class GroupFigures:
    group_id: str
    name: str
    total: int
    by_category: list[tuple[str, int]]  # (label, count), most first
    open_cases: int
    followups_due: int
    previous: list[int]  # totals of the TREND_WEEKS weeks before, oldest first

    @property
    def previous_average(self) -> float:
        return sum(self.previous) / len(self.previous) if self.previous else 0.0

    @property
    def trend(self) -> str:
        """ "up", "down" or "same" against the average of the weeks before."""
        if self.total > self.previous_average:
            return "up"
        if self.total < self.previous_average:
            return "down"
        return "same"


@dataclass(frozen=True)
class TeacherFigures:
    week: str
    groups: list[GroupFigures]

    @property
    def quiet(self) -> bool:
        """Nothing reported, nothing open and nothing due: the short mail."""
        return not any(g.total or g.open_cases or g.followups_due for g in self.groups)


@dataclass
class SchoolWeek:
    """Everything the school's teacher mails of one week are computed from."""

    school: School
    week: str
    year_weeks: list[str] = field(default_factory=list)
    counters: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    followups: dict[str, int] = field(default_factory=dict)  # group -> due


def load_school_week(school: School, week: str) -> SchoolWeek:
    """The group-week counters of the school year so far and next week's follow-ups.

    Open cases are the new, being-handled and follow-up counters of the reports
    received since the start of the school year (1 August): a case from an
    earlier school year that is still open is not in the mail's count; the staff
    pages still list it.
    """
    groups = [g.id for g in school.groups]
    year_weeks = school_year_weeks(week)
    trend_weeks = [previous_week(week, n) for n in range(TREND_WEEKS, 0, -1)]
    weeks = sorted(set(year_weeks) | set(trend_weeks))
    keys = [(group_scope(school.school_id, g), w) for g in groups for w in weeks]
    return SchoolWeek(
        school,
        week,
        year_weeks=year_weeks,
        counters=_batch_counters(keys),
        followups=_followups_due(school.school_id, week),
    )


def _batch_counters(keys: list[tuple[str, str]]) -> dict[tuple[str, str], Counter[str]]:
    connection = WeekAggregate._get_connection()
    result: dict[tuple[str, str], Counter[str]] = {}
    for start in range(0, len(keys), BATCH_SIZE):
        pending: list[Any] = [
            {"scope": scope, "week": week}
            for scope, week in keys[start : start + BATCH_SIZE]
        ]
        while pending:
            response = connection.batch_get_item(pending)
            for item in response.get("Responses", {}).get(connection.table_name, []):
                result[(item["scope"]["S"], item["week"]["S"])] = Counter(
                    {k: int(v["N"]) for k, v in item.items() if "N" in v}
                )
            unprocessed = response.get("UnprocessedKeys", {}).get(
                connection.table_name, {}
            )
            pending = [
                {name: value["S"] for name, value in key.items()}
                for key in unprocessed.get("Keys", [])
            ]
    return result


def _followups_due(school_id: str, week: str) -> dict[str, int]:
    """Follow-ups due in the week after `week` (the week the mail is read), by group.

    One Query on the school's follow-up pointers of those seven days, then the
    groups of just those reports (BatchGet, only the groups attribute).
    """
    first = week_monday(week) + timedelta(weeks=1)
    last = first + timedelta(days=6)
    pointers = list(
        ReportIndex.query(
            followup_scope(school_id),
            ReportIndex.sort.between(first.isoformat(), f"{last.isoformat()}#~"),
        )
    )
    report_ids = sorted({p.report_id for p in pointers})
    groups_of: dict[str, list[str]] = {}
    for start in range(0, len(report_ids), BATCH_SIZE):
        batch = [(school_id, rid) for rid in report_ids[start : start + BATCH_SIZE]]
        for report in Report.batch_get(
            batch, attributes_to_get=["report_id", "groups"]
        ):
            groups_of[report.report_id] = [str(g) for g in report.groups or []]
    due: Counter[str] = Counter()
    for pointer in pointers:
        for group in groups_of.get(pointer.report_id, []):
            due[group] += 1
    return dict(due)


def teacher_figures(
    school: School,
    member: StaffMember,
    week: str,
    school_week: SchoolWeek | None = None,
) -> TeacherFigures:
    """The figures of each of the teacher's groups for one week.

    Pass the school's `load_school_week` when mailing many teachers, so the
    counters are read once per school.
    """
    loaded = school_week or load_school_week(school, week)
    names = {str(g.id): str(g.name) for g in school.groups}
    labels = {c.id: c for c in school.categories}
    language = member.language
    return TeacherFigures(
        week,
        [
            _group_figures(loaded, group, names[group], labels, language)
            for group in map(str, member.groups)
            if group in names
        ],
    )


def _group_figures(
    loaded: SchoolWeek, group: str, name: str, labels: dict[str, Any], language: str
) -> GroupFigures:
    scope = group_scope(loaded.school.school_id, group)

    def week_counters(week: str) -> Counter[str]:
        return loaded.counters.get((scope, week), Counter())

    this_week = week_counters(loaded.week)
    categories = sorted(
        (
            (_label(labels, name_.removeprefix("cat:"), language), count)
            for name_, count in this_week.items()
            if name_.startswith("cat:") and count > 0
        ),
        key=lambda pair: (-pair[1], pair[0]),
    )
    open_cases = sum(
        week_counters(week)[f"status:{status}"]
        for week in loaded.year_weeks
        for status in OPEN_STATUSES
    )
    return GroupFigures(
        group_id=group,
        name=name,
        total=this_week["total"],
        by_category=categories,
        open_cases=open_cases,
        followups_due=loaded.followups.get(group, 0),
        previous=[
            week_counters(previous_week(loaded.week, n))["total"]
            for n in range(TREND_WEEKS, 0, -1)
        ],
    )


def _label(labels: dict[str, Any], category: str, language: str) -> str:
    configured = labels.get(category)
    if configured is None:
        return category
    return str(configured.label.en if language == "en" else configured.label.nl)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "application/pdf"
    data: bytes


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()


def teacher_mail(school: School, member: StaffMember, figures: TeacherFigures) -> Mail:
    """The rendered mail: subject, plain text and HTML in the member's language."""
    context = {
        "school_name": school.name,
        "week": figures.week,
        "figures": figures,
        "link": f"{settings.public_base_url}/staff",
    }
    language = member.language
    return Mail(
        subject=render("mail/teacher_week_subject.txt", language, **context).strip(),
        text=render("mail/teacher_week.txt", language, **context),
        html=render("mail/teacher_week.html", language, **context),
    )
