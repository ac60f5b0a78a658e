"""Scheduled mail to staff, delivered at most once per recipient and week.

Shared by the Monday jobs (functions/weekly_mail.py for teachers,
functions/leadership_snapshot.py for leadership). Delivery is claimed before SES
is asked to send and marked after, one item per (school, week, job, recipient):

- the claim is a conditional put, so of two runs at once only one sends;
- a recipient already marked sent is skipped, so a rerun mails nobody twice;
- a claim that was never marked means a run died between asking SES and
  recording the answer. SES takes no idempotency token, so whether that mail went
  out cannot be known: the recipient is not mailed again and is listed as
  unconfirmed in every later run's summary, for an operator to check. A run that
  overlaps another cannot tell its claims from a dead run's, so it lists those
  as unconfirmed too (and the other run sends them);
- a mail SES refused is marked failed and a later run tries it again, up to
  MAX_DELIVERY_ATTEMPTS runs.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PutError, PynamoDBException, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import aws, digests
from chalicelib.config import settings
from chalicelib.models import Delivery, School, StaffMember
from chalicelib.obs import logger, metrics
from chalicelib.weeks import iso_week, now_utc

# Claims outlive any rerun of their week, then expire (a TTL, not a cleanup job).
DELIVERY_TTL = timedelta(days=120)
# Runs that may try one recipient's refused mail again before it stays failed.
MAX_DELIVERY_ATTEMPTS = 3
# SES throttling within one run: botocore's standard mode retries first; these
# attempts come on top, with exponential backoff and jitter, and stay bounded so
# one school's throttling cannot hold the job past its Lambda timeout.
MAX_SEND_ATTEMPTS = 5
BACKOFF_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "MaxSendRateExceeded",
        "ServiceUnavailable",
        "InternalFailure",
    }
)
_jitter = random.SystemRandom()
WEEK_PATTERN = re.compile(r"\d{4}-W(0[1-9]|[1-4]\d|5[0-3])")


@dataclass
class Summary:
    """What one run did. Recipients appear by staff id only, never by address."""

    week: str
    dry_run: bool = False
    schools: int = 0
    recipients: int = 0
    sent: int = 0
    skipped: int = 0
    unconfirmed: int = 0
    failed: int = 0
    unconfirmed_recipients: list[tuple[str, str]] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    failed_schools: list[str] = field(default_factory=list)
    holiday_schools: list[str] = field(default_factory=list)
    previews: list[tuple[str, str, digests.Mail]] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        return {
            "week": self.week,
            "dry_run": self.dry_run,
            "schools": self.schools,
            "recipients": self.recipients,
            "sent": self.sent,
            "skipped": self.skipped,
            "unconfirmed": self.unconfirmed,
            "failed": self.failed,
            "failed_schools": len(self.failed_schools),
            "holiday_schools": len(self.holiday_schools),
        }


def last_week() -> str:
    """The week that ended before now in school time: Monday's mail is about it."""
    return iso_week(now_utc() - timedelta(days=7))


def checked_week(value: object) -> str:
    """A week named by an operator or a schedule's input, e.g. "2026-W49"."""
    if not isinstance(value, str) or not WEEK_PATTERN.fullmatch(value):
        raise ValueError("week must look like 2026-W49")
    digests.week_monday(value)  # refuses week 53 of a year that has none
    return value


def active_schools(school_ids: list[str] | None) -> list[School]:
    if school_ids is None:
        # The jobs read every school once a week; the table holds one small item
        # per school of the region, so this Scan stays a few requests.
        return sorted((s for s in School.scan() if s.active), key=lambda s: s.school_id)
    return [s for s in School.batch_get(school_ids) if s.active]


def report_run(summary: Summary, job: str) -> None:
    """The run's summary as one log line of counts, and its metrics."""
    logger.info(f"{job} mail run", extra=summary.counts())
    if summary.dry_run:
        return
    for name, value in (
        ("DeliveriesSent", summary.sent),
        ("DeliveriesFailed", summary.failed + len(summary.failed_schools)),
        ("DeliveriesUnconfirmed", summary.unconfirmed),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    metrics.flush_metrics(raise_on_empty_metrics=False)


def run_job(
    job: str,
    week: str,
    school_ids: list[str] | None,
    dry_run: bool,
    mail_school: Callable[[School, str, Summary, bool], None],
) -> Summary:
    """Run a weekly job school by school: one school's failure is logged and
    listed in the summary, and never stops the others."""
    summary = Summary(week=week, dry_run=dry_run)
    for school in active_schools(school_ids):
        try:
            mail_school(school, week, summary, dry_run)
        except Exception:  # one school's failure must not stop the others
            logger.exception("school not mailed", extra={"school": school.school_id})
            summary.failed_schools.append(school.school_id)
    report_run(summary, job)
    return summary


def delivery_key(school_id: str, week: str, job: str) -> str:
    return f"{school_id}#{week}#{job}"


def earlier_deliveries(key: str) -> dict[str, Delivery]:
    """This week's deliveries of one school and job, by recipient: one Query."""
    return {str(d.recipient): d for d in Delivery.query(key)}


def deliver_to(
    summary: Summary,
    key: str,
    member: StaffMember,
    mail: digests.Mail,
    previous: Delivery | None,
) -> None:
    """Deliver one mail and count the outcome; a failure stops nobody else."""
    try:
        outcome, code = deliver(key, member, mail, previous)
    except Exception:  # one recipient's failure must not stop the others
        logger.exception(
            "weekly mail not delivered", extra={"school": member.school_id}
        )
        outcome, code = "failed", "error"
    _count(summary, outcome, str(member.school_id), str(member.staff_id), code)


def _count(
    summary: Summary, outcome: str, school_id: str, staff_id: str, code: str
) -> None:
    if outcome == "sent":
        summary.sent += 1
    elif outcome == "skipped":
        summary.skipped += 1
    elif outcome == "unconfirmed":
        summary.unconfirmed += 1
        summary.unconfirmed_recipients.append((school_id, staff_id))
    else:
        summary.failed += 1
        summary.failures.append((school_id, staff_id, code))


def deliver(
    key: str, member: StaffMember, mail: digests.Mail, previous: Delivery | None
) -> tuple[str, str]:
    """Claim, send, mark: ("sent" | "skipped" | "unconfirmed" | "failed", code)."""
    earlier = _earlier_outcome(previous)
    if earlier is not None:
        return earlier

    delivery = _claim(key, member.staff_id, previous)
    if delivery is None:  # another run claimed it a moment ago and is sending it
        return "skipped", ""

    try:
        send(member.email, mail)
    except ClientError as error:  # SES answered: the mail was not accepted
        code = str(error.response.get("Error", {}).get("Code", "unknown"))
        logger.warning("weekly mail refused", extra={"error": code})
        _mark(delivery, "failed", code)
        return "failed", code
    except BotoCoreError:  # no answer: SES may have accepted it
        logger.exception("weekly mail unconfirmed")
        return "unconfirmed", ""

    try:
        mark_sent(delivery)
    except PynamoDBException:  # SES accepted it; only the record is missing
        logger.exception("weekly mail sent but not recorded")
        return "unconfirmed", ""
    return "sent", ""


def _earlier_outcome(previous: Delivery | None) -> tuple[str, str] | None:
    """What an earlier run's delivery decides, or None when this run may send."""
    if previous is None:
        return None
    if previous.status == "sent":
        return "skipped", ""
    if previous.status == "claimed":
        return "unconfirmed", ""
    if previous.attempts >= MAX_DELIVERY_ATTEMPTS:
        return "failed", previous.error or "refused"
    return None


def _claim(key: str, staff_id: str, previous: Delivery | None) -> Delivery | None:
    """The delivery claimed by this run, or None when another run holds it."""
    now = now_utc()
    if previous is None:
        delivery = Delivery(
            key,
            staff_id,
            status="claimed",
            attempts=1,
            claimed_at=now,
            expires=now + DELIVERY_TTL,
        )
        try:
            delivery.save(condition=Delivery.recipient.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        return delivery
    try:
        previous.update(
            actions=[
                Delivery.status.set("claimed"),
                Delivery.attempts.add(1),
                Delivery.claimed_at.set(now),
                Delivery.error.remove(),
            ],
            condition=(Delivery.status == "failed")
            & (Delivery.attempts == previous.attempts),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return previous


def mark_sent(delivery: Delivery) -> None:
    _mark(delivery, "sent")


def _mark(delivery: Delivery, status: str, code: str | None = None) -> None:
    actions: list[Action] = [
        Delivery.status.set(status),
        Delivery.finished_at.set(now_utc()),
    ]
    if code:
        actions.append(Delivery.error.set(code))
    delivery.update(actions=actions, condition=Delivery.status == "claimed")


def send(to: str, mail: digests.Mail) -> None:
    """One mail through SES, retried with backoff while SES throttles.

    Sent as raw MIME so the text and HTML parts (and any attachment) travel as
    one message exactly as a mail client receives it; the local outbox reads
    them back from moto.
    """
    raw = mime_message(to, mail).as_bytes()
    for attempt in range(1, MAX_SEND_ATTEMPTS + 1):
        try:
            # No Destinations: SES takes the recipient from the To header.
            aws.client("ses").send_raw_email(
                Source=settings.mail_from, RawMessage={"Data": raw}
            )
            return
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code not in RETRYABLE_CODES or attempt == MAX_SEND_ATTEMPTS:
                raise
            delay = min(BACKOFF_CAP_SECONDS, BACKOFF_SECONDS * 2 ** (attempt - 1))
            time.sleep(_jitter.uniform(delay / 2, delay))


def mime_message(to: str, mail: digests.Mail) -> EmailMessage:
    """The mail as MIME: a plain-text part and an HTML alternative, UTF-8, and
    its attachments (multipart/mixed around the alternative) if it has any."""
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = settings.mail_from
    message["To"] = to
    message["Date"] = formatdate(localtime=False, usegmt=True)
    # Quoted-printable keeps every line 7-bit, as SES asks of raw messages.
    message.set_content(mail.text, charset="utf-8", cte="quoted-printable")
    message.add_alternative(
        mail.html, subtype="html", charset="utf-8", cte="quoted-printable"
    )
    for attachment in mail.attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
        )
    return message
