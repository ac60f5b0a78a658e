"""Report intake: store a validated report exactly once per idempotency key."""

from __future__ import annotations

import functools
import json
import secrets
import time
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import aggregates, aws, notify
from chalicelib.config import settings
from chalicelib.errors import Conflict, KeyReused, ServiceUnavailable
from chalicelib.i18n import both
from chalicelib.models import Contact, Person, Report, ReportIndex, School
from chalicelib.obs import logger, metrics
from chalicelib.receipts import keyed_hash, receipt_code, receipt_hash
from chalicelib.weeks import iso_week, now_utc

# A second request with the same key waits this long for the first to finish
# before it is told to retry; a crashed first attempt is released once the Lambda
# that ran it has timed out (its context is registered with the idempotency config).
IN_PROGRESS_WAIT_SECONDS = 3.0
# Keys are remembered for a day: a draft is wiped when its tab closes anyway.
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
KEY_REUSED = both(
    "This report was already sent with other answers. Please reload the form."
)

_config = IdempotencyConfig(
    event_key_jmespath="[school_id, key]",
    payload_validation_jmespath="report",
    expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
    raise_on_no_idempotency_key=True,
)


class KeyAlreadyUsed(Exception):
    """The report of this idempotency key was stored by an earlier attempt."""

    def __init__(self, report_id: str):
        super().__init__(report_id)
        self.report_id = report_id


def answers_hash(school_id: str, report: dict[str, Any]) -> str:
    """A keyed hash of the answers (language aside), to recognise a true retry."""
    answers = {name: value for name, value in report.items() if name != "language"}
    return keyed_hash("answers", school_id, json.dumps(answers, sort_keys=True))


def new_report_id(received: datetime) -> str:
    return f"{received:%Y%m%d%H%M%S%f}-{secrets.token_hex(4)}"


def intake_scope(school_id: str, key: str) -> str:
    return intake_scope_of_hash(school_id, keyed_hash("intake", school_id, key))


def intake_scope_of_hash(school_id: str, key_hash: str) -> str:
    return f"{school_id}#intake#{key_hash}"


def group_scope(school_id: str, group_id: str) -> str:
    return f"{school_id}#group#{group_id}"


def receipt_scope(school_id: str, code_hash: str) -> str:
    return f"{school_id}#receipt#{code_hash}"


def expiry_scope(school_id: str) -> str:
    return f"{school_id}#expiry"


def retention_start(report: Report) -> datetime:
    """When a case's retention period starts: its last activity, or its receipt.

    Closing is a change like any other, so a closed case's last activity is its
    closing or later: a case is never held for less than the school's years
    after it was closed.
    """
    return report.last_activity_at or report.received_at


def expiry_pointer(school_id: str, report_id: str, since: datetime) -> ReportIndex:
    """A case's place in the retention order (retention.py), by its start."""
    return ReportIndex(
        expiry_scope(school_id),
        f"{since:%Y%m%d%H%M%S%f}#{report_id}",
        report_id=report_id,
    )


def is_urgent(report: dict[str, Any], school: School) -> bool:
    urgent_categories = {c.id for c in school.categories if c.urgent}
    return report["danger_now"] == "yes" or bool(
        urgent_categories & set(report["categories"])
    )


def store_report(
    school: School, key: str, report: dict[str, Any], received: datetime | None = None
) -> Report:
    """Write the report and its index entries in one transaction.

    The transaction is conditional on the idempotency key's index entry, so no
    retry can store a second report, whatever the idempotency record says.
    """
    received = received or now_utc()
    code_hash = receipt_hash(school.school_id, receipt_code(school.school_id, key))
    contact = report["contact"]
    item = Report(
        school.school_id,
        new_report_id(received),
        received_at=received,
        received_week=iso_week(received),
        language=report["language"],
        reporter_role=report["reporter_role"],
        anonymous=report["anonymous"],
        contact=Contact(**contact) if contact else None,
        categories=report["categories"],
        description=report["description"],
        hurt_self=report["hurt_self"],
        did_it_unknown=report["did_it_unknown"],
        persons=[Person(**p) for p in report["persons"]],
        groups=report["groups"],
        location=report["location"],
        location_note=report["location_note"],
        occurred_on=report["occurred_on"],
        part_of_day=report["part_of_day"],
        frequency=report["frequency"],
        told=report["told"],
        witnesses=report["witnesses"],
        danger_now=report["danger_now"],
        urgent=is_urgent(report, school),
        receipt_hash=code_hash,
        intake_hash=keyed_hash("intake", school.school_id, key),
    )
    pointers = [
        ReportIndex(
            intake_scope(school.school_id, key),
            "intake",
            report_id=item.report_id,
            answers_hash=answers_hash(school.school_id, report),
        ),
        ReportIndex(
            receipt_scope(school.school_id, code_hash),
            "receipt",
            report_id=item.report_id,
        ),
    ] + [
        ReportIndex(
            group_scope(school.school_id, g), item.report_id, report_id=item.report_id
        )
        for g in report["groups"]
    ]
    pointers.append(expiry_pointer(school.school_id, item.report_id, received))
    try:
        with TransactWrite(connection=Report._get_connection().connection) as tx:
            tx.save(item, condition=Report.report_id.does_not_exist())
            for pointer in pointers:
                tx.save(pointer, condition=ReportIndex.scope.does_not_exist())
            # The weekly counters move in the same transaction as the report.
            week_changes = aggregates.delta(None, item)
            for aggregate, actions in aggregates.items_for(week_changes):
                tx.update(aggregate, actions=actions)
    except TransactWriteError as error:
        if _key_taken(error):
            # Written by a concurrent attempt a moment ago: only a strongly
            # consistent read is sure to see it.
            existing = ReportIndex.get(
                intake_scope(school.school_id, key), "intake", consistent_read=True
            )
            if existing.answers_hash not in (
                None,
                answers_hash(school.school_id, report),
            ):
                # Past the idempotency record's lifetime only this check is left
                # to tell a retry from a new report under an old key.
                raise KeyReused(KEY_REUSED) from error
            raise KeyAlreadyUsed(existing.report_id) from error
        raise
    return item


def _key_taken(error: TransactWriteError) -> bool:
    # Cancellation reasons come in the order the items were added: the report, then
    # the idempotency key's pointer.
    reasons = error.cancellation_reasons or []
    return (
        len(reasons) > 1
        and reasons[1] is not None
        and reasons[1].code == "ConditionalCheckFailed"
    )


@functools.cache
def _persistence() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=settings.table_name("idempotency"),
        boto3_client=aws.client("dynamodb"),
    )


def _intake_once(submission: dict[str, Any], school: School) -> dict[str, Any]:
    key = submission["key"]
    try:
        report = {**submission["report"], "language": submission["language"]}
        stored = store_report(school, key, report)
    except KeyAlreadyUsed as used:
        logger.info(
            "report already stored for key", extra={"report_id": used.report_id}
        )
        stored = Report.get(school.school_id, used.report_id, consistent_read=True)
    else:
        logger.info(
            "report stored",
            extra={
                "report_id": stored.report_id,
                "urgent": stored.urgent,
                "groups": len(stored.groups),
            },
        )
    metrics.add_metric(name="ReportReceived", unit=MetricUnit.Count, value=1)
    if stored.urgent:
        notify.urgent_report(school, stored.report_id)
    return {"report_id": stored.report_id, "urgent": stored.urgent}


def submit(
    school: School, key: str, report: dict[str, Any], context: Any
) -> dict[str, Any]:
    """Store a report once per (school, key) and answer with its receipt code."""
    if context is not None:  # Chalice's LambdaContext, deployed or local
        _config.register_lambda_context(context)
    run = idempotent_function(
        data_keyword_argument="submission",
        persistence_store=_persistence(),
        config=_config,
    )(_intake_once)
    # The language is left out of the comparison of a retried submission: a
    # reporter may switch language before retrying the very same answers.
    answers = {name: value for name, value in report.items() if name != "language"}
    submission = {
        "school_id": school.school_id,
        "key": key,
        "language": report["language"],
        "report": answers,
    }

    deadline = time.monotonic() + IN_PROGRESS_WAIT_SECONDS
    while True:
        try:
            result = run(submission=submission, school=school)
            break
        except IdempotencyAlreadyInProgressError as busy:
            if time.monotonic() >= deadline:
                raise Conflict(
                    both(
                        "This report is still being sent. Please wait a moment and try again."
                    )
                ) from busy
            time.sleep(0.25)
        except IdempotencyValidationError as reused:
            raise KeyReused(KEY_REUSED) from reused
        except IdempotencyPersistenceLayerError as broken:
            result = _recover_stored(school, key, broken)
            break
        except (PynamoDBException, TransactWriteError) as failed:
            logger.exception(
                "report intake failed", extra={"school_id": school.school_id}
            )
            raise ServiceUnavailable(
                both(
                    "Your report could not be saved. Nothing was lost: please try again."
                ),
                cause=failed,
            ) from failed

    return {
        "receipt_code": receipt_code(school.school_id, key),
        "urgent": result["urgent"],
    }


def _recover_stored(school: School, key: str, error: Exception) -> dict[str, Any]:
    """The idempotency store failed around the intake: answer from the report itself."""
    try:
        pointer = ReportIndex.get(
            intake_scope(school.school_id, key), "intake", consistent_read=True
        )
        stored = Report.get(school.school_id, pointer.report_id, consistent_read=True)
    except (
        ReportIndex.DoesNotExist,
        Report.DoesNotExist,
        PynamoDBException,
    ) as missing:
        logger.warning(
            "idempotency store failed, report not stored",
            extra={"school_id": school.school_id},
        )
        raise ServiceUnavailable(
            both("Your report could not be saved. Nothing was lost: please try again."),
            cause=error,
        ) from missing
    logger.warning(
        "idempotency store failed after report was stored",
        extra={"report_id": stored.report_id},
    )
    return {"report_id": stored.report_id, "urgent": stored.urgent}


def list_recent(
    school_id: str, limit: int = 50, before: str | None = None
) -> list[Report]:
    """A school's newest reports: one Query on the key, newest first, bounded by limit.

    `before` is the report id to continue after (exclusive), for paging.
    """
    condition = Report.report_id < before if before else None
    return list(
        Report.query(
            school_id,
            range_key_condition=condition,
            scan_index_forward=False,
            limit=limit,
            page_size=limit,
        )
    )
