"""School holidays: the national calendar per region and each school's own changes.

The national dates are the Dutch government's recommended school holidays
(schoolvakanties, published by the Ministry of OCW on rijksoverheid.nl) for the
regions noord, midden and zuid; kerst and mei are the same everywhere. They were
entered without access to that publication: compare them with rijksoverheid.nl
before relying on them. For 2025-2026, school sites in each region agreed with
them except voorjaar in noord (21 February to 1 March 2026), now corrected; mei
is the recommended week, which many schools extend by the week before. They
are only a starting point anyway: primary schools may move their holidays, and
every school may add its own days off, so a school's `holidays` list wins (see
`effective_holidays`).

Every period runs from a Saturday to a Sunday, both inclusive, in local dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib.models import School

REGIONS = ("noord", "midden", "zuid")
SCHOOL_DAYS = 5  # Monday to Friday


@dataclass(frozen=True)
class Period:
    """One holiday, first and last day inclusive."""

    name: str
    first_day: date
    last_day: date

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    @property
    def school_year(self) -> int:
        """The calendar year in which the period's school year (1 August) began."""
        start = self.first_day
        return start.year if start.month >= 8 else start.year - 1


def _all(name: str, first: str, last: str) -> dict[str, tuple[str, str, str]]:
    return {region: (name, first, last) for region in REGIONS}


def _each(
    name: str, noord: tuple[str, str], midden: tuple[str, str], zuid: tuple[str, str]
) -> dict[str, tuple[str, str, str]]:
    return {
        "noord": (name, *noord),
        "midden": (name, *midden),
        "zuid": (name, *zuid),
    }


_NATIONAL_TABLE = [
    # School year 2025-2026
    _each(
        "herfst",
        ("2025-10-18", "2025-10-26"),
        ("2025-10-18", "2025-10-26"),
        ("2025-10-11", "2025-10-19"),
    ),
    _all("kerst", "2025-12-20", "2026-01-04"),
    _each(
        "voorjaar",
        ("2026-02-21", "2026-03-01"),
        ("2026-02-14", "2026-02-22"),
        ("2026-02-14", "2026-02-22"),
    ),
    _all("mei", "2026-04-25", "2026-05-03"),
    _each(
        "zomer",
        ("2026-07-04", "2026-08-16"),
        ("2026-07-18", "2026-08-30"),
        ("2026-07-11", "2026-08-23"),
    ),
    # School year 2026-2027
    _each(
        "herfst",
        ("2026-10-17", "2026-10-25"),
        ("2026-10-17", "2026-10-25"),
        ("2026-10-10", "2026-10-18"),
    ),
    _all("kerst", "2026-12-19", "2027-01-03"),
    _each(
        "voorjaar",
        ("2027-02-20", "2027-02-28"),
        ("2027-02-13", "2027-02-21"),
        ("2027-02-06", "2027-02-14"),
    ),
    _all("mei", "2027-04-24", "2027-05-02"),
    _each(
        "zomer",
        ("2027-07-10", "2027-08-22"),
        ("2027-07-17", "2027-08-29"),
        ("2027-07-24", "2027-09-05"),
    ),
    # School year 2027-2028
    _each(
        "herfst",
        ("2027-10-23", "2027-10-31"),
        ("2027-10-16", "2027-10-24"),
        ("2027-10-16", "2027-10-24"),
    ),
    _all("kerst", "2027-12-25", "2028-01-09"),
    _each(
        "voorjaar",
        ("2028-02-19", "2028-02-27"),
        ("2028-02-26", "2028-03-05"),
        ("2028-02-26", "2028-03-05"),
    ),
    _all("mei", "2028-04-22", "2028-04-30"),
    _each(
        "zomer",
        ("2028-07-15", "2028-08-27"),
        ("2028-07-08", "2028-08-20"),
        ("2028-07-01", "2028-08-13"),
    ),
]

NATIONAL: dict[str, tuple[Period, ...]] = {
    region: tuple(
        Period(
            row[region][0],
            date.fromisoformat(row[region][1]),
            date.fromisoformat(row[region][2]),
        )
        for row in _NATIONAL_TABLE
    )
    for region in REGIONS
}


def national_holidays(region: str) -> tuple[Period, ...]:
    """The national holidays of a region; an unknown region gets midden's."""
    return NATIONAL.get(region, NATIONAL["midden"])


def school_holidays(school: School) -> list[Period]:
    """The school's own holidays as entered, in the order stored."""
    return [
        Period(
            str(h.name).strip().lower(),
            date.fromisoformat(str(h.first_day)),
            date.fromisoformat(str(h.last_day)),
        )
        for h in school.holidays or []
    ]


def effective_holidays(school: School) -> list[Period]:
    """The national holidays of the school's region, changed by its own list.

    A school holiday with the name of a national one ("herfst", "kerst",
    "voorjaar", "mei", "zomer") in the same school year replaces that national
    holiday (the school moved it); any other school holiday (a study day, a
    different name) is added. So a school that moved its autumn holiday enters
    one "herfst" item, and one that adds days off enters them under any other name.
    """
    own = school_holidays(school)
    replaced = {(p.name, p.school_year) for p in own}
    national = [
        p
        for p in national_holidays(school.holiday_region)
        if (p.name, p.school_year) not in replaced
    ]
    return sorted([*national, *own], key=lambda p: (p.first_day, p.name))


def week_school_days(week: str) -> list[date]:
    """Monday to Friday of an ISO week such as "2026-W52"."""
    year, number = week.split("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    return [monday + timedelta(days=n) for n in range(SCHOOL_DAYS)]


def is_holiday_week(school: School, week: str) -> bool:
    """True when every school day (Monday to Friday) of the week is a holiday.

    Days may be covered by different holidays (a study day on the Monday before
    a holiday that starts on Tuesday); a week with one school day left is not a
    holiday week.
    """
    periods = effective_holidays(school)
    return all(any(p.covers(day) for p in periods) for day in week_school_days(week))
