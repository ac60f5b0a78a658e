"""Demo data: two made-up schools with staff and some weeks of reports.

Names come from Faker's nl_NL locale; nothing here is real. Reports go through the
same validation and storage code as the form, only with an earlier receive time.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from faker import Faker

from chalicelib.defaults import PRIMARY_GROUPS, new_school
from chalicelib.models import Pupil, School, StaffMember
from chalicelib.reports import store_report
from chalicelib.validation import validate_report
from chalicelib.weeks import SCHOOL_TZ, now_utc

SECONDARY_GROUPS = [
    "B1a",
    "B1b",
    "H2a",
    "H2b",
    "V2a",
    "M3a",
    "H3b",
    "V4a",
    "H5a",
    "V6a",
]

DESCRIPTIONS = [
    "In de pauze werd er steeds gelachen om hoe {name} praat.",
    "{name} werd niet mee laten doen met voetbal en werd weggestuurd.",
    "In de groepsapp zijn nare berichten gestuurd over {name}.",
    "Bij de wc is {name} geduwd en tegen de muur gezet.",
    "Na school werd {name} achterna gelopen en uitgescholden.",
    "De jas van {name} is kapotgemaakt in de gang.",
    "{name} wordt al een paar weken buitengesloten bij het spelen.",
]

# Known password of the demo staff in the local (moto) user pool only.
DEMO_PASSWORD = "Demo-wachtwoord-2026!"  # noqa: S105


@dataclass(frozen=True)
class DemoSchool:
    slug: str
    name: str
    kind: str
    groups: list[str]
    holiday_region: str = "midden"


DEMO_SCHOOLS = [
    DemoSchool(
        "obs-de-regenboog",
        "OBS De Regenboog",
        "primary",
        PRIMARY_GROUPS,
    ),
    DemoSchool(
        "het-baken-college",
        "Het Baken College",
        "secondary",
        SECONDARY_GROUPS,
        holiday_region="zuid",
    ),
]


def create_school(demo: DemoSchool, region: str = "eu-central-1") -> School:
    school = new_school(
        demo.slug,
        demo.name,
        demo.kind,
        region=region,
        groups=demo.groups,
        holiday_region=demo.holiday_region,
    )
    school.save()
    return school


def create_staff(school: School, fake: Faker) -> list[StaffMember]:
    groups = [g.id for g in school.groups]
    domain = school.school_id.replace("-", "") + ".example"
    people = [
        ("coordinator", ["coordinator"], []),
        ("ib", ["deputy", "teacher"], groups[:1]),
        ("directie", ["leadership"], []),
        ("leerkracht", ["teacher"], groups[4:5]),
        ("leerkracht2", ["teacher"], groups[6:8]),
        ("beheer", ["administrator"], []),
    ]
    members = []
    for login, roles, own_groups in people:
        member = StaffMember(
            school.school_id,
            f"staff-{login}",
            email=f"{login}@{domain}",
            name=fake.name(),
            roles=roles,
            groups=own_groups,
            language="nl",
        )
        member.save()
        members.append(member)
    return members


def create_pupils(
    school: School, fake: Faker, per_group: int = 12
) -> dict[str, list[Pupil]]:
    """A made-up roster: pupil numbers like an administration system's."""
    roster: dict[str, list[Pupil]] = {}
    with Pupil.batch_write() as batch:
        for index, group in enumerate(school.groups):
            pupils = []
            for number in range(per_group):
                pupil = Pupil(
                    school.school_id,
                    f"{100000 + index * 1000 + number}",
                    first_name=fake.first_name(),
                    last_name=fake.last_name(),
                    group=group.id,
                    school_group=f"{school.school_id}#{group.id}",
                )
                batch.save(pupil)
                pupils.append(pupil)
            roster[group.id] = pupils
    return roster


def _named(
    pupil_roster: dict[str, list[Pupil]] | None,
    fake: Faker,
    rng: random.Random,
    groups: list[str],
) -> tuple[str, str]:
    """A name and group as a reporter would write them, from the roster if any."""
    group = rng.choice(groups)
    if pupil_roster and pupil_roster.get(group):
        pupil = rng.choice(pupil_roster[group])
        return f"{pupil.first_name} {pupil.last_name}", group
    return fake.name(), group


def random_report(
    school: School,
    fake: Faker,
    rng: random.Random,
    day_offset: int,
    roster: dict[str, list[Pupil]] | None = None,
) -> dict[str, object]:
    groups = [g.id for g in school.groups]
    victim_name, victim_group = _named(roster, fake, rng, groups)
    victim = victim_name.split(" ")[0]
    occurred = (now_utc() - timedelta(days=day_offset)).astimezone(SCHOOL_TZ).date()
    anonymous = rng.random() < 0.6
    return {
        "language": "nl",
        "reporter": {
            "role": rng.choice(["pupil", "pupil", "parent", "staff", "other"]),
            "anonymous": anonymous,
            **({} if anonymous else {"name": fake.name(), "email": fake.email()}),
        },
        "categories": rng.sample(
            [c.id for c in school.categories if not c.urgent], k=rng.choice([1, 1, 2])
        ),
        "description": rng.choice(DESCRIPTIONS).format(name=victim),
        "hurt": {
            "self": False,
            "persons": [{"name": victim_name, "group": victim_group}],
        },
        "did_it": {
            "unknown": rng.random() < 0.2,
            "persons": [
                dict(
                    zip(
                        ("name", "group"),
                        _named(roster, fake, rng, groups),
                        strict=True,
                    )
                )
                for _ in range(rng.choice([1, 1, 2]))
            ],
        },
        "location": rng.choice([p.id for p in school.locations]),
        "occurred_on": occurred.isoformat(),
        "part_of_day": rng.choice(
            ["morning", "break", "lunch", "lunch", "afternoon", "after_school"]
        ),
        "frequency": rng.choice(["once", "several", "ongoing"]),
        "told": rng.sample(["teacher", "parent", "friend"], k=rng.choice([1, 2])),
        "danger_now": "no",
    }


def seed_reports(
    school: School,
    fake: Faker,
    rng: random.Random,
    weeks: int,
    per_week: int,
    *,
    roster: dict[str, list[Pupil]] | None = None,
) -> int:
    stored = 0
    for day_offset in range(weeks * 7, 0, -1):
        if rng.random() > per_week / 7:
            continue
        report = validate_report(
            random_report(school, fake, rng, day_offset, roster), school
        )
        received = now_utc() - timedelta(days=day_offset - 1, hours=rng.randint(0, 8))
        store_report(
            school, str(uuid.UUID(int=rng.getrandbits(128))), report, received=received
        )
        stored += 1
    return stored


def seed_demo(
    weeks: int = 6, per_week: int = 5, seed: int = 5
) -> dict[str, list[StaffMember]]:
    """Create both demo schools with staff and reports; returns staff per school."""
    fake = Faker("nl_NL")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    staff = {}
    for demo in DEMO_SCHOOLS:
        school = create_school(demo)
        staff[school.school_id] = create_staff(school, fake)
        roster = create_pupils(school, fake)
        seed_reports(school, fake, rng, weeks, per_week, roster=roster)
    return staff
