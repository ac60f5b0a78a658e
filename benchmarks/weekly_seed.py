"""Many schools and teachers and years of history, for the weekly mail benchmark.

Schools and staff go through the models (BatchWriteItem); the bulk of the
history (reports, group-week counters of earlier school years, follow-ups long
past) is put straight into moto's tables, in-process or in the server started in
this process. The week being mailed gets the same counters and follow-ups at
every size, so whatever the job reads for it is the same and only the history
around it grows.

Import this only after the environment points at the emulator: table names are
read from it when chalicelib is imported.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from faker import Faker
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.ses.models import ses_backends

from benchmarks.bulk_seed import ReportFactory, SeededReport, write_into_moto
from chalicelib import digests
from chalicelib.casework import followup_scope
from chalicelib.config import settings
from chalicelib.models import ReportIndex, School, StaffMember
from local.seed import DEMO_SCHOOLS, create_school

WEEKS_PER_YEAR = 52
# Follow-ups due next week per school: the same at every history size.
FOLLOWUPS_DUE = 2


@dataclass
class WeeklyWorld:
    """The seeded schools and teachers and how much history they have so far."""

    week: str
    schools: list[School]
    teachers: list[StaffMember]
    reports_per_school: int = 0
    history_years: int = 0
    factories: dict[str, ReportFactory] = field(default_factory=dict)


def _table(name: str) -> Any:
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][settings.region]
    return backend.get_table(settings.table_name(name))


def seed_world(schools: int, teachers: int, week: str, seed: int = 50) -> WeeklyWorld:
    """`schools` schools sharing `teachers` teachers, each with one or two groups,
    and the counters and follow-ups the job reads for `week`."""
    fake = Faker("nl_NL")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    created = [
        create_school(
            dataclasses.replace(
                DEMO_SCHOOLS[n % len(DEMO_SCHOOLS)],
                slug=f"bench-{n:03d}",
                name=f"School {fake.last_name()}",
            )
        )
        for n in range(schools)
    ]
    members = []
    with StaffMember.batch_write() as batch:
        for n in range(teachers):
            school = created[n % schools]
            groups = [g.id for g in school.groups]
            member = StaffMember(
                school.school_id,
                f"bench-teacher-{n:05d}",
                email=f"leerkracht{n}@{school.school_id}.example",
                name=fake.name(),
                roles=["teacher"],
                groups=sorted(rng.sample(groups, k=rng.choice([1, 2]))),
            )
            batch.save(member)
            members.append(member)
    world = WeeklyWorld(week, created, members)
    end = digests.week_monday(week) + timedelta(days=7)
    for school in created:
        world.factories[school.school_id] = ReportFactory(
            school, seed=seed, end=_utc_noon(end)
        )
        _put_counters(school, _weeks_read(week), rng)
        _put_followups_due(world, school)
    return world


def add_history(world: WeeklyWorld, reports_per_school: int, years: int) -> None:
    """Grow every school's history to `reports_per_school` reports and `years`
    earlier school years of group-week counters and follow-ups long past."""
    rng = random.Random(years)
    first = digests.week_monday(_weeks_read(world.week)[0])
    for school in world.schools:
        factory = world.factories[school.school_id]
        write_into_moto(factory, reports_per_school - world.reports_per_school)
        old_weeks = [
            _week_of(first - timedelta(weeks=n))
            for n in range(
                1 + world.history_years * WEEKS_PER_YEAR,
                1 + years * WEEKS_PER_YEAR,
            )
        ]
        _put_counters(school, old_weeks, rng)
        pointers = _table("report-index")
        for week in old_weeks:
            due = digests.week_monday(week) + timedelta(days=rng.randrange(5))
            pointer = ReportIndex(
                followup_scope(school.school_id),
                f"{due.isoformat()}#{week}-past#e1",
                report_id=f"{week}-past",
            )
            pointers.put_item(pointer.serialize(), overwrite=True)
    world.reports_per_school = max(world.reports_per_school, reports_per_school)
    world.history_years = max(world.history_years, years)


def forget_deliveries() -> None:
    """No deliveries and no mails yet, so every run sends to every teacher."""
    _table("deliveries").items.clear()
    ses_backends[DEFAULT_ACCOUNT_ID][settings.region].sent_messages.clear()


def _weeks_read(week: str) -> list[str]:
    """The weeks of `week`'s school year (from the week of 1 August) up to it.

    Counted here from the calendar rather than from the job's own helpers, so a
    job that reads further back than its school year reads history and shows.
    Weeks mailed must lie at least the trend weeks after 1 August.
    """
    monday = digests.week_monday(week)
    start_year = monday.year if monday >= date(monday.year, 8, 1) else monday.year - 1
    first = date(start_year, 8, 1)
    first -= timedelta(days=first.weekday())
    return [
        _week_of(first + timedelta(weeks=n))
        for n in range((monday - first).days // 7 + 1)
    ]


def _put_counters(school: School, weeks: list[str], rng: random.Random) -> None:
    table = _table("aggregates")
    categories = [c.id for c in school.categories]
    for group in school.groups:
        scope = digests.group_scope(school.school_id, group.id)
        for week in weeks:
            total = rng.randrange(4)
            item: dict[str, Any] = {
                "scope": {"S": scope},
                "week": {"S": week},
                "total": {"N": str(total)},
                "status:new": {"N": str(rng.randrange(total + 1))},
            }
            if total:
                item[f"cat:{rng.choice(categories)}"] = {"N": str(total)}
            table.put_item(item, overwrite=True)


def _put_followups_due(world: WeeklyWorld, school: School) -> None:
    """Reports with a follow-up due in the week after the mailed week."""
    factory = world.factories[school.school_id]
    reports, pointers = _table("reports"), _table("report-index")
    monday = digests.week_monday(world.week) + timedelta(weeks=1)
    for n in range(FOLLOWUPS_DUE):
        seeded: SeededReport = factory.one()
        reports.put_item(seeded.report.serialize(), overwrite=True)
        pointer = ReportIndex(
            followup_scope(school.school_id),
            f"{(monday + timedelta(days=n)).isoformat()}#{seeded.report.report_id}#e1",
            report_id=seeded.report.report_id,
        )
        pointers.put_item(pointer.serialize(), overwrite=True)


def _week_of(day: date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def _utc_noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=UTC)
