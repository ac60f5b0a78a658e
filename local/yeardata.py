"""One school year of made-up reports and case work for the two demo schools,
with patterns planted for the overviews to find.

Every report goes through the form's validation and `store_report`, and every
case change through `chalicelib.casework`, so the weekly counters are the live
ones. Case changes are made at the moment a coordinator would have made them:
time-machine moves the clock back for each change, because `casework.apply`
stamps its events, first action and audit entries with the current time.

Planted, in the last RECENT_WEEKS weeks (the overviews' default period):
- a few pupils per school linked to at least REPEAT_REPORTS reports each, as the
  one who was hurt, the one who did it, or both, while every other pupil is
  linked to at most ORDINARY_LIMIT reports received in the last CAP_WEEKS weeks;
- the playground at lunch (HOTSPOT) as the place and time most reports name;
- one group whose reports climb week by week, on top of a steady number of
  reports per week for the whole school.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import time_machine
from faker import Faker

from benchmarks.moto_tweaks import unchecked_item_sizes, unguarded_transactions
from chalicelib import auth, casework, sessions
from chalicelib.access import StaffContext
from chalicelib.models import CaseEvent, Pupil, Report, School, StaffMember
from chalicelib.reports import store_report
from chalicelib.validation import validate_report
from chalicelib.weeks import SCHOOL_TZ, local_today, now_utc
from local.seed import (
    DEMO_SCHOOLS,
    create_pupils,
    create_school,
    create_staff,
    random_report,
)

WEEKS = 52
PER_WEEK = 19
PUPILS_PER_GROUP = 25
RECENT_WEEKS = 8
HOTSPOT = ("plein", "lunch")
# Share of the recent weeks' reports that name the playground at lunch.
HOTSPOT_SHARE = 0.3
REPEAT_PUPILS = 3
REPEAT_REPORTS = 8
ORDINARY_LIMIT = 2
# Ordinary pupils stay under the limit over a longer window than the overviews'
# default, so a window counted a week differently still shows only the planted.
CAP_WEEKS = 12
# Planted reports are received at least this long ago, so their names are
# linked to the roster (the first action comes hours after receipt) by today.
PLANTED_MIN_AGE = timedelta(days=3)
# Extra reports about the rising group: RISING_START in the oldest recent week,
# one more each week after it.
RISING_START = 2
# Share of the other named persons a coordinator links to the roster.
LINK_SHARE = 0.3
# Share of the cases first marked "being handled" before anything else; the
# others start with the links or an intervention (each change is a transaction
# to seed, so the year is seeded with no more of them than it needs).
IN_PROGRESS_SHARE = 0.2
# Share of the follow-ups whose effect is never recorded: they stay overdue.
FORGOTTEN_SHARE = 0.06

EFFECT_WEIGHTS = {
    "talk_hurt": (30, 35, 25, 10),
    "talk_did_it": (35, 35, 20, 10),
    "parents_informed": (30, 30, 30, 10),
    "restorative": (50, 30, 15, 5),
    "group_talk": (30, 40, 20, 10),
    "measure": (45, 30, 15, 10),
    "referral": (30, 30, 30, 10),
    "veilig_thuis": (25, 25, 40, 10),
}
INTERVENTION_WEIGHTS = {
    "talk_hurt": 25,
    "talk_did_it": 25,
    "parents_informed": 15,
    "restorative": 12,
    "group_talk": 10,
    "measure": 8,
    "referral": 4,
    "veilig_thuis": 1,
}


@dataclass(frozen=True)
class SchoolPatterns:
    """What was planted in one school, for tests and the run's printout."""

    school_id: str
    repeat_pupils: tuple[str, ...]
    hotspot: tuple[str, str]  # (location id, part of the day)
    rising_group: str
    reports: int


@dataclass(frozen=True)
class PlantedPatterns:
    schools: dict[str, SchoolPatterns]
    staff: dict[str, list[StaffMember]]

    @property
    def reports(self) -> int:
        return sum(school.reports for school in self.schools.values())


@dataclass
class PlannedReport:
    received: datetime
    payload: dict[str, Any]
    # Received in the last CAP_WEEKS weeks: its links count to ORDINARY_LIMIT.
    capped: bool
    # person index in the validated report -> pupil id, for the coordinator to link
    links: dict[int, str] = field(default_factory=dict)
    planted: bool = False


@contextmanager
def at(instant: datetime) -> Iterator[None]:
    """Run the block with the clock at `instant`, ticking on from there."""
    with time_machine.travel(instant, tick=True):
        yield


def staff_context(member: StaffMember) -> StaffContext:
    """A signed-in staff member without a browser: the seed acts as them."""
    session = sessions.new_session(member.email, f"seed-{member.staff_id}")
    return StaffContext(
        member,
        session.for_school(member.school_id, member.staff_id),
        auth.Identity(f"seed-{member.staff_id}", member.email, "seed", 0),
    )


def seed_year_in_process(**options: int) -> PlantedPatterns:
    """`seed_year` against moto running in this process (`mock_aws`, or the
    local run's server), without moto's costs that grow with its tables.

    moto would otherwise copy every table a transaction touches, once per item,
    which makes a year of reports take many minutes. Every seed transaction is
    expected to succeed; one that fails ends the seed with an error.
    """
    with unguarded_transactions(), unchecked_item_sizes():
        return seed_year(**options)


def seed_year(
    *,
    weeks: int = WEEKS,
    per_week: int = PER_WEEK,
    per_group: int = PUPILS_PER_GROUP,
    seed: int = 5,
) -> PlantedPatterns:
    """Both demo schools with `weeks` weeks of reports and cases up to now."""
    if weeks < 2 * RECENT_WEEKS:
        raise ValueError(f"at least {2 * RECENT_WEEKS} weeks: two periods to compare")
    fake = Faker("nl_NL")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    now = now_utc()
    patterns: dict[str, SchoolPatterns] = {}
    staff: dict[str, list[StaffMember]] = {}
    for demo in DEMO_SCHOOLS:
        school = create_school(demo)
        members = create_staff(school, fake)
        roster = create_pupils(school, fake, per_group=per_group)
        planner = _Planner(school, roster, fake, rng, now)
        plans = planner.plan(weeks, per_week)
        handlers = [m for m in members if set(m.roles) & {"coordinator", "deputy"}]
        _store_and_handle(school, plans, handlers, rng, now)
        staff[school.school_id] = members
        patterns[school.school_id] = SchoolPatterns(
            school.school_id,
            tuple(planner.repeat_pupils),
            HOTSPOT,
            planner.rising_group,
            len(plans),
        )
    return PlantedPatterns(patterns, staff)


class _Planner:
    """Draws every report of one school before anything is stored."""

    def __init__(
        self,
        school: School,
        roster: dict[str, list[Pupil]],
        fake: Faker,
        rng: random.Random,
        now: datetime,
    ) -> None:
        self.school = school
        self.roster = roster
        self.fake = fake
        self.rng = rng
        self.now = now
        self.monday = _monday(local_today(now))
        self.pupil_ids = {
            (f"{p.first_name} {p.last_name}", group): str(p.pupil_id)
            for group, pupils in roster.items()
            for p in pupils
        }
        groups = [g.id for g in school.groups]
        # The group of the demo teacher "leerkracht" (see local.seed.create_staff).
        self.rising_group = groups[4]
        others = [g for g in groups if g != self.rising_group]
        self.repeat_pupils = [
            str(rng.choice(roster[group]).pupil_id)
            for group in rng.sample(others, REPEAT_PUPILS)
        ]

    def plan(self, weeks: int, per_week: int) -> list[PlannedReport]:
        plans = []
        for age in range(weeks - 1, -1, -1):
            plans += [self._ordinary(age) for _ in range(per_week)]
            if age < RECENT_WEEKS:
                extra = RISING_START + (RECENT_WEEKS - 1 - age)
                plans += [self._rising(age) for _ in range(extra)]
        self._plant_repeat_pupils(plans)
        self._choose_links(plans)
        return sorted(plans, key=lambda p: p.received)

    def _ordinary(self, age: int) -> PlannedReport:
        received = self._received(age)
        payload = self._payload(received)
        if age < RECENT_WEEKS and self.rng.random() < HOTSPOT_SHARE:
            payload["location"], payload["part_of_day"] = HOTSPOT
        return PlannedReport(received, payload, capped=age < CAP_WEEKS)

    def _rising(self, age: int) -> PlannedReport:
        received = self._received(age)
        payload = self._payload(received)
        pupils = self.rng.sample(self.roster[self.rising_group], 2)
        payload["hurt"]["persons"] = [_person(pupils[0])]
        payload["did_it"] = {"unknown": False, "persons": [_person(pupils[1])]}
        return PlannedReport(received, payload, capped=True)

    def _payload(self, received: datetime) -> dict[str, Any]:
        payload = random_report(self.school, self.fake, self.rng, 0, self.roster)
        days_before = self.rng.choice([0, 0, 0, 1, 2, 7])
        occurred = received.astimezone(SCHOOL_TZ).date() - timedelta(days_before)
        payload["occurred_on"] = occurred.isoformat()
        return payload

    def _received(self, age: int) -> datetime:
        """A moment in the week `age` weeks before this one, Amsterdam time.

        The current week is only partly over: it gets a whole week's reports
        within the days so far, so that a period ending today compares with the
        period before it whatever the weekday the data is made on.
        """
        monday = self.monday - timedelta(weeks=age)
        start = datetime.combine(monday, time.min, SCHOOL_TZ)
        if age == 0:
            span = max((self.now - start).total_seconds() - 60, 1)
            moment = start + timedelta(seconds=self.rng.uniform(0, span))
            return moment.astimezone(UTC)
        day = self.rng.choices(range(7), weights=[5, 5, 5, 5, 5, 1, 1])[0]
        local = datetime.combine(
            monday + timedelta(days=day),
            time(self.rng.randrange(7, 22), self.rng.randrange(60)),
            SCHOOL_TZ,
        )
        return (local + timedelta(seconds=self.rng.randrange(60))).astimezone(UTC)

    def _plant_repeat_pupils(self, plans: list[PlannedReport]) -> None:
        """Put each planted pupil into REPEAT_REPORTS of the recent reports.

        The pupil replaces a named person of their own group where one is found,
        so the counts per group stay what they were.
        """
        first = datetime.combine(
            self.monday - timedelta(weeks=RECENT_WEEKS - 1), time.min, SCHOOL_TZ
        )
        window = [
            p
            for p in plans
            if first <= p.received <= self.now - PLANTED_MIN_AGE
            and p.payload["hurt"]["persons"]
        ]
        pupils = {str(p.pupil_id): p for ps in self.roster.values() for p in ps}
        for index, pupil_id in enumerate(self.repeat_pupils):
            pupil = pupils[pupil_id]
            for count in range(REPEAT_REPORTS):
                # The first pupil is hurt each time, the second does it, the
                # third is in both roles in turn.
                role = ("hurt", "did_it", ("hurt", "did_it")[count % 2])[index]
                plan = self._free_report(window, role, str(pupil.group))
                plan.planted = True
                section = plan.payload[role]
                section["persons"][0] = _person(pupil)
                if role == "did_it":
                    section["unknown"] = False

    def _free_report(
        self, window: list[PlannedReport], role: str, group: str
    ) -> PlannedReport:
        free = [p for p in window if not p.planted]
        same_group = [
            p for p in free if p.payload[role]["persons"][0]["group"] == group
        ]
        return self.rng.choice(same_group or free)

    def _choose_links(self, plans: list[PlannedReport]) -> None:
        """Which named persons the coordinator links to the roster.

        Planted reports are linked in full. Other names are linked at random, but
        no other pupil gets more than ORDINARY_LIMIT links in the last CAP_WEEKS
        weeks, and no pupil is linked twice in one report.
        """
        planted = set(self.repeat_pupils)
        recent_links: Counter[str] = Counter()
        for plan in sorted(plans, key=lambda p: not p.planted):
            persons = _validated_persons(plan.payload)
            linked: set[str] = set()
            for index, person in enumerate(persons):
                pupil_id = self.pupil_ids.get((person["name"], person["group"]))
                if pupil_id is None or pupil_id in linked:
                    continue
                ordinary = pupil_id not in planted
                if ordinary and not plan.planted and self.rng.random() > LINK_SHARE:
                    continue
                if ordinary and plan.capped:
                    if recent_links[pupil_id] >= ORDINARY_LIMIT:
                        continue
                    recent_links[pupil_id] += 1
                plan.links[index] = pupil_id
                linked.add(pupil_id)


def _person(pupil: Pupil) -> dict[str, str]:
    return {"name": f"{pupil.first_name} {pupil.last_name}", "group": pupil.group}


def _validated_persons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The persons in the order validation stores them: hurt first, then did it."""
    return [*payload["hurt"]["persons"], *payload["did_it"]["persons"]]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _store_and_handle(
    school: School,
    plans: list[PlannedReport],
    handlers: list[StaffMember],
    rng: random.Random,
    now: datetime,
) -> None:
    contexts = [staff_context(member) for member in handlers]
    for plan in plans:
        report = store_report(
            school,
            str(uuid.UUID(int=rng.getrandbits(128))),
            validate_report(plan.payload, school),
            received=plan.received,
        )
        steps = _case_steps(plan, rng)
        context = contexts[0] if rng.random() < 0.8 else contexts[-1]
        _CaseWork(school, report, context, now).run(steps)


# One step of a case: when, and what (a name with its arguments).
Step = tuple[datetime, str, tuple[Any, ...]]


def _case_steps(plan: PlannedReport, rng: random.Random) -> list[Step]:
    """What a coordinator does with this report and when, drawn in full.

    All of it is drawn whether or not it lies in the future, so how much of a
    case is done by today never changes what is drawn for the reports after it.
    """
    fate = rng.random()
    first = plan.received + timedelta(hours=min(rng.lognormvariate(3.0, 0.9), 240))
    if plan.planted:
        first = plan.received + timedelta(hours=rng.uniform(1, 24))
    if fate < 0.04 and not plan.planted:
        return []

    # The first action: the case taken on, the names linked, or at once a talk.
    closes_at_once = fate < 0.14 and not plan.planted
    steps: list[Step] = []
    if closes_at_once or rng.random() < IN_PROGRESS_SHARE:
        steps.append((first, "status", ("in_progress", None)))
    steps += [
        (first + timedelta(minutes=2 + i), "link", (index, pupil_id))
        for i, (index, pupil_id) in enumerate(sorted(plan.links.items()))
    ]
    if closes_at_once:
        reason = rng.choice(["no_grounds", "no_grounds", "referred", "duplicate"])
        closed = first + timedelta(days=rng.uniform(1, 10))
        return [*steps, (closed, "status", ("closed", reason))]

    when = first + timedelta(hours=rng.uniform(1, 72)) if steps else first
    for _ in range(2):
        kind = _weighted(rng, INTERVENTION_WEIGHTS)
        follow_days = rng.choice([7, 14, 14, 21])
        steps.append((when, "intervention", (kind, follow_days)))
        follow_up = when + timedelta(days=follow_days)
        if rng.random() < FORGOTTEN_SHARE:
            # The follow-up was never recorded: it stays overdue.
            return steps
        weights = EFFECT_WEIGHTS[kind]
        if plan.planted:
            weights = (10, 25, 40, 25)
        outcome = rng.choices(casework.EFFECTS, weights=weights)[0]
        recorded = follow_up + timedelta(hours=rng.uniform(0, 96))
        steps.append((recorded, "effect", (outcome,)))
        if outcome in ("stopped", "less"):
            reason = "stopped" if outcome == "stopped" else "solved_together"
            closed = recorded + timedelta(hours=rng.uniform(0, 72))
            return [*steps, (closed, "status", ("closed", reason))]
        when = recorded + timedelta(hours=rng.uniform(2, 48))
    return [*steps, (when, "status", ("closed", "referred"))]


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class _CaseWork:
    """Applies the steps of one case up to now, each at its own moment."""

    def __init__(
        self, school: School, report: Report, context: StaffContext, now: datetime
    ) -> None:
        self.school = school
        self.report = report
        self.context = context
        self.now = now
        self.intervention: CaseEvent | None = None

    def run(self, steps: list[Step]) -> None:
        for number, (when, action, arguments) in enumerate(steps, start=1):
            if when > self.now:
                return
            with at(when):
                self._apply(action, *arguments)
                if number < len(steps):
                    # The next change starts from the stored state: its
                    # version and the fields the counters read.
                    self.report = Report.get(
                        self.report.school_id, self.report.report_id
                    )

    def _apply(self, action: str, *arguments: Any) -> None:
        report = self.report
        if action == "status":
            change = casework.set_status(report, *arguments)
        elif action == "link":
            change = casework.link_pupil(report, *arguments)
        elif action == "intervention":
            kind, follow_days = arguments
            today = local_today()
            change = casework.intervention(
                self.school,
                report,
                kind=kind,
                on=today.isoformat(),
                follow_up_on=(today + timedelta(days=follow_days)).isoformat(),
                text=None,
            )
        else:
            if self.intervention is None:
                raise RuntimeError("an effect needs an intervention before it")
            change = casework.effect(report, self.intervention, *arguments)
        event = casework.apply(self.context, report, change)
        if action == "intervention":
            self.intervention = event
