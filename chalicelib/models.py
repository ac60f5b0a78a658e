"""PynamoDB models: the single definition of every table, used by the code, by the
local run and tests to create tables, and by infra/ to generate the stack.

Access patterns (no request path ever Scans):
- a school's configuration: GetItem on School by slug;
- a school's reports by date: Query Report on school_id, range on report_id, whose
  prefix is the UTC receive time, so id order is time order;
- reports touching one group (or later one pupil): Query ReportIndex on
  "<school>#group#<group>" for report ids, then BatchGet;
- a report from its receipt code or its idempotency key: GetItem on ReportIndex.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.config import settings


def _meta(name: str) -> Any:
    class Meta:
        base_name = name  # the stack names the table "m5-<stage>-<base_name>"
        table_name = settings.table_name(name)
        region = settings.region
        host = settings.endpoint_url
        billing_mode = "PAY_PER_REQUEST"
        max_retry_attempts = 3

    return Meta


class Label(MapAttribute[str, Any]):
    nl = UnicodeAttribute()
    en = UnicodeAttribute()


class Group(MapAttribute[str, Any]):
    """A group (groep 5, 1/2b) in primary or a class (H2b) in secondary."""

    id = UnicodeAttribute()
    name = UnicodeAttribute()


class Place(MapAttribute[str, Any]):
    id = UnicodeAttribute()
    label = Label()


class Category(MapAttribute[str, Any]):
    id = UnicodeAttribute()
    label = Label()
    # A report in an urgent category alerts the coordinator at once, like "danger now".
    urgent = BooleanAttribute(default=False)


class Choice(MapAttribute[str, Any]):
    """A configurable option with its label, e.g. a kind of intervention."""

    id = UnicodeAttribute()
    label = Label()


class Holiday(MapAttribute[str, Any]):
    """A school holiday, first and last day inclusive (local dates, ISO)."""

    name = UnicodeAttribute()
    first_day = UnicodeAttribute()
    last_day = UnicodeAttribute()


class School(Model):
    Meta = _meta("schools")

    school_id = UnicodeAttribute(hash_key=True)  # the slug: stable, in public URLs
    name = UnicodeAttribute()
    kind = UnicodeAttribute()  # "primary" | "secondary"
    region = UnicodeAttribute()
    languages = ListAttribute(of=UnicodeAttribute, default=lambda: ["nl", "en"])
    groups = ListAttribute(of=Group, default=list)
    locations = ListAttribute(of=Place, default=list)
    categories = ListAttribute(of=Category, default=list)
    quick_exit_url = UnicodeAttribute(default="https://www.knmi.nl/nederland-nu/weer")
    interventions = ListAttribute(of=Choice, default=list)
    active = BooleanAttribute(default=True)
    # The national holiday region ("noord" | "midden" | "zuid") the school's
    # calendar starts from, and the school's own holidays (added or changed).
    holiday_region = UnicodeAttribute(default="midden")
    holidays = ListAttribute(of=Holiday, default=list)
    # Repeat involvement: a pupil linked to at least `repeat_threshold` reports
    # received in the last `repeat_window_weeks` weeks is shown to the coordinator.
    repeat_threshold = NumberAttribute(default=3)
    repeat_window_weeks = NumberAttribute(default=8)
    # Retention: years after a case is closed (or its last activity) before the
    # retention job removes its personal data.
    retention_years = NumberAttribute(default=2)
    # The school year ("2026-2027") the groups were last moved up to; see rollover.py.
    school_year = UnicodeAttribute(null=True)


class StaffByEmail(GlobalSecondaryIndex["StaffMember"]):
    """A person's memberships across schools, found from their sign-in e-mail."""

    class Meta:
        index_name = "by-email"
        projection = AllProjection()

    email = UnicodeAttribute(hash_key=True)


class StaffMember(Model):
    """A person's role at one school. One person at two schools has two items."""

    Meta = _meta("staff")

    school_id = UnicodeAttribute(hash_key=True)
    staff_id = UnicodeAttribute(range_key=True)
    email = UnicodeAttribute()  # the Cognito user name, lower case
    by_email = StaffByEmail()
    name = UnicodeAttribute()
    roles = ListAttribute(of=UnicodeAttribute, default=list)
    groups = ListAttribute(of=UnicodeAttribute, default=list)
    language = UnicodeAttribute(default="nl")
    active = BooleanAttribute(default=True)
    # Sessions signed in at or before this moment (epoch ms) are over: set
    # on sign-out, so copied cookies stop working even while their token is valid.
    signed_out_at = NumberAttribute(null=True)
    # SES reported this address: "bounce" (a permanent bounce) or "complaint"
    # (marked as spam); shown to the school's administrator until cleared.
    mail_problem = UnicodeAttribute(null=True)
    mail_problem_at = UTCDateTimeAttribute(null=True)


class Contact(MapAttribute[str, Any]):
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)


class Person(MapAttribute[str, Any]):
    """Someone named in a report, as the reporter wrote it."""

    role = UnicodeAttribute()  # "hurt" | "did_it"
    name = UnicodeAttribute()
    group = UnicodeAttribute(null=True)
    pupil_id = UnicodeAttribute(null=True)  # set when staff link the name to the roster


class Report(Model):
    """A report exactly as submitted. Staff never edit these answers."""

    Meta = _meta("reports")

    school_id = UnicodeAttribute(hash_key=True)
    report_id = UnicodeAttribute(range_key=True)  # "<UTC yyyymmddHHMMSSffffff>-<rand>"
    received_at = UTCDateTimeAttribute()
    received_week = UnicodeAttribute()  # ISO week in Europe/Amsterdam, "2026-W49"
    language = UnicodeAttribute()
    reporter_role = UnicodeAttribute()
    anonymous = BooleanAttribute()
    contact = Contact(null=True)
    categories = ListAttribute(of=UnicodeAttribute)
    description = UnicodeAttribute()
    hurt_self = BooleanAttribute(default=False)
    did_it_unknown = BooleanAttribute(default=False)
    persons = ListAttribute(of=Person, default=list)
    groups = ListAttribute(of=UnicodeAttribute, default=list)
    location = UnicodeAttribute()
    location_note = UnicodeAttribute(null=True)
    occurred_on = UnicodeAttribute()  # local date, "2026-12-01"
    part_of_day = UnicodeAttribute()
    frequency = UnicodeAttribute()
    told = ListAttribute(of=UnicodeAttribute, default=list)
    witnesses = UnicodeAttribute(null=True)
    danger_now = UnicodeAttribute()
    urgent = BooleanAttribute(default=False)
    status = UnicodeAttribute(default="new")
    receipt_hash = UnicodeAttribute()
    # The keyed hash in the idempotency key's pointer ("<school>#intake#<hash>"),
    # so retention can delete that pointer (the key itself is never stored).
    intake_hash = UnicodeAttribute(null=True)
    # Case handling; the answers above are never edited.
    closed_reason = UnicodeAttribute(null=True)
    assigned_to = UnicodeAttribute(null=True)  # staff id
    merged_into = UnicodeAttribute(null=True)  # report id of the case it joined
    linked_reports = ListAttribute(of=UnicodeAttribute, default=list)
    first_action_at = UTCDateTimeAttribute(null=True)
    last_activity_at = UTCDateTimeAttribute(null=True)
    # What the weekly counters need of the timeline: the kind of each
    # intervention, and "<kind>:<effect>" for each effect recorded.
    intervention_kinds = ListAttribute(of=UnicodeAttribute, default=list)
    effects = ListAttribute(of=UnicodeAttribute, default=list)
    # "spam" | "test": removed by the coordinator; content erased, not counted.
    removed_reason = UnicodeAttribute(null=True)
    # Set when retention or erasure removed the personal data; the anonymous
    # remainder (category, place, dates, status) stays counted.
    anonymised_at = UTCDateTimeAttribute(null=True)
    # A legal hold keeps the case from retention and erasure.
    legal_hold = UnicodeAttribute(null=True)
    version = VersionAttribute()


class ReportIndex(Model):
    """Pointers to reports, written in the same transaction as the report.

    scope "<school>#group#<group>", sort = report id: reports touching a group.
    scope "<school>#receipt#<hash>", sort "receipt": the report of a receipt code.
    scope "<school>#intake#<hash>", sort "intake": the report of an idempotency key.
    scope "<school>#pupil#<pupil>", sort = report id: reports a pupil is linked to.
    scope "<school>#followup", sort "<date>#<report>#<event>": follow-ups due.
    scope "<school>#interventions", sort "<date>#<report>#<event>": interventions
    by the day they were held (effect overviews).
    scope "<school>#expiry", sort "<UTC time>#<report>": every case not yet
    anonymised and not under a legal hold, by the moment its retention period
    starts (its last activity); see retention.py.
    """

    Meta = _meta("report-index")

    scope = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)
    report_id = UnicodeAttribute()
    answers_hash = UnicodeAttribute(null=True)  # intake pointers: see reports.py
    kind = UnicodeAttribute(null=True)  # intervention pointers: the intervention


class PupilsByGroup(GlobalSecondaryIndex["Pupil"]):
    """The pupils of one group: "<school>#<group id>"."""

    class Meta:
        index_name = "by-group"
        projection = AllProjection()

    school_group = UnicodeAttribute(hash_key=True)
    last_name = UnicodeAttribute(range_key=True)


class Pupil(Model):
    """A pupil from the school's roster, by the administration system's number."""

    Meta = _meta("pupils")

    school_id = UnicodeAttribute(hash_key=True)
    pupil_id = UnicodeAttribute(range_key=True)
    school_group = UnicodeAttribute()
    by_group = PupilsByGroup()
    first_name = UnicodeAttribute()
    last_name = UnicodeAttribute()
    group = UnicodeAttribute()
    left = BooleanAttribute(default=False)
    # The school year this pupil's group was set for by a rollover, so a rollover
    # interrupted and run again moves nobody twice. A roster import clears it.
    school_year = UnicodeAttribute(null=True)
    # Set when the pupil's data were erased on request (privacy.py): the names
    # are replaced, the pupil number stays so the erasure can be accounted for.
    erased_at = UTCDateTimeAttribute(null=True)


class CaseEvent(Model):
    """One entry on a case's timeline: note, status change, intervention, message.

    case_key "<school>#<report id>", event_id "<UTC time>#<random>" (time order).
    """

    Meta = _meta("case-events")

    case_key = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor = UnicodeAttribute(null=True)  # staff id; None for the reporter
    actor_role = UnicodeAttribute(null=True)
    text = UnicodeAttribute(null=True)
    data = MapAttribute[str, Any](null=True)


class AuditEvent(Model):
    """An append-only audit entry: who did what, when, in which role.

    trail "<school>#report#<id>" for a report, "<school>#school" for school-wide
    events (sign-ins, exports). The code only ever adds entries (see audit.py);
    the stack grants the functions no right to update or delete them.
    """

    Meta = _meta("audit")

    trail = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)  # "<UTC time>#<random>"
    at = UTCDateTimeAttribute()
    action = UnicodeAttribute()
    actor = UnicodeAttribute(null=True)
    actor_role = UnicodeAttribute(null=True)
    detail = MapAttribute[str, Any](null=True)
    # DynamoDB deletes the entry after this (the trail's own retention, audit.py).
    expires = TTLAttribute(null=True)


class WeekAggregate(Model):
    """Counters of one scope (a school, or one group) for one ISO week of receipt.

    Counters are attributes named "<dimension>:<value>" added with ADD, so they
    are not declared here; read them with `aggregates.weeks_of`.
    """

    Meta = _meta("aggregates")

    scope = UnicodeAttribute(hash_key=True)
    week = UnicodeAttribute(range_key=True)


class ReplyAlert(Model):
    """The address a reporter left to hear that a reply waits. Staff never see it:
    no staff page reads this table, and the mail it gets says nothing more."""

    Meta = _meta("reply-alerts")

    school_id = UnicodeAttribute(hash_key=True)
    report_id = UnicodeAttribute(range_key=True)
    email = UnicodeAttribute()


class RateCounter(Model):
    """Fixed-window request counters; keys hold only hashes, never addresses."""

    Meta = _meta("rate-limits")

    bucket = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires = TTLAttribute()


class IdempotencyRecord(Model):
    """The table Powertools' idempotency utility writes; defined here so the local
    run, the tests and the stack create it from one definition."""

    Meta = _meta("idempotency")

    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute(null=True)


class Delivery(Model):
    """One scheduled mail to one recipient, claimed before SES is asked to send it.

    key "<school>#<week>#<job>", recipient = staff id. The claim is a conditional
    put, so two runs never both send; "claimed" left behind by a run that died
    after SES accepted the mail is never resent (SES has no idempotency token).
    status: "claimed" | "sent" | "failed" (SES refused it; a later run may retry).
    """

    Meta = _meta("deliveries")

    key = UnicodeAttribute(hash_key=True)
    recipient = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    attempts = NumberAttribute(default=1)
    claimed_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    error = UnicodeAttribute(null=True)  # SES's error code only, never the address
    expires = TTLAttribute()


class WeekSnapshot(Model):
    """The leadership dashboard of one past week, frozen on the Monday after it.

    Written once (a conditional put): later data changes, spam removal and the
    retention rules never alter it, so weeks stay comparable. Figures and ids
    only (categories, intervention kinds, weeks): no names, no report texts.
    """

    Meta = _meta("week-snapshots")

    school_id = UnicodeAttribute(hash_key=True)
    week = UnicodeAttribute(range_key=True)
    created_at = UTCDateTimeAttribute()
    school_year = UnicodeAttribute()
    reports = NumberAttribute()  # received in the week
    urgent = NumberAttribute()
    week_before = NumberAttribute()
    week_before_urgent = NumberAttribute()
    recent_average = NumberAttribute()  # per week, over the weeks before those
    year_total = NumberAttribute()  # the school year up to and including the week
    # Case handling as it stood when the snapshot was made (Monday morning).
    open_cases = NumberAttribute()
    overdue = NumberAttribute()
    acted = NumberAttribute()
    median_hours = NumberAttribute(null=True)
    within_day = NumberAttribute()
    open_by_age = JSONAttribute()  # [[low, high or null, count], ...]
    categories = JSONAttribute()  # [[category id, reports this school year], ...]
    trend = JSONAttribute()  # [[week, reports], ...] of the school year
    effects = JSONAttribute()  # [{kind, interventions, effects, followed, recurred}]


ALL_MODELS: tuple[type[Model], ...] = (
    School,
    StaffMember,
    Report,
    ReportIndex,
    Pupil,
    CaseEvent,
    AuditEvent,
    ReplyAlert,
    WeekAggregate,
    RateCounter,
    IdempotencyRecord,
    Delivery,
    WeekSnapshot,
)


def create_tables() -> None:
    """Create every table that does not exist yet (local run and tests only)."""
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=True)
