"""SES's bounces and complaints, from the mail events queue, flag staff addresses.

SES publishes the events of our configuration set to an SNS topic that delivers
them raw to an SQS queue (infra/stack.py); Lambda hands this function batches of
up to ten. Each message is one SES event:

- a permanent bounce or a complaint flags every membership of each address
  (all schools), shown to each school's administrator on the staff page;
- a transient bounce (mailbox full, out of office) flags nobody: SES retried;
- a reject is SES refusing our own message (a virus), not the address's fault.

A message that cannot be read is reported back as a failed batch item, so the
rest of the batch is deleted from the queue and only that message returns;
after five tries the queue moves it to its dead-letter queue, which has an
alarm (infra/stack.py). Logs carry counts only, never an address.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib import staff_admin
from chalicelib.obs import logger


class UnreadableEvent(ValueError):
    """A message that is not an SES event we understand. Its text is not kept in
    the exception: it holds addresses, and failed records are logged."""


@dataclass
class Counts:
    events: int = 0
    addresses: int = 0
    flagged: int = 0
    ignored: int = 0


@dataclass(frozen=True)
class MailEvent:
    problem: str | None  # staff_admin.BOUNCE, COMPLAINT, or None: nothing to flag
    addresses: list[str] = field(default_factory=list)


def parse(body: str) -> MailEvent:
    """The addresses an SES event (configuration set event publishing) reports."""
    try:
        event = json.loads(body)
        kind = event["eventType"]
        if kind == "Bounce":
            bounce = event["bounce"]
            if bounce["bounceType"] != "Permanent":
                return MailEvent(None)
            return MailEvent(
                staff_admin.BOUNCE, _addresses(bounce["bouncedRecipients"])
            )
        if kind == "Complaint":
            complaint = event["complaint"]
            return MailEvent(
                staff_admin.COMPLAINT, _addresses(complaint["complainedRecipients"])
            )
    except (ValueError, KeyError, TypeError):
        raise UnreadableEvent("not an SES bounce or complaint event") from None
    if not isinstance(kind, str):
        raise UnreadableEvent("the event has no type")
    return MailEvent(None)  # "Reject", or a type the destination does not send


def _addresses(recipients: Any) -> list[str]:
    addresses = []
    for recipient in recipients:
        _, address = parseaddr(recipient["emailAddress"])
        if "@" not in address:
            raise UnreadableEvent("a recipient without an address")
        addresses.append(address.lower())
    if not addresses:
        raise UnreadableEvent("an event without recipients")
    return addresses


def handle_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda's SQS batch: flag what each message reports; return the failures."""
    counts = Counts()
    processor = BatchProcessor(
        event_type=EventType.SQS, raise_on_entire_batch_failure=False
    )

    def record_handler(record: SQSRecord) -> None:
        mail_event = parse(record.body)
        counts.events += 1
        if mail_event.problem is None:
            counts.ignored += 1
            return
        for address in mail_event.addresses:
            counts.addresses += 1
            counts.flagged += staff_admin.flag_mail_problem(address, mail_event.problem)

    response = process_partial_response(event, record_handler, processor, context)
    failed = len(response.get("batchItemFailures", []))
    logger.info(
        "mail events handled",
        extra={
            "events": counts.events,
            "ignored": counts.ignored,
            "addresses": counts.addresses,
            "flagged": counts.flagged,
            "failed": failed,
        },
    )
    return dict(response)
