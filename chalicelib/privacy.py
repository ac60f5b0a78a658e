"""A pupil's rights under the AVG: what is stored about them (subject access) and
erasure on request. Both work from the pupil's own pointers ("<school>#pupil#<id>"),
so they read the pupil's reports and nothing else.

An export never reveals the reporter or another pupil: it leaves out the
reporter's contact, the witnesses and the messages with the reporter, gives
other persons only their role, and blanks every name the school knows in the
case (other persons, linked pupils, the reporter) plus e-mail addresses and
phone numbers in free texts. A name typed in a free text that the school never
linked or recorded cannot be recognised: the coordinator reads the export
before handing it over (the page says so).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib import audit, casework, schools
from chalicelib.access import StaffContext
from chalicelib.cases import case_key
from chalicelib.casework import ERASED, blank_names
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.i18n import both
from chalicelib.models import CaseEvent, Pupil, Report, ReportIndex
from chalicelib.weeks import SCHOOL_TZ, now_utc

# Timeline entries an export shows: staff's own work on the case. Messages with
# the reporter are left out, they are the reporter's words and name them.
EXPORTED_EVENTS = frozenset(
    {"status", "note", "observation", "intervention", "effect", "legal_hold"}
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"\+?\d[\d\s().-]{7,}\d")


def find_pupil(school_id: str, pupil_id: str) -> Pupil:
    if not pupil_id or len(pupil_id) > casework.MAX_ID:
        raise NotFound(both("This page does not exist."))
    try:
        return Pupil.get(school_id, pupil_id)
    except Pupil.DoesNotExist as missing:
        raise NotFound(both("This page does not exist.")) from missing


def report_of_school(context: StaffContext, report_id: str) -> Report:
    """A report of the staff member's school, for its audit trail only: the
    caller shows its number and trail, never its contents."""
    not_found = NotFound(both("This report does not exist or is not yours to see."))
    if not report_id or len(report_id) > casework.MAX_ID:
        raise not_found
    try:
        return Report.get(context.school_id, report_id)
    except Report.DoesNotExist as missing:
        raise not_found from missing


def linked_reports(school_id: str, pupil_id: str) -> list[Report]:
    """Every report the pupil is linked to, oldest first (their pointers only)."""
    pointers = ReportIndex.query(casework.pupil_scope(school_id, pupil_id))
    keys = [(school_id, p.report_id) for p in pointers]
    return sorted(Report.batch_get(keys), key=lambda r: r.report_id) if keys else []


def _events(report: Report) -> list[CaseEvent]:
    return list(CaseEvent.query(case_key(report.school_id, report.report_id)))


def _other_names(report: Report, pupil: Pupil) -> list[str]:
    """Every name in the case that is not the pupil's: to blank in free texts."""
    names: list[str] = []
    for person in report.persons:
        if person.pupil_id != pupil.pupil_id:
            names += str(person.name or "").split()
    if report.contact is not None:
        names += str(report.contact.name or "").split()
        names += [str(report.contact.email or ""), str(report.contact.phone or "")]
    others = {
        (report.school_id, str(p.pupil_id))
        for p in report.persons
        if p.pupil_id and p.pupil_id != pupil.pupil_id
    }
    for other in Pupil.batch_get(sorted(others)) if others else []:
        names += [str(other.first_name), str(other.last_name)]
    own = {str(pupil.first_name).lower(), str(pupil.last_name).lower()}
    # Name words only: "van", "de" and "der" are Dutch words too, and blanking
    # them would blank half a sentence; the capitalised parts identify.
    return [
        name
        for name in names
        if len(name) > 1 and not name.islower() and name.lower() not in own
    ]


def _redacted(text: str | None, names: list[str]) -> str | None:
    if not text:
        return text
    text = EMAIL.sub(ERASED, text)
    text = PHONE.sub(ERASED, text)
    return blank_names(text, names)


def _report_part(report: Report, pupil: Pupil) -> dict[str, Any]:
    names = _other_names(report, pupil)
    events = [e for e in _events(report) if e.kind in EXPORTED_EVENTS]
    return {
        "report_id": report.report_id,
        "received_on": report.received_at.astimezone(SCHOOL_TZ).date().isoformat(),
        "occurred_on": report.occurred_on,
        "part_of_day": report.part_of_day,
        "how_often": report.frequency,
        "categories": list(report.categories),
        "place": report.location,
        "place_note": _redacted(report.location_note, names),
        "status": report.status,
        "closed_reason": report.closed_reason,
        "legal_hold": bool(report.legal_hold),
        "description": _redacted(report.description, names),
        "persons": [
            {
                "role": person.role,
                "this_pupil": person.pupil_id == pupil.pupil_id,
                "name": person.name if person.pupil_id == pupil.pupil_id else None,
                "group": person.group,
            }
            for person in report.persons
        ],
        "timeline": [
            {
                "at": event.at.isoformat(),
                "kind": event.kind,
                "text": _redacted(event.text, names),
                "data": {
                    k: v
                    for k, v in (event.data.as_dict() if event.data else {}).items()
                    if k in ("kind", "on", "follow_up_on", "effect", "to", "reason")
                },
            }
            for event in events
        ],
    }


def export(context: StaffContext, pupil_id: str) -> dict[str, Any]:
    """Everything stored about one pupil, for the coordinator to hand over."""
    pupil = find_pupil(context.school_id, pupil_id)
    school = schools.get_school(context.school_id)
    reports = linked_reports(context.school_id, pupil.pupil_id)
    audit.record(
        audit.school_trail(context.school_id),
        "export_pupil",
        context.member.staff_id,
        context.role,
        {"pupil_id": pupil.pupil_id, "reports": len(reports)},
    )
    group_names = {g.id: g.name for g in school.groups}
    parts = [_report_part(report, pupil) for report in reports]
    return {
        "school": school.name,
        "made_at": now_utc().isoformat(),
        "pupil": {
            "pupil_number": pupil.pupil_id,
            "first_name": pupil.first_name,
            "last_name": pupil.last_name,
            "group": group_names.get(str(pupil.group), pupil.group),
            "left_school": bool(pupil.left),
            "erased_at": pupil.erased_at.isoformat() if pupil.erased_at else None,
        },
        "reports": parts,
        "interventions": [
            {"report_id": part["report_id"], **entry["data"], "at": entry["at"]}
            for part in parts
            for entry in part["timeline"]
            if entry["kind"] == "intervention"
        ],
        "about_this_export": (
            "The reporter and other pupils are left out: their names, contact "
            "details and messages are not included, and names the school knows "
            f"are replaced by {ERASED} in free texts."
        ),
    }


def export_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


@dataclass
class Erasure:
    pupil_id: str
    erased: list[str] = field(default_factory=list)  # report ids
    held: list[str] = field(default_factory=list)  # report ids under a legal hold
    changed: list[str] = field(default_factory=list)  # changed meanwhile: again


def erase(context: StaffContext, pupil_id: str) -> Erasure:
    """Erase one pupil's personal data from every report they are linked to and
    from the roster. Cases under a legal hold keep them, and are listed."""
    pupil = find_pupil(context.school_id, pupil_id)
    names = [str(pupil.first_name), str(pupil.last_name)]
    result = Erasure(pupil.pupil_id)
    for report in linked_reports(context.school_id, pupil.pupil_id):
        if report.legal_hold:
            result.held.append(report.report_id)
            continue
        try:
            casework.apply(
                context, report, casework.erase_pupil(report, pupil.pupil_id, names)
            )
        except (Conflict, ValidationFailed):
            result.changed.append(report.report_id)
            continue
        _erase_from_timeline(report, pupil.pupil_id, names)
        result.erased.append(report.report_id)
    if not result.held and not result.changed:
        pupil.update(
            actions=[
                Pupil.first_name.set(""),
                Pupil.last_name.set(ERASED),
                Pupil.erased_at.set(now_utc()),
            ]
        )
    audit.record(
        audit.school_trail(context.school_id),
        "erase_pupil",
        context.member.staff_id,
        context.role,
        {
            "pupil_id": pupil.pupil_id,
            "reports": result.erased,
            "held": result.held,
            "changed": result.changed,
        },
    )
    return result


def _erase_from_timeline(report: Report, pupil_id: str, names: list[str]) -> None:
    for event in _events(report):
        actions: list[Action] = []
        if event.text:
            blanked = blank_names(event.text, names)
            if blanked != event.text:
                actions.append(CaseEvent.text.set(blanked))
        data = event.data.as_dict() if event.data else {}
        if data.get("pupil_id") == pupil_id:
            kept = {k: v for k, v in data.items() if k != "pupil_id"}
            actions.append(CaseEvent.data.set(kept))
        if actions:
            event.update(actions=actions)
