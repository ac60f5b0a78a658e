"""Retention: a case's personal data go a school's `retention_years` after its
last activity (for a closed case: its closing or later); its anonymous remainder
stays counted.

Expired cases are found without a Scan and without reading history: every case
not yet anonymised and not under a legal hold has one pointer in the scope
"<school>#expiry", sorted by the moment its retention period started. Intake
writes it; every change on the case moves it in the same transaction (casework);
a hold takes it out and lifting the hold puts it back; anonymising deletes it.
So one Query on the range before the cut-off reads the expired cases and
nothing else: its cost does not grow with unexpired cases, nor with cases
anonymised before. (The other way, a Query on report ids older than the
period, would read every anonymised report again on each run, and a report
received long ago but handled recently, forever.)

Safe to interrupt and to run twice at once: a case's timeline is cleared and its
reply address deleted first (both idempotent), then one transaction guarded by
the report's version anonymises it and deletes its pointers. A run stopped
before that transaction leaves the pointer, so the next run does the case again;
of two runs at once, the second transaction fails on the version and skips.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import casework
from chalicelib.cases import case_key
from chalicelib.errors import Conflict, ValidationFailed
from chalicelib.models import (
    CaseEvent,
    ReplyAlert,
    Report,
    ReportIndex,
    School,
)
from chalicelib.obs import logger
from chalicelib.reports import (
    expiry_pointer,
    expiry_scope,
    intake_scope_of_hash,
    receipt_scope,
    retention_start,
)
from chalicelib.weeks import now_utc

JOB = "retention-job"  # the actor the audit trail names
# A school setting below this would erase cases still being handled.
MIN_RETENTION_YEARS = 1
# Cases anonymised per school in one run; the rest wait for the next run
# (the schedule is daily), so one invocation stays well within Lambda's limit.
MAX_CASES_PER_RUN = 500
# What anonymising removes, as the audit trail names it (never the content).
REMOVED_PARTS = (
    "description",
    "contact",
    "persons",
    "witnesses",
    "location_note",
    "timeline_texts",
    "reply_address",
    "receipt_code",
    "pupil_links",
)


@dataclass
class Outcome:
    school_id: str
    cutoff: str
    anonymised: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)  # found (the dry run's list)
    held: int = 0
    skipped: int = 0  # changed meanwhile or done by another run

    def counts(self) -> dict[str, Any]:
        return {
            "school_id": self.school_id,
            "cutoff": self.cutoff,
            "expired": len(self.expired),
            "anonymised": len(self.anonymised),
            "held": self.held,
            "skipped": self.skipped,
        }


def cutoff(school: School, now: datetime | None = None) -> datetime:
    """The moment before which a retention period that started has run out."""
    now = now or now_utc()
    years = max(int(school.retention_years or 0), MIN_RETENTION_YEARS)
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def expired_pointers(
    school: School, before: datetime, limit: int = MAX_CASES_PER_RUN
) -> list[ReportIndex]:
    """The expiry pointers of cases whose period started before `before`."""
    return list(
        ReportIndex.query(
            expiry_scope(school.school_id),
            range_key_condition=ReportIndex.sort < f"{before:%Y%m%d%H%M%S%f}",
            limit=limit,
            page_size=min(limit, 100),
        )
    )


def run_school(
    school: School, *, dry_run: bool = False, now: datetime | None = None
) -> Outcome:
    """Anonymise the school's expired cases (or, dry, only list them)."""
    before = cutoff(school, now)
    outcome = Outcome(school.school_id, before.isoformat())
    for pointer in expired_pointers(school, before):
        outcome.expired.append(str(pointer.report_id))
        if dry_run:
            continue
        result = expire_case(school, pointer, before)
        if result == "anonymised":
            outcome.anonymised.append(str(pointer.report_id))
        elif result == "held":
            outcome.held += 1
        else:
            outcome.skipped += 1
    logger.info("retention run", extra={**outcome.counts(), "dry_run": dry_run})
    return outcome


def expire_case(school: School, pointer: ReportIndex, before: datetime) -> str:
    """Anonymise one expired case; "anonymised", "held" or "skipped"."""
    try:
        report = Report.get(school.school_id, pointer.report_id, consistent_read=True)
    except Report.DoesNotExist:
        pointer.delete()  # a report removed with its school's data: nothing left
        return "skipped"
    if report.legal_hold:
        # A hold takes its pointer along; one left here came from a race with
        # the hold and stays for the next run rather than be guessed at.
        return "held"
    start = retention_start(report)
    if report.anonymised_at is not None and report.anonymised_at >= start:
        return "skipped"  # another run did it after this one read the pointers
    current = expiry_pointer(school.school_id, report.report_id, start)
    if current.sort != pointer.sort or start >= before:
        pointer.delete()  # outdated: the case's own pointer is elsewhere
        return "skipped"

    clear_timeline(report)
    ReplyAlert(report.school_id, report.report_id, email="").delete()
    try:
        casework.apply_as_system(JOB, report, _anonymising(report, pointer))
    except (Conflict, ValidationFailed):
        # Changed since it was read (a colleague, a hold, another run): the
        # next run looks at it again if it is still expired.
        return "skipped"
    # A reporter's message that arrived during the transaction.
    clear_timeline(report)
    return "anonymised"


def _anonymising(report: Report, pointer: ReportIndex) -> casework.Change:
    change = casework.anonymise(report)
    change.activity = False
    change.data = {"reason": "retention"}
    change.removed_pointers += [
        pointer,
        ReportIndex(receipt_scope(report.school_id, report.receipt_hash), "receipt"),
        *casework.followup_pointers(report, list(_events(report))),
    ]
    if report.intake_hash:
        change.removed_pointers.append(
            ReportIndex(
                intake_scope_of_hash(report.school_id, report.intake_hash), "intake"
            )
        )
    change.school_audit = {
        "report_id": report.report_id,
        "reason": "retention",
        "removed": list(REMOVED_PARTS),
    }
    return change


def _events(report: Report) -> Any:
    return CaseEvent.query(
        case_key(report.school_id, report.report_id), consistent_read=True
    )


def clear_timeline(report: Report) -> int:
    """Remove the texts of a case's timeline and the pupil numbers its events
    hold; the events themselves stay (kinds, dates, effects are anonymous)."""
    cleared = 0
    for event in _events(report):
        actions: list[Action] = []
        if event.text:
            actions.append(CaseEvent.text.remove())
        data = event.data.as_dict() if event.data else {}
        if "pupil_id" in data:
            kept = {k: v for k, v in data.items() if k != "pupil_id"}
            actions.append(CaseEvent.data.set(kept))
        if actions:
            event.update(actions=actions)
            cleared += 1
    return cleared


def index_existing(school_id: str) -> int:
    """Give each case stored before expiry pointers existed its pointer: run by
    the operator once per school (`python -m infra.ops retention --index-existing`).

    Reads the school's reports with a Query on its partition (never on a request
    path). Each pointer is written in a transaction that checks the report's
    version, so a case changed meanwhile keeps the pointer its change wrote.
    Running it again writes the same pointers again.
    """
    written = 0
    for report in Report.query(school_id, consistent_read=True):
        start = retention_start(report)
        done = report.anonymised_at is not None and report.anonymised_at >= start
        if report.legal_hold or done:
            continue
        pointer = expiry_pointer(school_id, report.report_id, start)
        try:
            with TransactWrite(connection=Report._get_connection().connection) as tx:
                tx.condition_check(
                    Report,
                    school_id,
                    report.report_id,
                    condition=Report.version == report.version,
                )
                tx.save(pointer)
        except TransactWriteError:
            continue  # changed meanwhile: the change placed its own pointer
        written += 1
    return written
