"""Intake when things break halfway: a process that dies, a store that fails.

Whatever fails, a report is stored once or not at all, the reporter is told to
try again when nothing was stored, and the retry with the same key succeeds.
"""

from __future__ import annotations

import time

import pytest
from aws_lambda_powertools.utilities.idempotency.persistence.dynamodb import (
    DynamoDBPersistenceLayer,
)

from chalicelib import reports
from chalicelib.models import (
    IdempotencyRecord,
    RateCounter,
    ReportIndex,
    School,
    StaffMember,
)
from chalicelib.receipts import receipt_code
from chalicelib.validation import validate_report

from .helpers import (
    SCHOOL,
    FakeLambdaContext,
    answer,
    assert_bilingual,
    new_key,
    post_report,
    raw_items,
    stored_reports,
    valid_report,
    weekly_total,
)


class SimulatedCrash(BaseException):
    """The Lambda process dies: no except clause of ours or of Powertools runs."""


def fail_once(monkeypatch, owner, name, error: BaseException) -> list[BaseException]:
    """Make owner.name raise error on its first call only; returns what was raised."""
    original = getattr(owner, name)
    raised: list[BaseException] = []

    def failing(*args, **kwargs):
        if not raised:
            raised.append(error)
            raise error
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing)
    return raised


def test_crash_after_report_is_written_stores_no_second_report_on_retry(
    api, fake, monkeypatch
):
    school = School.get(SCHOOL)
    body = valid_report(fake)
    key = new_key()
    crashed = fail_once(
        monkeypatch, DynamoDBPersistenceLayer, "_update_record", SimulatedCrash()
    )
    # A Lambda with 300 ms left: its in-progress record is released soon after.
    lambda_context = FakeLambdaContext(remaining_ms=300)
    with pytest.raises(SimulatedCrash):
        reports.submit(school, key, validate_report(body, school), lambda_context)
    assert crashed
    assert len(stored_reports()) == 1
    time.sleep(0.4)

    retry = post_report(api, body, key=key)

    assert retry.status_code == 201, retry.body
    assert answer(retry)["receipt_code"] == receipt_code(SCHOOL, key)
    assert len(stored_reports()) == 1
    assert len(list(ReportIndex.scan())) == 5  # two groups, receipt, key, expiry
    assert weekly_total() == 1


def test_report_found_again_by_its_key_is_read_strongly_consistent(
    api, fake, monkeypatch, outage
):
    # moto is always consistent; DynamoDB may serve a read from before the
    # concurrent write that made the key taken, unless asked not to.
    school = School.get(SCHOOL)
    body = valid_report(fake)
    key = new_key()
    fail_once(monkeypatch, DynamoDBPersistenceLayer, "_update_record", SimulatedCrash())
    with pytest.raises(SimulatedCrash):
        reports.submit(
            school, key, validate_report(body, school), FakeLambdaContext(300)
        )
    time.sleep(0.4)
    outage.calls.clear()

    post_report(api, body, key=key)

    reads = [
        params
        for operation, params in outage.calls
        if operation == "GetItem" and not params["TableName"].endswith("schools")
    ]
    assert len(reads) == 2  # the key's index entry, then the report
    assert all(params.get("ConsistentRead") is True for params in reads)


def test_failing_to_save_the_key_after_the_report_still_answers_created(api, fake):
    body = valid_report(fake)
    key = new_key()

    with pytest.MonkeyPatch.context() as patch:
        failed = fail_once(
            patch,
            DynamoDBPersistenceLayer,
            "_update_record",
            RuntimeError("idempotency table unavailable"),
        )
        response = post_report(api, body, key=key)

    assert failed
    assert response.status_code == 201, response.body
    assert answer(response)["receipt_code"] == receipt_code(SCHOOL, key)
    assert len(stored_reports()) == 1


def test_retry_after_the_key_was_not_saved_gets_the_same_report(
    demo_schools, fake, monkeypatch
):
    school = School.get(SCHOOL)
    report = validate_report(valid_report(fake), school)
    key = new_key()
    fail_once(
        monkeypatch,
        DynamoDBPersistenceLayer,
        "_update_record",
        RuntimeError("idempotency table unavailable"),
    )
    first = reports.submit(school, key, report, FakeLambdaContext(remaining_ms=300))
    time.sleep(0.4)

    retry = reports.submit(school, key, report, FakeLambdaContext())

    assert retry == first
    assert len(stored_reports()) == 1


# Each DynamoDB call of an intake, failing as it does once botocore gave up.
STORAGE_FAILURES = [
    pytest.param({"operation": "GetItem", "table": "schools"}, id="school-lookup"),
    pytest.param(
        {"operation": "UpdateItem", "table": "rate-limits"}, id="rate-counter"
    ),
    pytest.param(
        {"operation": "PutItem", "table": "idempotency"}, id="idempotency-record"
    ),
    pytest.param(
        {"operation": "TransactWriteItems", "table": "reports"},
        id="report-transaction",
    ),
    pytest.param(
        {
            "operation": "TransactWriteItems",
            "table": "reports",
            "code": "ProvisionedThroughputExceededException",
        },
        id="report-transaction-throttled",
    ),
    pytest.param(
        {
            "operation": "TransactWriteItems",
            "table": "reports",
            "code": "TransactionCanceledException",
            "cancellation_reasons": [
                {"Code": "None"},
                {"Code": "TransactionConflict", "Message": "Conflict"},
                {"Code": "None"},
                {"Code": "None"},
            ],
        },
        id="report-transaction-conflict",
    ),
]


@pytest.mark.parametrize("failure", STORAGE_FAILURES)
def test_storage_failure_answers_try_again_and_leaves_nothing_half_written(
    api, fake, outage, failure
):
    body = valid_report(fake)
    key = new_key()
    outage.start(**failure)

    response = post_report(api, body, key=key)

    assert outage.failed, "the failure was never injected"
    assert response.status_code == 503, response.body
    assert answer(response)["error"] == "service_unavailable"
    assert_bilingual(answer(response)["message"])
    assert stored_reports() == []
    assert list(ReportIndex.scan()) == []
    assert list(IdempotencyRecord.scan()) == []
    # Only the configuration and the attempt's rate counters: no index entry,
    # weekly counter or idempotency record of a report that was not stored.
    settled = {model.Meta.table_name for model in (School, StaffMember, RateCounter)}
    assert {table for table, _ in raw_items()} <= settled


@pytest.mark.parametrize("failure", STORAGE_FAILURES)
def test_retry_after_storage_failure_stores_the_report_once(api, fake, outage, failure):
    body = valid_report(fake)
    key = new_key()
    outage.start(**failure)
    post_report(api, body, key=key)
    outage.stop()

    retry = post_report(api, body, key=key)

    assert retry.status_code == 201, retry.body
    assert answer(retry)["receipt_code"] == receipt_code(SCHOOL, key)
    [stored] = stored_reports()
    assert stored.description == body["description"]
    assert weekly_total() == 1
