"""Figures about pupils and case handling: repeat involvement, the effect of
interventions, open cases by age, time to first action and overdue follow-ups.

Everything is read from the weekly counters (aggregates.py) or from pointers
bounded by the period shown, never from the whole history:
- repeat involvement: the "ph:"/"pd:" counters of the weeks in the window;
- effects: the "iv:"/"eff:" counters; recurrence: the intervention pointers of
  the period, their reports (one BatchGet per 100) and one Query per pupil;
- open cases by age: one GetItem per scope (its "open" item);
- time to first action: the "tfa:<hours>" counters of the period;
- overdue follow-ups: one Query on the follow-up pointers due before today.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from chalicelib import aggregates
from chalicelib.access import StaffContext
from chalicelib.casework import followup_scope, interventions_scope, pupil_scope
from chalicelib.insights import Period, readable_scopes, week_of
from chalicelib.models import Pupil, Report, ReportIndex, School
from chalicelib.weeks import SCHOOL_TZ

# New reports about a pupil within this many weeks after an intervention count
# as "reported again".
RECUR_WEEKS = 6
# At most this many interventions of a period are followed up for recurrence;
# the page says so when a period holds more.
MAX_INTERVENTIONS = 200
MAX_OVERDUE = 200
MAX_REPEAT_PUPILS = 100
# Open cases by age, in whole weeks since the week they were received.
AGE_BUCKETS = ((0, 0), (1, 1), (2, 3), (4, 7), (8, None))


def _weeks_back(today: date, weeks: int) -> tuple[str, str]:
    return week_of(today - timedelta(weeks=weeks - 1)), week_of(today)


def _sum_scopes(scopes: Iterable[str], first: str, last: str) -> list[Counter[str]]:
    """Per scope, its counters summed over the weeks [first, last]."""
    result = []
    for scope in scopes:
        total: Counter[str] = Counter()
        for counters in aggregates.weeks_of(scope, first, last).values():
            total.update(counters)
        result.append(total)
    return result


@dataclass(frozen=True)
class Involvement:
    pupil_id: str
    name: str
    group: str
    hurt: int
    did_it: int
    left: bool


@dataclass(frozen=True)
class RepeatInvolvement:
    window_weeks: int
    threshold: int
    first_week: str
    last_week: str
    pupils: list[Involvement]


def pupil_counts(per_scope: list[Counter[str]]) -> dict[str, tuple[int, int]]:
    """(hurt, did it) per linked pupil. A pupil's reports all touch the pupil's
    own group (linking adds it), so across a teacher's group scopes the largest
    count is the exact one; summing would count shared reports twice."""
    counts: dict[str, tuple[int, int]] = {}
    for counters in per_scope:
        for name, value in counters.items():
            if value <= 0 or name[:3] not in ("ph:", "pd:"):
                continue
            pupil = name[3:]
            hurt, did = counts.get(pupil, (0, 0))
            if name.startswith("ph:"):
                hurt = max(hurt, value)
            else:
                did = max(did, value)
            counts[pupil] = (hurt, did)
    return counts


def repeat_involvement(
    context: StaffContext,
    school: School,
    today: date,
    *,
    group: str | None = None,
    window_weeks: int | None = None,
    threshold: int | None = None,
) -> RepeatInvolvement:
    window = int(window_weeks or school.repeat_window_weeks or 8)
    limit = int(threshold or school.repeat_threshold or 3)
    first, last = _weeks_back(today, window)
    scopes = readable_scopes(context, school, group)
    counts = pupil_counts(_sum_scopes(scopes, first, last))
    flagged = sorted(
        ((p, h, d) for p, (h, d) in counts.items() if h >= limit or d >= limit),
        key=lambda item: (-(item[1] + item[2]), item[0]),
    )[:MAX_REPEAT_PUPILS]
    pupils = {
        p.pupil_id: p
        for p in Pupil.batch_get([(school.school_id, p) for p, _, _ in flagged])
    }
    rows = []
    for pupil_id, hurt, did in flagged:
        pupil = pupils.get(pupil_id)
        rows.append(
            Involvement(
                pupil_id,
                f"{pupil.first_name} {pupil.last_name}" if pupil else pupil_id,
                pupil.group if pupil else "",
                hurt,
                did,
                bool(pupil and pupil.left),
            )
        )
    return RepeatInvolvement(window, limit, first, last, rows)


@dataclass(frozen=True)
class EffectRow:
    kind: str
    interventions: int
    effects: Counter[str]  # effect -> count
    followed: int  # interventions whose recurrence window has passed
    recurred: int  # ... after which a new report about the same pupils came

    @property
    def recorded(self) -> int:
        return sum(self.effects.values())


@dataclass(frozen=True)
class Effects:
    rows: list[EffectRow]
    recur_weeks: int
    capped: bool  # more interventions in the period than were followed up
    pending: int  # interventions too recent to tell


def _id_prefix(day: date) -> str:
    """The report-id prefix of the first instant of a local day."""
    start = datetime.combine(day, time.min, SCHOOL_TZ).astimezone(UTC)
    return f"{start:%Y%m%d%H%M%S%f}"


def intervention_effects(
    context: StaffContext, school: School, chosen: Period, today: date
) -> Effects:
    """Per kind of intervention: how many, what the follow-up said, and how
    often a new report about the same pupils came within RECUR_WEEKS weeks.

    Counts of interventions and effects belong to the week the case was
    received; recurrence is about the interventions held in the period.
    """
    scopes = readable_scopes(context, school, None)
    counters: Counter[str] = Counter()
    for summed in _sum_scopes(scopes, chosen.weeks[0], chosen.weeks[-1]):
        counters.update(summed)

    pointers = list(
        ReportIndex.query(
            interventions_scope(school.school_id),
            range_key_condition=ReportIndex.sort.between(
                chosen.start.isoformat(), f"{chosen.end.isoformat()}#~"
            ),
            limit=MAX_INTERVENTIONS + 1,
        )
    )
    capped = len(pointers) > MAX_INTERVENTIONS
    pointers = pointers[:MAX_INTERVENTIONS]
    reports = {
        r.report_id: r
        for r in Report.batch_get(
            sorted({(school.school_id, p.report_id) for p in pointers})
        )
    }
    followed: Counter[str] = Counter()
    recurred: Counter[str] = Counter()
    pending = 0
    seen: dict[tuple[str, date], bool] = {}
    for pointer in pointers:
        report = reports.get(pointer.report_id)
        if report is None or report.removed_reason or not context.may_read(report):
            continue
        held = date.fromisoformat(pointer.sort.split("#", 1)[0])
        if held + timedelta(weeks=RECUR_WEEKS) > today:
            pending += 1
            continue
        kind = pointer.kind or ""
        followed[kind] += 1
        pupils = sorted({str(p.pupil_id) for p in report.persons if p.pupil_id})
        if any(_reported_again(school, pupil, held, report, seen) for pupil in pupils):
            recurred[kind] += 1

    kinds = [choice.id for choice in school.interventions]
    kinds += sorted(
        {name.split(":")[1] for name in counters if name.startswith("iv:")} - set(kinds)
    )
    rows = []
    for kind in kinds:
        effects = Counter(
            {
                name.rsplit(":", 1)[1]: value
                for name, value in counters.items()
                if name.startswith(f"eff:{kind}:") and value > 0
            }
        )
        if counters[f"iv:{kind}"] or effects or followed[kind]:
            rows.append(
                EffectRow(
                    kind,
                    counters[f"iv:{kind}"],
                    effects,
                    followed[kind],
                    recurred[kind],
                )
            )
    return Effects(rows, RECUR_WEEKS, capped, pending)


def _reported_again(
    school: School,
    pupil: str,
    held: date,
    report: Report,
    seen: dict[tuple[str, date], bool],
) -> bool:
    """Whether a report other than this case about the pupil was received in
    the RECUR_WEEKS weeks after the day of the intervention: one Query."""
    key = (pupil, held)
    if key not in seen:
        low = _id_prefix(held + timedelta(days=1))
        high = _id_prefix(held + timedelta(weeks=RECUR_WEEKS, days=1))
        others = {report.report_id, *report.linked_reports}
        found = False
        for pointer in ReportIndex.query(
            pupil_scope(school.school_id, pupil),
            range_key_condition=ReportIndex.sort.between(low, high),
            limit=len(others) + 1,
        ):
            if pointer.report_id not in others:
                found = True
                break
        seen[key] = found
    return seen[key]


@dataclass(frozen=True)
class AgeBucket:
    low: int
    high: int | None
    count: int


@dataclass(frozen=True)
class Handling:
    open_total: int
    open_by_age: list[AgeBucket]
    oldest_open_week: str | None
    received: int  # reports received in the period
    acted: int  # ... of which a coordinator or deputy has acted on
    median_hours: int | None  # median time to first action, in whole hours
    within_day: int  # acted on within 24 hours
    overdue: list[tuple[str, str, str]]  # (due date, report id, event id)
    overdue_capped: bool


def _weeks_between(week: str, today: date) -> int:
    year, number = week.split("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    return max((today - monday).days // 7, 0)


def open_cases(scopes: Iterable[str], today: date) -> tuple[Counter[str], int]:
    """Open cases per week of receipt, over the scopes (one GetItem each)."""
    per_week: Counter[str] = Counter()
    for scope in scopes:
        per_week.update(aggregates.open_by_week(scope))
    return per_week, sum(per_week.values())


def age_buckets(per_week: Counter[str], today: date) -> list[AgeBucket]:
    ages = Counter({_weeks_between(w, today): n for w, n in per_week.items()})
    buckets = []
    for low, high in AGE_BUCKETS:
        count = sum(
            n for age, n in ages.items() if age >= low and (high is None or age <= high)
        )
        buckets.append(AgeBucket(low, high, count))
    return buckets


def median_hours(counters: Counter[str]) -> int | None:
    """The median of the "tfa:<hours>" histogram: exact in whole hours."""
    histogram = sorted(
        (int(name[4:]), n)
        for name, n in counters.items()
        if name.startswith("tfa:") and n > 0
    )
    total = sum(n for _, n in histogram)
    if not total:
        return None
    middle = (total + 1) // 2
    running = 0
    for hours, n in histogram:
        running += n
        if running >= middle:
            return hours
    return None  # pragma: no cover (running reaches total)


def overdue_followups(
    context: StaffContext, school: School, today: date
) -> tuple[list[tuple[str, str, str]], bool]:
    """Follow-ups due before today whose effect was not recorded: one Query,
    then (for a teacher) one BatchGet to keep only their groups' cases."""
    pointers = list(
        ReportIndex.query(
            followup_scope(school.school_id),
            range_key_condition=ReportIndex.sort < today.isoformat(),
            limit=MAX_OVERDUE + 1,
        )
    )
    capped = len(pointers) > MAX_OVERDUE
    rows = [tuple(p.sort.split("#", 2)) for p in pointers[:MAX_OVERDUE]]
    if not context.reads_all and rows:
        readable = {
            r.report_id
            for r in Report.batch_get(sorted({(school.school_id, r[1]) for r in rows}))
            if context.may_read(r)
        }
        rows = [r for r in rows if r[1] in readable]
    return [(r[0], r[1], r[2]) for r in rows], capped


def handling(
    context: StaffContext, school: School, chosen: Period, today: date
) -> Handling:
    scopes = readable_scopes(context, school, None)
    per_week, total_open = open_cases(scopes, today)
    counters: Counter[str] = Counter()
    for summed in _sum_scopes(scopes, chosen.weeks[0], chosen.weeks[-1]):
        counters.update(summed)
    within_day = sum(
        n
        for name, n in counters.items()
        if name.startswith("tfa:") and int(name[4:]) < 24
    )
    overdue, capped = overdue_followups(context, school, today)
    return Handling(
        open_total=total_open,
        open_by_age=age_buckets(per_week, today),
        oldest_open_week=min(per_week) if per_week else None,
        received=counters["total"],
        acted=counters["acted"],
        median_hours=median_hours(counters),
        within_day=within_day,
        overdue=overdue,
        overdue_capped=capped,
    )
