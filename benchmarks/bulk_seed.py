"""Many reports for one school, written straight into the tables.

Seeding through the intake would take hours at 100,000 reports, so these items
skip it: each report is the Report item and the group pointers `store_report`
writes, with made-up answers spread over the year before `end`. The receipt and
idempotency-key pointers are left out: they are only ever read by exact key, so
their number changes nothing a benchmark measures.

Import this only after the environment points at the emulator: table names are
read from it when chalicelib is imported.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from faker import Faker
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
from moto.dynamodb.models.dynamo_type import Item as MotoItem

from chalicelib.config import settings
from chalicelib.models import Contact, Person, Report, ReportIndex, School
from chalicelib.reports import group_scope
from chalicelib.weeks import SCHOOL_TZ, iso_week, now_utc
from local.seed import DESCRIPTIONS

# Faker is slow per call; names drawn from a pool look the same in a report list.
NAME_POOL = 2000
SEED_DAYS = 365


@dataclass(frozen=True)
class SeededReport:
    report: Report
    pointers: list[ReportIndex]


class ReportFactory:
    """Reproducible, realistic reports for one school."""

    def __init__(
        self, school: School, seed: int = 5, end: datetime | None = None
    ) -> None:
        fake = Faker("nl_NL")
        fake.seed_instance(seed)
        self.school = school
        self.rng = random.Random(seed)
        self.end = end or now_utc()
        self.first_names = [fake.first_name() for _ in range(NAME_POOL)]
        self.last_names = [fake.last_name() for _ in range(NAME_POOL)]
        self.emails = [fake.free_email() for _ in range(NAME_POOL)]
        self.groups = [g.id for g in school.groups]
        self.places = [p.id for p in school.locations]
        self.categories = [c.id for c in school.categories if not c.urgent]

    def many(self, count: int) -> Iterator[SeededReport]:
        for _ in range(count):
            yield self.one()

    def one(self) -> SeededReport:
        rng = self.rng
        received = self.received()
        report_id = self.report_id(received)
        victim = rng.choice(self.first_names)
        hurt_self = rng.random() < 0.3
        did_it_unknown = rng.random() < 0.2
        persons = [] if hurt_self else [self._person("hurt", victim)]
        if not did_it_unknown:
            persons += [self._person("did_it") for _ in range(rng.choice([1, 1, 2]))]
        groups = sorted({p.group for p in persons if p.group})
        anonymous = rng.random() < 0.6

        report = Report(
            self.school.school_id,
            report_id,
            received_at=received,
            received_week=iso_week(received),
            language=rng.choice(["nl"] * 9 + ["en"]),
            reporter_role=rng.choice(["pupil", "pupil", "parent", "staff", "other"]),
            anonymous=anonymous,
            contact=None if anonymous else self._contact(),
            categories=rng.sample(self.categories, k=rng.choice([1, 1, 2])),
            description=rng.choice(DESCRIPTIONS).format(name=victim),
            hurt_self=hurt_self,
            did_it_unknown=did_it_unknown,
            persons=persons,
            groups=groups,
            location=rng.choice(self.places),
            occurred_on=self.occurred_on(received),
            part_of_day=rng.choice(
                ["morning", "break", "lunch", "lunch", "afternoon", "after_school"]
            ),
            frequency=rng.choice(["once", "several", "ongoing"]),
            told=rng.sample(["teacher", "parent", "friend"], k=rng.choice([1, 2])),
            danger_now=rng.choice(["no"] * 9 + ["unsure"]),
            urgent=False,
            receipt_hash=self.receipt_hash(),
            version=1,
        )
        pointers = [
            ReportIndex(
                group_scope(self.school.school_id, g), report_id, report_id=report_id
            )
            for g in groups
        ]
        return SeededReport(report, pointers)

    def received(self) -> datetime:
        """School hours and evenings, Amsterdam time, on any day of the past year."""
        day = self.end - timedelta(days=self.rng.randrange(1, SEED_DAYS))
        local = day.astimezone(SCHOOL_TZ).replace(
            hour=self.rng.randrange(7, 22),
            minute=self.rng.randrange(60),
            second=self.rng.randrange(60),
            microsecond=self.rng.randrange(1_000_000),
        )
        return local.astimezone(self.end.tzinfo)

    def report_id(self, received: datetime) -> str:
        # The shape new_report_id gives, drawn from this factory's seed.
        return f"{received:%Y%m%d%H%M%S%f}-{self.rng.getrandbits(32):08x}"

    def occurred_on(self, received: datetime) -> str:
        days_before = self.rng.choice([0, 0, 0, 1, 2, 7])
        day = received.astimezone(SCHOOL_TZ).date() - timedelta(days=days_before)
        return day.isoformat()

    def receipt_hash(self) -> str:
        return f"{self.rng.getrandbits(160):040x}"

    def _person(self, role: str, first_name: str | None = None) -> Person:
        first = first_name or self.rng.choice(self.first_names)
        return Person(
            role=role,
            name=f"{first} {self.rng.choice(self.last_names)}",
            group=self.rng.choice(self.groups),
        )

    def _contact(self) -> Contact:
        name = f"{self.rng.choice(self.first_names)} {self.rng.choice(self.last_names)}"
        return Contact(name=name, email=self.rng.choice(self.emails))


def write_batches(reports: Iterable[SeededReport]) -> int:
    """Write through BatchWriteItem (25 items a request): works on any endpoint."""
    written = 0
    with Report.batch_write() as report_batch, ReportIndex.batch_write() as pointers:
        for seeded in reports:
            report_batch.save(seeded.report)
            for pointer in seeded.pointers:
                pointers.save(pointer)
            written += 1
    return written


def write_into_moto(factory: ReportFactory, count: int, distinct: int = 500) -> int:
    """Put `count` reports into moto's in-process tables: no request, no parsing.

    Only for moto's `mock_aws`, and fast enough for the normal test run: the first
    `distinct` reports come from the factory through moto's own `put_item`; every
    further report copies one of them with its own id, receive time, week, date
    and receipt hash. Copies share the other attribute values of their template,
    which is safe because nothing updates a seeded report in place.
    """
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][settings.region]
    reports = backend.get_table(settings.table_name("reports"))
    pointers = backend.get_table(settings.table_name("report-index"))
    templates = []
    for seeded in factory.many(min(distinct, count)):
        templates.append(reports.put_item(seeded.report.serialize(), overwrite=True))
        for pointer in seeded.pointers:
            pointers.put_item(pointer.serialize(), overwrite=True)

    school_id = factory.school.school_id
    for _ in range(count - len(templates)):
        template = factory.rng.choice(templates)
        received = factory.received()
        report_id = _string(factory.report_id(received))
        changes = {
            "report_id": report_id,
            "received_at": _string(Report.received_at.serialize(received)),
            "received_week": _string(iso_week(received)),
            "occurred_on": _string(factory.occurred_on(received)),
            "receipt_hash": _string(factory.receipt_hash()),
        }
        # What Table.put_item stores, without its per-attribute size recount.
        reports.items[template.hash_key][report_id] = _item(
            template.hash_key, report_id, {**template.attrs, **changes}
        )
        for group in _strings(template, "groups"):
            scope = _string(group_scope(school_id, group))
            pointers.items[scope][report_id] = _item(
                scope,
                report_id,
                {"scope": scope, "sort": report_id, "report_id": report_id},
            )
    return count


def _string(value: str) -> DynamoType:
    return DynamoType({"S": value})


def _strings(item: MotoItem, name: str) -> list[str]:
    value = item.attrs.get(name)
    return [element.value for element in value.value] if value else []


def _item(
    hash_key: DynamoType, range_key: DynamoType, attrs: dict[str, DynamoType]
) -> MotoItem:
    item = MotoItem.__new__(MotoItem)
    item.hash_key = hash_key
    item.range_key = range_key
    item.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(item.attrs, attrs)
    return item
