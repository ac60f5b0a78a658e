"""Reports as cases: the lists staff see and the timeline of one case.

Lists are Queries on keys, bounded by the period shown and a page size; filters
apply only within that bounded range, so a list costs the same however large
the school's history is.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.access import StaffContext
from chalicelib.models import CaseEvent, Report, ReportIndex
from chalicelib.weeks import SCHOOL_TZ, local_today

STATUSES = ("new", "in_progress", "follow_up", "closed")
PAGE_SIZE = 25
# Bounds how far back one list reaches; older reports are a period filter away.
DEFAULT_PERIOD_DAYS = 90
MAX_PERIOD_DAYS = 400


@dataclass(frozen=True)
class ListFilter:
    start: date
    end: date  # inclusive
    status: str | None = None
    category: str | None = None
    group: str | None = None
    location: str | None = None
    urgent: bool = False
    before: str | None = None  # report id to continue after, for paging

    @classmethod
    def from_query(cls, params: dict[str, str]) -> ListFilter:
        today = local_today()
        end = _date(params.get("end")) or today
        start = _date(params.get("start")) or end - timedelta(days=DEFAULT_PERIOD_DAYS)
        start = max(start, end - timedelta(days=MAX_PERIOD_DAYS))
        return cls(
            start=min(start, end),
            end=end,
            status=params.get("status") if params.get("status") in STATUSES else None,
            category=params.get("category") or None,
            group=params.get("group") or None,
            location=params.get("location") or None,
            urgent=params.get("urgent") == "1",
            before=params.get("before") or None,
        )

    def key_range(self) -> tuple[str, str]:
        """Report ids in [start, end] local dates: ids begin with the UTC instant."""
        low = datetime.combine(self.start, time.min, SCHOOL_TZ).astimezone(UTC)
        high = datetime.combine(self.end + timedelta(days=1), time.min, SCHOOL_TZ)
        upper = f"{high.astimezone(UTC):%Y%m%d%H%M%S%f}"
        if self.before and self.before < upper:
            upper = self.before
        return f"{low:%Y%m%d%H%M%S%f}", upper

    def condition(self) -> Condition | None:
        # Reports removed as spam or a test leave every list.
        conditions: list[Condition] = [Report.removed_reason.does_not_exist()]
        if self.status:
            conditions.append(Report.status == self.status)
        if self.category:
            conditions.append(Report.categories.contains(self.category))
        if self.group:
            conditions.append(Report.groups.contains(self.group))
        if self.location:
            conditions.append(Report.location == self.location)
        if self.urgent:
            conditions.append(Report.urgent == True)  # noqa: E712 (a condition)
        result: Condition | None = None
        for condition in conditions:
            result = condition if result is None else result & condition
        return result


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass
class Page:
    reports: list[Report]
    next_before: str | None
    filters: ListFilter
    extra: dict[str, Any] = field(default_factory=dict)


def list_reports(context: StaffContext, filters: ListFilter) -> Page:
    if context.reads_all:
        reports = _school_page(context.school_id, filters)
    else:
        reports = _teacher_page(context, filters)
    # Within the page: open urgent reports first, then newest first.
    reports.sort(key=lambda r: r.report_id, reverse=True)
    reports.sort(key=lambda r: not (r.urgent and r.status != "closed"))
    next_before = min((r.report_id for r in reports), default=None)
    has_more = len(reports) >= PAGE_SIZE
    return Page(reports, next_before if has_more else None, filters)


def _school_page(school_id: str, filters: ListFilter) -> list[Report]:
    low, high = filters.key_range()
    query = Report.query(
        school_id,
        range_key_condition=Report.report_id.between(low, high),
        filter_condition=filters.condition(),
        scan_index_forward=False,
        limit=PAGE_SIZE,
        page_size=PAGE_SIZE,
    )
    return [r for r in query if r.report_id != high]


def _teacher_page(context: StaffContext, filters: ListFilter) -> list[Report]:
    """Report ids from each own group's index, merged newest first, then fetched."""
    low, high = filters.key_range()
    groups = [str(g) for g in context.member.groups]
    if filters.group:
        groups = [g for g in groups if g == filters.group]
    streams = [
        (
            pointer.report_id
            for pointer in ReportIndex.query(
                f"{context.school_id}#group#{group}",
                range_key_condition=ReportIndex.sort.between(low, high),
                scan_index_forward=False,
                limit=PAGE_SIZE,
                page_size=PAGE_SIZE,
            )
        )
        for group in groups
    ]
    ids: list[str] = []
    for report_id in heapq.merge(*streams, reverse=True):
        if report_id != high and (not ids or ids[-1] != report_id):
            ids.append(report_id)
        if len(ids) >= PAGE_SIZE:
            break
    if not ids:
        return []
    reports = Report.batch_get([(context.school_id, report_id) for report_id in ids])
    condition_filter = _matcher(filters)
    return [r for r in reports if context.may_read(r) and condition_filter(r)]


def _matcher(filters: ListFilter) -> Any:
    def matches(report: Report) -> bool:
        return (
            (not filters.status or report.status == filters.status)
            and (not filters.category or filters.category in report.categories)
            and (not filters.location or report.location == filters.location)
            and (not filters.urgent or bool(report.urgent))
        )

    return matches


def case_key(school_id: str, report_id: str) -> str:
    return f"{school_id}#{report_id}"


def timeline(report: Report, limit: int = 500) -> list[CaseEvent]:
    """Every event of a case, oldest first (one Query on the case's key)."""
    return list(
        CaseEvent.query(
            case_key(report.school_id, report.report_id),
            scan_index_forward=True,
            limit=limit,
        )
    )


def event_of(report: Report, event_id: str) -> CaseEvent | None:
    if not event_id or len(event_id) > 64:
        return None
    try:
        return CaseEvent.get(case_key(report.school_id, report.report_id), event_id)
    except CaseEvent.DoesNotExist:
        return None


def event_data(event: CaseEvent) -> dict[str, Any]:
    return event.data.as_dict() if event.data else {}


def pending_interventions(events: list[CaseEvent]) -> list[CaseEvent]:
    """Interventions whose effect has not been recorded yet."""
    done = {event_data(e).get("intervention") for e in events if e.kind == "effect"}
    return [e for e in events if e.kind == "intervention" and e.event_id not in done]


def pupil_history(
    school_id: str, pupil_id: str, limit: int = 100
) -> list[tuple[Report, str]]:
    """The reports a pupil is linked to, newest first, with the pupil's role in each."""
    pointers = ReportIndex.query(
        f"{school_id}#pupil#{pupil_id}", scan_index_forward=False, limit=limit
    )
    ids = [(school_id, p.report_id) for p in pointers]
    reports = sorted(Report.batch_get(ids), key=lambda r: r.report_id, reverse=True)
    return [
        (report, next((p.role for p in report.persons if p.pupil_id == pupil_id), ""))
        for report in reports
    ]
