"""Anonymous follow-up: a reporter reads the status of a report and exchanges
messages with the school, with nothing but the receipt code.

The reporter sees the status in three words (received, being handled, closed)
and the messages, never internal notes. The receipt code travels only in request
bodies, never in an address.
"""

from __future__ import annotations

import secrets
from typing import Any

from email_validator import EmailNotValidError, validate_email

from chalicelib import audit, notify
from chalicelib.cases import case_key
from chalicelib.errors import FieldError, NotFound, ValidationFailed
from chalicelib.i18n import both
from chalicelib.models import CaseEvent, ReplyAlert, Report, ReportIndex, School
from chalicelib.receipts import receipt_hash
from chalicelib.weeks import now_utc

PUBLIC_STATUS = {
    "new": "received",
    "in_progress": "being_handled",
    "follow_up": "being_handled",
    "closed": "closed",
}
MAX_MESSAGE = 2000
# Bounds what one receipt code can read: the newest messages of a case.
MAX_MESSAGES_SHOWN = 100


def _not_found() -> NotFound:
    return NotFound(
        both("We cannot find a report with this code. Check the code and try again.")
    )


def report_for_code(school: School, code: Any) -> Report:
    if not isinstance(code, str) or not 12 <= len(code) <= 40:
        raise _not_found()
    scope = f"{school.school_id}#receipt#{receipt_hash(school.school_id, code)}"
    try:
        pointer = ReportIndex.get(scope, "receipt")
        return Report.get(school.school_id, pointer.report_id)
    except (ReportIndex.DoesNotExist, Report.DoesNotExist) as error:
        raise _not_found() from error


def status_of(report: Report) -> dict[str, Any]:
    events = CaseEvent.query(
        case_key(report.school_id, report.report_id),
        scan_index_forward=False,
        filter_condition=CaseEvent.kind.is_in("message_in", "message_out"),
        limit=MAX_MESSAGES_SHOWN,
    )
    messages = [
        {
            "from": "you" if event.kind == "message_in" else "school",
            "at": event.at.isoformat(),
            "text": event.text or "",
        }
        for event in events
    ]
    messages.reverse()
    audit.record(
        audit.report_trail(report.school_id, report.report_id),
        "reporter_read_status",
        None,
        "reporter",
    )
    return {
        "status": PUBLIC_STATUS.get(report.status, "received"),
        "received_on": report.received_at.date().isoformat(),
        "messages": messages,
    }


def add_message(school: School, report: Report, text: Any) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed(
            [FieldError("text", "required", both("Please fill this in."))]
        )
    if len(text) > MAX_MESSAGE:
        raise ValidationFailed(
            [
                FieldError(
                    "text",
                    "too_long",
                    both("Please use at most {limit} characters.", limit=MAX_MESSAGE),
                )
            ]
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValidationFailed(
            [
                FieldError(
                    "text",
                    "characters",
                    both(
                        "This contains characters we cannot store. Please leave them out."
                    ),
                )
            ]
        ) from error
    at = now_utc()
    CaseEvent(
        case_key(report.school_id, report.report_id),
        f"{at:%Y%m%d%H%M%S%f}#{secrets.token_hex(3)}",
        kind="message_in",
        at=at,
        text=text,
    ).save()
    audit.record(
        audit.report_trail(report.school_id, report.report_id),
        "reporter_message",
        None,
        "reporter",
    )
    notify.reporter_wrote(school, report)


def set_reply_alert(report: Report, email: Any) -> bool:
    """Store or (with an empty address) remove the alert; True when one is set."""
    if not isinstance(email, str) or not email.strip():
        ReplyAlert(report.school_id, report.report_id, email="").delete()
        return False
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationFailed(
            [
                FieldError(
                    "email",
                    "invalid_email",
                    both("This is not a valid e-mail address."),
                )
            ]
        ) from error
    ReplyAlert(report.school_id, report.report_id, email=email).save()
    return True


def alert_reporter(school: School, report: Report) -> None:
    """After a staff message: tell the reporter a reply waits, if they asked."""
    try:
        alert = ReplyAlert.get(report.school_id, report.report_id)
    except ReplyAlert.DoesNotExist:
        return
    notify.reply_waiting(school, alert.email, report.language)
