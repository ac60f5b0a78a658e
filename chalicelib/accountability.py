"""The accountability report for the MR and the inspectorate: aggregated figures
of a school year or a period, small counts suppressed, as HTML, CSV and PDF.

Reads only the school-scope weekly counters (`aggregates.weeks_of`, one Query of
at most MAX_WEEKS items), so it holds no names and no report texts and costs the
same however many reports are stored. Reports count by the ISO week they were
received in; a week belongs to the month and to the school year its Thursday
falls in (the ISO rule that also gives a week its year), so every week counts
in exactly one month and one school year.

Suppression protects each table against its own total. It does not stop
differencing: two exports of periods one week apart, both showing a count
exactly, give away that week's count. Any period may be chosen (the MR and the
inspectorate ask for their own), so that is left to the people who may export,
and every export is in the audit trail.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib import aggregates
from chalicelib.cases import STATUSES
from chalicelib.i18n import N_, gettext_for
from chalicelib.models import School
from chalicelib.validation import PARTS_OF_DAY, REPORTER_ROLES

# Counts of 1 to SMALL_MAX are shown as SMALL: a handful of reports about one
# place or group could point at the children involved.
SMALL_MAX = 4
SMALL = "<5"
# A cell hidden so that a small one cannot be worked out from the total
# (a count of 5 or more), or every cell of a table that cannot be shown safely.
HIDDEN = "x"

# One school year has 52 or 53 Thursdays; a longer period keeps its last 53 weeks.
MAX_WEEKS = 53
SCHOOL_YEAR_START_MONTH = 8  # a school year runs from 1 August to 31 July
SCHOOL_YEARS_OFFERED = 5
FIRST_SCHOOL_YEAR = 2015  # the law on social safety at school took effect in 2015
SCHOOL_YEAR = re.compile(r"(\d{4})-(\d{4})")
MAX_PARAM_CHARS = 10


# -- suppression ---------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    key: str
    count: int
    shown: str  # "0", the count, SMALL or HIDDEN


@dataclass(frozen=True)
class Table:
    """One table after suppression. `withheld`: no cell could be shown safely."""

    cells: tuple[Cell, ...]
    total: int
    total_shown: str
    withheld: bool = False

    @property
    def hidden(self) -> list[Cell]:
        return [c for c in self.cells if c.shown in (SMALL, HIDDEN)]


def _shown(count: int) -> str:
    return SMALL if 1 <= count <= SMALL_MAX else str(count)


def _exposed(small: int, hidden: int, rest_low: int, rest_high: int) -> bool:
    """Whether a reader could pin down one SMALL cell exactly.

    The reader knows: `small` cells of 1..SMALL_MAX, `hidden` cells of at least
    SMALL_MAX + 1, and that all of them add up to somewhere in
    [rest_low, rest_high] (the total minus the cells shown). Every SMALL cell
    has the same bounds, so one check covers them all.
    """
    if small == 0:
        return False
    others = small - 1
    upper = min(SMALL_MAX, rest_high - others - (SMALL_MAX + 1) * hidden)
    lower = 1 if hidden else max(1, rest_low - SMALL_MAX * others)
    return upper <= lower


def suppress(rows: Sequence[tuple[str, int]]) -> Table:
    """The table with its total (the sum of its cells), small counts suppressed.

    Primary: counts 1..SMALL_MAX show as SMALL, zero as "0", and so does the
    total. Secondary: while a SMALL cell could be worked out from the total and
    the other cells (one alone, or several whose sum leaves them one value),
    the smallest count still shown is hidden too. When no cell is left to hide
    and one could still be worked out, the whole table is withheld.
    """
    if any(count < 0 for _, count in rows):
        raise ValueError("counts are never negative")
    total = sum(count for _, count in rows)
    shown = [_shown(count) for _, count in rows]
    total_shown = _shown(total)
    low, high = (1, SMALL_MAX) if total_shown == SMALL else (total, total)

    while True:
        small = shown.count(SMALL)
        hidden = shown.count(HIDDEN)
        visible = sum(c for (_, c), s in zip(rows, shown, strict=True) if s.isdigit())
        if not _exposed(small, hidden, low - visible, high - visible):
            break
        candidates = [
            (count, index)
            for index, (_, count) in enumerate(rows)
            if count > 0 and shown[index].isdigit()
        ]
        if not candidates:
            cells = tuple(Cell(key, count, HIDDEN) for key, count in rows)
            return Table(cells, total, total_shown, withheld=True)
        shown[min(candidates)[1]] = HIDDEN

    cells = tuple(
        Cell(key, count, text) for (key, count), text in zip(rows, shown, strict=True)
    )
    return Table(cells, total, total_shown)


# -- periods -------------------------------------------------------------------


def thursday(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 4)


def week_of(day: date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def month_of(week: str) -> str:
    """The month ("2026-01") a week counts in: the month of its Thursday."""
    return thursday(week).strftime("%Y-%m")


def school_year_of(day: date) -> str:
    first = day.year if day.month >= SCHOOL_YEAR_START_MONTH else day.year - 1
    return f"{first}-{first + 1}"


def current_school_year(today: date) -> str:
    """The school year this week counts in: that of its Thursday, so in the
    week around 1 August a report received today is in the year offered."""
    return school_year_of(today + timedelta(days=3 - today.weekday()))


def school_year_days(name: str) -> tuple[date, date]:
    first = int(name[:4])
    return (
        date(first, SCHOOL_YEAR_START_MONTH, 1),
        date(first + 1, SCHOOL_YEAR_START_MONTH, 1) - timedelta(days=1),
    )


@dataclass(frozen=True)
class Period:
    """The weeks whose Thursday lies in [first_day, last_day], up to this week."""

    first_day: date
    last_day: date
    weeks: tuple[str, ...]
    school_year: str | None  # set when a whole school year was asked for

    @property
    def name(self) -> str:
        """For file names: "2025-2026" or "2026-01-01_2026-03-31"."""
        if self.school_year:
            return self.school_year
        return f"{self.first_day.isoformat()}_{self.last_day.isoformat()}"

    @property
    def months(self) -> list[str]:
        return sorted({month_of(week) for week in self.weeks})


def period(
    first_day: date, last_day: date, today: date, school_year: str | None = None
) -> Period:
    if first_day > last_day:
        first_day, last_day = last_day, first_day
    # Thursday of the first week that counts, and of the last one.
    start = first_day + timedelta(days=(3 - first_day.weekday()) % 7)
    end = min(last_day, today + timedelta(days=3 - today.weekday()))
    end -= timedelta(days=(end.weekday() - 3) % 7)
    count = max(0, (end - start).days // 7 + 1)
    if count > MAX_WEEKS:
        start, count = end - timedelta(weeks=MAX_WEEKS - 1), MAX_WEEKS
        first_day = start - timedelta(days=3)  # the Monday of the first week kept
    weeks = tuple(week_of(start + timedelta(weeks=i)) for i in range(count))
    return Period(first_day, last_day, weeks, school_year)


def school_years(today: date) -> list[str]:
    """The school years offered: this one and the ones before, newest first."""
    first = int(current_school_year(today)[:4])
    return [
        f"{year}-{year + 1}"
        for year in range(first, first - SCHOOL_YEARS_OFFERED, -1)
        if year >= FIRST_SCHOOL_YEAR
    ]


def _school_year(text: str | None, today: date) -> str | None:
    match = SCHOOL_YEAR.fullmatch(text or "")
    if not match or int(match[2]) != int(match[1]) + 1:
        return None
    if not FIRST_SCHOOL_YEAR <= int(match[1]) <= int(current_school_year(today)[:4]):
        return None
    return match[0]


def _day(text: str | None) -> date | None:
    if not text or len(text) > MAX_PARAM_CHARS:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def period_from_query(params: Mapping[str, str], today: date) -> Period:
    """From and to dates when both are readable; else the school year asked
    for; else this school year."""
    first, last = _day(params.get("from")), _day(params.get("to"))
    if first and last:
        return period(first, last, today)
    year = _school_year(params.get("year"), today) or current_school_year(today)
    return period(*school_year_days(year), today, school_year=year)


# -- the report ----------------------------------------------------------------

MONTH_NAMES = (
    N_("January"),
    N_("February"),
    N_("March"),
    N_("April"),
    N_("May"),
    N_("June"),
    N_("July"),
    N_("August"),
    N_("September"),
    N_("October"),
    N_("November"),
    N_("December"),
)
WEEKDAY_NAMES = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
PART_OF_DAY_NAMES = {
    "before_school": N_("before school"),
    "morning": N_("in the morning"),
    "break": N_("at break"),
    "lunch": N_("at lunch"),
    "afternoon": N_("in the afternoon"),
    "after_school": N_("after school"),
    "evening": N_("in the evening"),
    "unknown": N_("time unknown"),
}
ROLE_NAMES = {
    "pupil": N_("A pupil"),
    "parent": N_("A parent or carer"),
    "staff": N_("Someone from the school"),
    "other": N_("Someone else"),
}
STATUS_NAMES = {
    "new": N_("New"),
    "in_progress": N_("Being handled"),
    "follow_up": N_("Follow-up"),
    "closed": N_("Closed"),
}
URGENCY_NAMES = {"urgent": N_("Urgent"), "not_urgent": N_("Not urgent")}

# (key, title, counter prefix) of each table, in the order shown; the first two
# are computed from the totals.
SECTIONS = (
    ("totals", N_("Reports received"), ""),
    ("months", N_("By month of receipt"), ""),
    ("categories", N_("By category"), "cat"),
    ("locations", N_("By location"), "loc"),
    ("parts", N_("By part of the day"), "pod"),
    ("weekdays", N_("By day of the week"), "dow"),
    ("groups", N_("By group"), "grp"),
    ("roles", N_("By who reported"), "role"),
    ("statuses", N_("By status at the time of this export"), "status"),
)
# A report can have several categories and concern several groups (or none):
# those tables count mentions, and their totals are the sums of their cells.
MULTIPLE = frozenset({"categories", "groups"})


@dataclass(frozen=True)
class Row:
    label: str
    shown: str


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    rows: tuple[Row, ...]
    total_shown: str
    withheld: bool
    counts_mentions: bool


@dataclass(frozen=True)
class Figures:
    """What every format shows; figures only, already suppressed."""

    school_name: str
    period: Period
    language: str
    total: int
    sections: tuple[Section, ...]


def _keys(counters: Counter[str], prefix: str, known: Iterable[str]) -> list[str]:
    """The known keys in their order, then any other key counted, sorted."""
    start = f"{prefix}:"
    known = list(known)
    seen = {k[len(start) :] for k, v in counters.items() if k.startswith(start) and v}
    return known + sorted(seen - set(known))


def _label_of(school: School, language: str) -> dict[str, dict[str, str]]:
    def text(item: object) -> str:
        label = getattr(item, "label", None)
        if label is None:
            return str(getattr(item, "id", ""))
        return str(label.nl if language == "nl" else label.en)

    return {
        "cat": {c.id: text(c) for c in school.categories},
        "loc": {p.id: text(p) for p in school.locations},
        "grp": {g.id: str(g.name) for g in school.groups},
    }


def _month_name(month: str, language: str) -> str:
    year, number = month.split("-")
    return f"{gettext_for(language, MONTH_NAMES[int(number) - 1])} {year}"


def build(school: School, chosen: Period, language: str) -> Figures:
    """The figures of the period for the whole school, suppressed."""
    weeks = (
        aggregates.weeks_of(school.school_id, chosen.weeks[0], chosen.weeks[-1])
        if chosen.weeks
        else {}
    )
    counters: Counter[str] = Counter()
    months: Counter[str] = Counter()
    for week in chosen.weeks:
        counters.update(weeks.get(week, Counter()))
        months[month_of(week)] += weeks.get(week, Counter())["total"]

    labels = _label_of(school, language)

    def name(msgid: str) -> str:
        return gettext_for(language, msgid)

    known = {
        "cat": [c.id for c in school.categories],
        "loc": [p.id for p in school.locations],
        "pod": list(PARTS_OF_DAY),
        "dow": [str(day) for day in range(7)],
        "grp": [g.id for g in school.groups],
        "role": list(REPORTER_ROLES),
        "status": list(STATUSES),
    }
    fixed = {
        "pod": {k: name(v) for k, v in PART_OF_DAY_NAMES.items()},
        "dow": {str(i): name(v) for i, v in enumerate(WEEKDAY_NAMES)},
        "role": {k: name(v) for k, v in ROLE_NAMES.items()},
        "status": {k: name(v) for k, v in STATUS_NAMES.items()},
    }

    sections = []
    for key, title, prefix in SECTIONS:
        if key == "totals":
            urgent = counters["urgent"]
            rows = [
                (name(URGENCY_NAMES["urgent"]), urgent),
                (name(URGENCY_NAMES["not_urgent"]), counters["total"] - urgent),
            ]
        elif key == "months":
            rows = [(_month_name(m, language), months[m]) for m in chosen.months]
        else:
            names = labels.get(prefix) or fixed[prefix]
            rows = [
                (names.get(k, k), counters[f"{prefix}:{k}"])
                for k in _keys(counters, prefix, known[prefix])
            ]
        table = suppress(rows)
        sections.append(
            Section(
                key,
                name(title),
                tuple(Row(c.key, c.shown) for c in table.cells),
                table.total_shown,
                table.withheld,
                key in MULTIPLE,
            )
        )
    return Figures(school.name, chosen, language, counters["total"], tuple(sections))
