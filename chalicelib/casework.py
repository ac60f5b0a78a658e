"""Changes to a case. The original answers are never edited.

Each change is one DynamoDB transaction: the report's case fields (guarded by its
version, so two people changing one case at once cannot overwrite each other),
the timeline event, any index pointers and the audit entry. Either all of it is
stored or none of it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib import aggregates, audit
from chalicelib.access import HANDLERS, TEACHER, StaffContext
from chalicelib.cases import STATUSES, case_key, event_data, pending_interventions
from chalicelib.errors import Conflict, FieldError, NotFound, ValidationFailed
from chalicelib.i18n import both
from chalicelib.models import CaseEvent, Pupil, Report, ReportIndex, School, StaffMember
from chalicelib.reports import expiry_pointer, retention_start
from chalicelib.weeks import local_today, now_utc

CLOSE_REASONS = ("stopped", "solved_together", "referred", "no_grounds", "duplicate")
EFFECTS = ("stopped", "less", "unchanged", "worse")
MAX_NOTE = 4000
# Ids typed or posted are bounded before they reach DynamoDB (keys are capped).
MAX_ID = 64
# The audit role of changes a scheduled job makes (retention), not a person.
SYSTEM_ROLE = "system"


@dataclass
class Change:
    """What one case action writes, gathered before the single transaction."""

    kind: str
    text: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    report_actions: list[Action] = field(default_factory=list)
    pointers: list[ReportIndex] = field(default_factory=list)
    removed_pointers: list[ReportIndex] = field(default_factory=list)
    extra_updates: list[tuple[Model, list[Action]]] = field(default_factory=list)
    # The report's counted fields after the change, where it changes them
    # (field name -> new value), for the weekly counters.
    counted: dict[str, Any] = field(default_factory=dict)
    # Whether the change is activity on the case, which restarts its retention
    # period; holds and retention itself are not.
    activity: bool = True
    # An entry for the school's own trail as well (retention, erasure): ids only.
    school_audit: dict[str, Any] | None = None

    def counted_state(self, report: Report, first_action_at: Any = None) -> Any:
        """The report as the weekly counters will see it after this change."""
        state = {name: getattr(report, name) for name in COUNTED_FIELDS}
        state["persons"] = [
            SimpleNamespace(role=p.role, pupil_id=p.pupil_id) for p in report.persons
        ]
        state.update(self.counted)
        if state["first_action_at"] is None:
            state["first_action_at"] = first_action_at
        return SimpleNamespace(**state)


# Every report field the weekly counters read (aggregates.report_counters).
COUNTED_FIELDS = (
    "school_id",
    "received_at",
    "received_week",
    "categories",
    "occurred_on",
    "location",
    "part_of_day",
    "frequency",
    "reporter_role",
    "urgent",
    "status",
    "groups",
    "persons",
    "intervention_kinds",
    "effects",
    "first_action_at",
    "removed_reason",
)


def _invalid(name: str, msgid: str) -> ValidationFailed:
    return ValidationFailed([FieldError(name, "invalid", both(msgid))])


def _text(value: str | None, name: str, required: bool = True) -> str | None:
    if value is None or not value.strip():
        if required:
            raise _invalid(name, "Please fill this in.")
        return None
    if len(value) > MAX_NOTE:
        raise _invalid(name, "This text is too long.")
    return value


def followup_scope(school_id: str) -> str:
    return f"{school_id}#followup"


def interventions_scope(school_id: str) -> str:
    return f"{school_id}#interventions"


def pupil_scope(school_id: str, pupil_id: str) -> str:
    return f"{school_id}#pupil#{pupil_id}"


def apply(context: StaffContext, report: Report, change: Change) -> CaseEvent:
    """Store a change in one transaction; a concurrent edit answers 409."""
    return _store(
        report,
        change,
        actor=context.member.staff_id,
        actor_role=context.role,
        handles_cases=context.handles_cases,
    )


def apply_as_system(job: str, report: Report, change: Change) -> CaseEvent:
    """Store a scheduled job's change (retention), recorded as the job with the
    role "system". It never counts as a first action on the case."""
    return _store(
        report, change, actor=job, actor_role=SYSTEM_ROLE, handles_cases=False
    )


def _store(
    report: Report,
    change: Change,
    *,
    actor: str,
    actor_role: str,
    handles_cases: bool,
) -> CaseEvent:
    at = now_utc()
    event = CaseEvent(
        case_key(report.school_id, report.report_id),
        f"{at:%Y%m%d%H%M%S%f}#{secrets.token_hex(3)}",
        kind=change.kind,
        at=at,
        actor=actor,
        actor_role=actor_role,
        text=change.text,
        data=change.data or None,
    )
    if change.kind == "intervention":
        with_followup_pointer(change, report, event.event_id)
        change.pointers.append(
            ReportIndex(
                interventions_scope(report.school_id),
                f"{change.data['on']}#{report.report_id}#{event.event_id}",
                report_id=report.report_id,
                kind=change.data["kind"],
            )
        )
    actions = list(change.report_actions)
    if change.activity:
        actions.append(Report.last_activity_at.set(at))
        _restart_retention(change, report, at)
    first_action_at = None
    if handles_cases and report.first_action_at is None:
        first_action_at = at
        actions.append(Report.first_action_at.set(at))
    entries = [
        audit.new_entry(
            audit.report_trail(report.school_id, report.report_id),
            change.kind,
            actor,
            actor_role,
            {"event_id": event.event_id},
        )
    ]
    if change.school_audit is not None:
        entries.append(
            audit.new_entry(
                audit.school_trail(report.school_id),
                change.kind,
                actor,
                actor_role,
                change.school_audit,
            )
        )
    try:
        with TransactWrite(connection=Report._get_connection().connection) as tx:
            tx.update(report, actions=actions)
            tx.save(event, condition=CaseEvent.event_id.does_not_exist())
            for entry in entries:
                tx.save(entry, condition=audit.APPEND_ONLY)
            for pointer in change.pointers:
                tx.save(pointer)
            for pointer in change.removed_pointers:
                tx.delete(pointer)
            for model, model_actions in change.extra_updates:
                tx.update(model, actions=model_actions)
            after = change.counted_state(report, first_action_at)
            week_changes = aggregates.delta(report, after)
            for aggregate, counter_actions in aggregates.items_for(week_changes):
                tx.update(aggregate, actions=counter_actions)
    except TransactWriteError as error:
        raise Conflict(
            both(
                "Someone else changed this case just now. Reload the page and try again."
            ),
            cause=error,
        ) from error
    return event


def _restart_retention(change: Change, report: Report, at: Any) -> None:
    """Move the case's expiry pointer to this activity (none under a hold)."""
    if report.legal_hold:
        return
    school_id, report_id = report.school_id, report.report_id
    change.removed_pointers.append(
        expiry_pointer(school_id, report_id, retention_start(report))
    )
    change.pointers.append(expiry_pointer(school_id, report_id, at))


def require_handler(context: StaffContext) -> None:
    if not context.roles & HANDLERS:
        raise NotFound(both("This page does not exist."))


def set_status(report: Report, status: str, reason: str | None) -> Change:
    if status not in STATUSES:
        raise _invalid("status", "Please choose one of the answers shown.")
    if status == "closed" and reason not in CLOSE_REASONS:
        raise _invalid("reason", "Closing a case needs a reason.")
    closed_reason = reason if status == "closed" else None
    return Change(
        "status",
        data={"from": report.status, "to": status, "reason": closed_reason},
        counted={"status": status},
        report_actions=[
            Report.status.set(status),
            Report.closed_reason.set(closed_reason)
            if closed_reason
            else Report.closed_reason.remove(),
        ],
    )


def assign(report: Report, staff_id: str) -> Change:
    if not staff_id or len(staff_id) > MAX_ID:
        raise _invalid("staff_id", "Please choose one of the answers shown.")
    try:
        member = StaffMember.get(report.school_id, staff_id)
    except StaffMember.DoesNotExist as error:
        raise _invalid("staff_id", "Please choose one of the answers shown.") from error
    if not member.active or not set(member.roles) & (HANDLERS | {TEACHER}):
        raise _invalid("staff_id", "Please choose one of the answers shown.")
    return Change(
        "assign",
        data={"staff_id": staff_id},
        report_actions=[Report.assigned_to.set(staff_id)],
    )


def note(text: str | None) -> Change:
    return Change("note", text=_text(text, "text"))


def observation(text: str | None) -> Change:
    return Change("observation", text=_text(text, "text"))


def message_to_reporter(text: str | None) -> Change:
    return Change("message_out", text=_text(text, "text"))


def intervention(
    school: School,
    report: Report,
    *,
    kind: str,
    on: str,
    follow_up_on: str | None,
    text: str | None,
) -> Change:
    if kind not in {choice.id for choice in school.interventions}:
        raise _invalid("kind", "Please choose one of the answers shown.")
    day = _day(on, "on")
    if day > local_today():
        raise _invalid("on", "This date is in the future.")
    follow_up = _day(follow_up_on, "follow_up_on") if follow_up_on else None
    if follow_up is not None and follow_up < day:
        raise _invalid(
            "follow_up_on", "The follow-up date must come after the intervention."
        )
    change = Change(
        "intervention",
        text=_text(text, "text", required=False),
        data={
            "kind": kind,
            "on": day.isoformat(),
            "follow_up_on": follow_up.isoformat() if follow_up else None,
        },
    )
    kinds: list[Any] = [*report.intervention_kinds, kind]
    change.counted["intervention_kinds"] = kinds
    change.report_actions.append(Report.intervention_kinds.set(kinds))
    if follow_up is not None:
        change.report_actions.append(Report.status.set("follow_up"))
        change.counted["status"] = "follow_up"
    return change


def with_followup_pointer(change: Change, report: Report, event_id: str) -> None:
    """The due follow-up, findable per school by date (weekly mails, overviews)."""
    follow_up_on = change.data.get("follow_up_on")
    if follow_up_on:
        change.pointers.append(
            ReportIndex(
                followup_scope(report.school_id),
                f"{follow_up_on}#{report.report_id}#{event_id}",
                report_id=report.report_id,
            )
        )


def effect(report: Report, intervention_event: CaseEvent, outcome: str) -> Change:
    if outcome not in EFFECTS:
        raise _invalid("effect", "Please choose one of the answers shown.")
    data = intervention_event.data.as_dict() if intervention_event.data else {}
    effects: list[Any] = [*report.effects, f"{data.get('kind')}:{outcome}"]
    change = Change(
        "effect",
        data={
            "intervention": intervention_event.event_id,
            "effect": outcome,
            "kind": data.get("kind"),
        },
        counted={"effects": effects},
        report_actions=[Report.effects.set(effects)],
    )
    if data.get("follow_up_on"):
        change.removed_pointers.append(
            ReportIndex(
                followup_scope(report.school_id),
                f"{data['follow_up_on']}#{report.report_id}#{intervention_event.event_id}",
                report_id=report.report_id,
            )
        )
    return change


def link_pupil(report: Report, person_index: int, pupil_id: str) -> Change:
    if not 0 <= person_index < len(report.persons):
        raise _invalid("person", "Please choose one of the answers shown.")
    if not pupil_id or len(pupil_id) > MAX_ID:
        raise _invalid("pupil_id", "This pupil is not in the school's roster.")
    try:
        pupil = Pupil.get(report.school_id, pupil_id)
    except Pupil.DoesNotExist as error:
        raise _invalid(
            "pupil_id", "This pupil is not in the school's roster."
        ) from error
    person = report.persons[person_index]
    groups = _sorted_ids(*report.groups, pupil.group)
    persons = [
        SimpleNamespace(
            role=p.role, pupil_id=pupil_id if i == person_index else p.pupil_id
        )
        for i, p in enumerate(report.persons)
    ]
    change = Change(
        "link_pupil",
        data={"person": person_index, "pupil_id": pupil_id, "role": person.role},
        counted={"groups": groups, "persons": persons},
        report_actions=[
            Report.persons[person_index]["pupil_id"].set(pupil_id),
            Report.groups.set(groups),
        ],
        pointers=[
            ReportIndex(
                pupil_scope(report.school_id, pupil_id),
                report.report_id,
                report_id=report.report_id,
            )
        ],
    )
    if pupil.group not in report.groups:
        # Linking a pupil brings the report to the teachers of the pupil's group.
        change.pointers.append(
            ReportIndex(
                f"{report.school_id}#group#{pupil.group}",
                report.report_id,
                report_id=report.report_id,
            )
        )
    return change


def merge_into(report: Report, target: Report) -> Change:
    if target.report_id == report.report_id or target.merged_into:
        raise _invalid("target", "This report cannot be merged into that case.")
    return Change(
        "merged",
        data={"into": target.report_id},
        counted={"status": "closed"},
        report_actions=[
            Report.merged_into.set(target.report_id),
            Report.status.set("closed"),
            Report.closed_reason.set("duplicate"),
        ],
        extra_updates=[
            (
                target,
                [
                    Report.linked_reports.set(
                        _sorted_ids(*target.linked_reports, report.report_id)
                    )
                ],
            )
        ],
    )


def link_case(report: Report, other: Report) -> Change:
    if other.report_id == report.report_id:
        raise _invalid("other", "A case cannot be linked to itself.")
    return Change(
        "linked",
        data={"other": other.report_id},
        report_actions=[
            Report.linked_reports.set(
                _sorted_ids(*report.linked_reports, other.report_id)
            )
        ],
        extra_updates=[
            (
                other,
                [
                    Report.linked_reports.set(
                        _sorted_ids(*other.linked_reports, report.report_id)
                    )
                ],
            )
        ],
    )


def _day(value: str | None, name: str) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError as error:
        raise _invalid(name, "This is not a valid date.") from error


def _sorted_ids(*values: object) -> Any:
    """A sorted list of unique ids, as stored in the report's id lists."""
    return sorted({str(value) for value in values})


REMOVE_REASONS = ("spam", "test")


def remove(report: Report, reason: str, timeline: list[CaseEvent]) -> Change:
    """Remove a spam or test report: its content is erased, it leaves every list
    and is no longer counted. The empty report and its audit trail remain, so
    the removal itself can be accounted for."""
    if reason not in REMOVE_REASONS:
        raise _invalid("reason", "Please choose one of the answers shown.")
    if report.removed_reason:
        raise _invalid("reason", "This report has been removed already.")
    if report.legal_hold:
        raise _invalid("reason", "This case is under a legal hold.")
    change = Change(
        "removed",
        data={"reason": reason},
        counted={"removed_reason": reason, "status": "closed", "groups": []},
        report_actions=[
            Report.removed_reason.set(reason),
            Report.status.set("closed"),
            Report.closed_reason.set("no_grounds"),
            Report.description.set(""),
            Report.contact.remove(),
            Report.persons.set([]),
            Report.groups.set([]),
            Report.witnesses.remove(),
            Report.location_note.remove(),
        ],
        removed_pointers=[
            *_pupil_pointers(report),
            *(
                ReportIndex(
                    f"{report.school_id}#group#{group}",
                    report.report_id,
                    report_id=report.report_id,
                )
                for group in report.groups
            ),
            *followup_pointers(report, timeline),
        ],
    )
    change.counted["persons"] = []
    return change


def _pupil_pointers(report: Report) -> list[ReportIndex]:
    pupils = sorted({str(p.pupil_id) for p in report.persons if p.pupil_id})
    return [
        ReportIndex(
            pupil_scope(report.school_id, pupil),
            report.report_id,
            report_id=report.report_id,
        )
        for pupil in pupils
    ]


def followup_pointers(report: Report, timeline: list[CaseEvent]) -> list[ReportIndex]:
    """The due-follow-up pointers of a case's interventions still pending."""
    pointers = []
    for event in pending_interventions(timeline):
        follow_up_on = event_data(event).get("follow_up_on")
        if follow_up_on:
            pointers.append(
                ReportIndex(
                    followup_scope(report.school_id),
                    f"{follow_up_on}#{report.report_id}#{event.event_id}",
                    report_id=report.report_id,
                )
            )
    return pointers


def anonymise(report: Report) -> Change:
    """Retention or erasure: the personal data go, the anonymous remainder
    (categories, place, dates, groups, status) stays and stays counted."""
    if report.legal_hold:
        raise _invalid("reason", "This case is under a legal hold.")
    return Change(
        "anonymised",
        counted={"persons": []},
        report_actions=[
            Report.anonymised_at.set(now_utc()),
            Report.description.set(""),
            Report.contact.remove(),
            Report.persons.set([]),
            Report.witnesses.remove(),
            Report.location_note.remove(),
        ],
        removed_pointers=_pupil_pointers(report),
    )


# A hold's reason is a reference (a court case, the police's request), not a story.
MAX_HOLD_REASON = 500


def legal_hold(report: Report, reason: str | None) -> Change:
    """Set a legal hold with its reason, or lift it (reason None).

    A held case leaves the retention order and erasure skips it. Neither
    setting nor lifting is activity on the case: lifting puts the case back
    where its last activity places it, so a hold never extends retention.
    """
    pointer = expiry_pointer(
        report.school_id, report.report_id, retention_start(report)
    )
    if reason is None:
        if not report.legal_hold:
            raise _invalid("reason", "This case is not under a legal hold.")
        return Change(
            "legal_hold_lifted",
            activity=False,
            report_actions=[Report.legal_hold.remove()],
            pointers=[pointer],
            school_audit={"report_id": report.report_id},
        )
    text = _text(reason, "reason") or ""
    if len(text) > MAX_HOLD_REASON:
        raise _invalid("reason", "This text is too long.")
    change = Change(
        "legal_hold",
        text=text,
        activity=False,
        report_actions=[Report.legal_hold.set(text)],
        school_audit={"report_id": report.report_id},
    )
    if not report.legal_hold:
        change.removed_pointers.append(pointer)
    return change


# What an erased name is replaced with in the report's free texts.
ERASED = "[…]"


def erase_pupil(report: Report, pupil_id: str, names: list[str]) -> Change:
    """Erasure on request: the pupil's entries in the report lose their name and
    link, and the pupil's names are blanked out of the report's free texts.

    Everything else stays, so the case and its anonymous counts remain.
    """
    if report.legal_hold:
        raise _invalid("reason", "This case is under a legal hold.")
    persons = [
        SimpleNamespace(
            role=p.role, pupil_id=None if p.pupil_id == pupil_id else p.pupil_id
        )
        for p in report.persons
    ]
    actions: list[Action] = []
    for index, person in enumerate(report.persons):
        if person.pupil_id == pupil_id:
            actions.append(Report.persons[index]["name"].set(""))
            actions.append(Report.persons[index]["pupil_id"].remove())
    for name in ("description", "witnesses", "location_note"):
        value = getattr(report, name)
        blanked = blank_names(value, names) if value else value
        if blanked != value:
            actions.append(getattr(Report, name).set(blanked))
    return Change(
        "pupil_erased",
        activity=False,
        counted={"persons": persons},
        report_actions=actions,
        removed_pointers=[
            ReportIndex(
                pupil_scope(report.school_id, pupil_id),
                report.report_id,
                report_id=report.report_id,
            )
        ],
    )


def blank_names(text: str, names: list[str]) -> str:
    """The text with each of the names (whole words, any case) replaced."""
    words = sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True)
    if not words:
        return text
    pattern = r"\b(?:" + "|".join(re.escape(word) for word in words) + r")\b"
    return re.sub(pattern, ERASED, text, flags=re.IGNORECASE)
