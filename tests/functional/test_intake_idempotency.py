"""One idempotency key, one report: retries, double clicks and races store once.

The form sends a fresh key with every new report and the same key when it retries;
keys belong to one school.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.client import BaseClient
from pynamodb.connection.base import Connection

from chalicelib import reports
from chalicelib.errors import Conflict
from chalicelib.models import IdempotencyRecord, ReportIndex, School
from chalicelib.receipts import receipt_code
from chalicelib.reports import intake_scope
from chalicelib.validation import validate_report

from .helpers import (
    OTHER_SCHOOL,
    SCHOOL,
    FakeLambdaContext,
    answer,
    assert_bilingual,
    new_key,
    post_report,
    stored_reports,
    valid_report,
    weekly_total,
    with_value,
)


def test_same_key_twice_stores_one_report(api, fake):
    body = valid_report(fake)
    key = new_key()

    first = post_report(api, body, key=key)
    second = post_report(api, body, key=key)

    assert first.status_code == 201, first.body
    assert second.status_code == 201, second.body
    assert answer(first)["receipt_code"] == answer(second)["receipt_code"]
    assert len(stored_reports()) == 1
    assert ReportIndex.get(intake_scope(SCHOOL, key), "intake")
    assert weekly_total() == 1


def test_different_keys_store_different_reports(api, fake):
    body = valid_report(fake)

    first = answer(post_report(api, body))
    second = answer(post_report(api, body))

    assert first["receipt_code"] != second["receipt_code"]
    assert len(stored_reports()) == 2


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("description", "Toch iets anders gebeurd."),
        ("danger_now", "yes"),
        ("hurt.persons.0.group", "g-7"),
        ("reporter.anonymous", True),
    ],
    ids=["description", "danger", "group", "now-anonymous"],
)
def test_same_key_with_other_answers_is_refused_and_first_report_kept(
    api, fake, path, value
):
    body = valid_report(fake)
    key = new_key()
    post_report(api, body, key=key)

    response = post_report(api, with_value(body, path, value), key=key)

    assert response.status_code == 422, response.body
    assert answer(response)["error"] == "idempotency_key_reused"
    assert_bilingual(answer(response)["message"])
    [stored] = stored_reports()
    assert stored.description == body["description"]
    assert stored.danger_now == "no"


def _expire_idempotency_records() -> None:
    """What a day does: Powertools' records are gone, the intake pointer stays."""
    for record in IdempotencyRecord.scan():
        record.delete()


def test_old_key_with_other_answers_is_refused_after_its_record_expired(api, fake):
    body = valid_report(fake)
    key = new_key()
    post_report(api, body, key=key)

    _expire_idempotency_records()
    changed = post_report(api, with_value(body, "description", "Iets anders."), key=key)
    _expire_idempotency_records()
    retry = post_report(api, body, key=key)

    assert changed.status_code == 422, changed.body
    assert answer(changed)["error"] == "idempotency_key_reused"
    assert retry.status_code == 201, retry.body
    [stored] = stored_reports()
    assert stored.description == body["description"]


def test_retry_in_the_other_language_is_the_same_report(api, fake):
    body = valid_report(fake)
    key = new_key()

    dutch = post_report(api, body, key=key)
    english = post_report(api, with_value(body, "language", "en"), key=key)

    assert dutch.status_code == english.status_code == 201
    assert answer(dutch)["receipt_code"] == answer(english)["receipt_code"]
    [stored] = stored_reports()
    assert stored.language == "nl"


def test_same_key_at_two_schools_stores_two_reports(api, fake):
    body = valid_report(fake)
    at_other = with_value(body, "location", "aula")
    at_other["hurt"]["persons"][0]["group"] = "g-h2b"
    at_other["did_it"]["persons"][0]["group"] = "g-v2a"
    key = new_key()

    here = post_report(api, body, key=key)
    there = post_report(api, at_other, key=key, slug=OTHER_SCHOOL)

    assert here.status_code == 201, here.body
    assert there.status_code == 201, there.body
    assert answer(here)["receipt_code"] != answer(there)["receipt_code"]
    assert len(stored_reports(SCHOOL)) == 1
    assert len(stored_reports(OTHER_SCHOOL)) == 1


@pytest.fixture
def atomic_requests(monkeypatch):
    """DynamoDB applies each request atomically; moto applies it in steps that
    threads interleave (a cancelled transaction even restores a snapshot taken
    before a concurrent write). One lock per request restores DynamoDB's rule;
    threads still interleave between requests, where the real races are."""
    lock = threading.Lock()
    make_api_call = BaseClient._make_api_call

    def call(client, operation, params):
        with lock:
            return make_api_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", call)


def test_concurrent_submissions_with_one_key_store_one_report(
    demo_schools, fake, atomic_requests
):
    school = School.get(SCHOOL)
    report = validate_report(valid_report(fake), school)
    key = new_key()
    callers = 8
    start = threading.Barrier(callers)

    def submit() -> str | Conflict:
        start.wait()
        try:
            return reports.submit(school, key, report, FakeLambdaContext())[
                "receipt_code"
            ]
        except Conflict as busy:
            return busy

    with ThreadPoolExecutor(callers) as pool:
        outcomes = list(pool.map(lambda _: submit(), range(callers)))
    retried = [
        reports.submit(school, key, report, FakeLambdaContext())["receipt_code"]
        for outcome in outcomes
        if isinstance(outcome, Conflict)
    ]

    codes = [o for o in outcomes if isinstance(o, str)] + retried
    assert codes == [receipt_code(SCHOOL, key)] * callers
    assert len(stored_reports()) == 1
    assert weekly_total() == 1


def test_racing_transactions_with_one_key_store_one_report(
    demo_schools, fake, atomic_requests
):
    # The second defence: attempts that both got past the idempotency record
    # (the first one's Lambda timed out while still running) race to store.
    school = School.get(SCHOOL)
    report = validate_report(valid_report(fake), school)
    key = new_key()
    racers = 6
    start = threading.Barrier(racers)

    def store() -> str:
        start.wait()
        try:
            return reports.store_report(school, key, report).report_id
        except reports.KeyAlreadyUsed as taken:
            return taken.report_id

    with ThreadPoolExecutor(racers) as pool:
        report_ids = set(pool.map(lambda _: store(), range(racers)))

    [stored] = stored_reports()
    assert report_ids == {stored.report_id}
    assert weekly_total() == 1


def test_retry_while_first_attempt_runs_gets_conflict_then_same_receipt(
    api, fake, monkeypatch
):
    monkeypatch.setattr(reports, "IN_PROGRESS_WAIT_SECONDS", 0.3)
    school = School.get(SCHOOL)
    body = valid_report(fake)
    report = validate_report(body, school)
    key = new_key()
    storing, release = _hold_first_report_transaction(monkeypatch)
    first = ThreadPoolExecutor(1)
    running = first.submit(reports.submit, school, key, report, FakeLambdaContext())
    assert storing.wait(5)

    busy = post_report(api, body, key=key)
    release.set()
    first_code = running.result(timeout=10)["receipt_code"]
    first.shutdown()
    retry = post_report(api, body, key=key)

    assert busy.status_code == 409, busy.body
    assert answer(busy)["error"] == "conflict"
    assert_bilingual(answer(busy)["message"])
    assert retry.status_code == 201, retry.body
    assert answer(retry)["receipt_code"] == first_code
    assert len(stored_reports()) == 1


def _hold_first_report_transaction(monkeypatch):
    """Pause the first report transaction until the test releases it."""
    storing, release = threading.Event(), threading.Event()
    transact = Connection.transact_write_items

    def held(self, *args, **kwargs):
        if not storing.is_set():
            storing.set()
            release.wait(10)
        return transact(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "transact_write_items", held)
    return storing, release
