"""Builders and readers shared by the intake tests.

Reports are built as the form sends them, with names from Faker's nl_NL locale;
what was stored is read back through the production models or, where every
attribute matters, as raw items from every table.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from botocore.exceptions import ClientError
from chalice.test import HTTPResponse, TestHTTPClient
from faker import Faker
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib import aggregates, aws
from chalicelib.config import settings
from chalicelib.models import ALL_MODELS, Report, ReportIndex
from chalicelib.receipts import receipt_hash
from chalicelib.reports import receipt_scope

SCHOOL = "obs-de-regenboog"
OTHER_SCHOOL = "het-baken-college"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
JSON_HEADERS = {"Content-Type": "application/json"}


def reports_path(slug: str = SCHOOL) -> str:
    return f"/schools/{slug}/reports"


def new_key() -> str:
    """A fresh idempotency key as the form makes one: 32 URL-safe characters."""
    return uuid.uuid4().hex


def mobile_number(fake: Faker) -> str:
    # Faker's nl_NL phone numbers include ranges libphonenumber rejects; 06-1… is
    # always a valid Dutch mobile number.
    return fake.numerify("06-1#######")


def amsterdam_today() -> date:
    return datetime.now(AMSTERDAM).date()


def valid_report(fake: Faker) -> dict[str, Any]:
    """A complete report for OBS De Regenboog, naming one person on each side."""
    return {
        "language": "nl",
        "reporter": {
            "role": "parent",
            "anonymous": False,
            "name": fake.name(),
            "email": fake.email(),
            "phone": mobile_number(fake),
        },
        "categories": ["pesten", "uitschelden"],
        "description": f"{fake.first_name()} wordt elke pauze uitgelachen.",
        "hurt": {
            "self": False,
            "persons": [{"name": fake.first_name(), "group": "g-5"}],
        },
        "did_it": {
            "unknown": False,
            "persons": [{"name": fake.name(), "group": "g-6"}],
        },
        "location": "plein",
        "location_note": "bij het klimrek",
        "occurred_on": (amsterdam_today() - timedelta(days=2)).isoformat(),
        "part_of_day": "break",
        "frequency": "several",
        "told": ["teacher"],
        "witnesses": fake.name(),
        "danger_now": "no",
    }


# A change to a valid report, for tables of parametrized rules.
Change = Callable[[dict[str, Any]], dict[str, Any]]


def setting(path: str, value: Any) -> Change:
    return lambda body: with_value(body, path, value)


def dropping(*paths: str) -> Change:
    def change(body: dict[str, Any]) -> dict[str, Any]:
        for path in paths:
            body = without(body, path)
        return body

    return change


def days_from_today(days: int) -> Change:
    return lambda body: with_value(
        body, "occurred_on", (amsterdam_today() + timedelta(days=days)).isoformat()
    )


def persons(count: int) -> list[dict[str, str]]:
    return [{"name": f"Kind {n}", "group": "g-5"} for n in range(count)]


def _steps(path: str) -> list[str | int]:
    return [int(step) if step.isdigit() else step for step in path.split(".")]


def with_value(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of body with the dotted path (list indexes as numbers) set to value."""
    changed = copy.deepcopy(body)
    *parents, last = _steps(path)
    target: Any = changed
    for step in parents:
        target = target[step]
    target[last] = value
    return changed


def without(body: dict[str, Any], path: str) -> dict[str, Any]:
    """A copy of body with the dotted path removed."""
    changed = copy.deepcopy(body)
    *parents, last = _steps(path)
    target: Any = changed
    for step in parents:
        target = target[step]
    del target[last]
    return changed


def value_at(data: Any, path: str) -> Any:
    for step in _steps(path):
        data = data[step]
    return data


def post_report(
    http: TestHTTPClient,
    body: Any,
    *,
    slug: str = SCHOOL,
    key: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTTPResponse:
    """POST a report as the form does; body is JSON-encoded unless already bytes."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {**JSON_HEADERS, "Idempotency-Key": key or new_key(), **(headers or {})}
    return http.post(reports_path(slug), headers=sent, body=raw)


def answer(response: HTTPResponse) -> Any:
    return json.loads(response.body)


def assert_bilingual(message: dict[str, str]) -> None:
    """A user-facing message exists in Dutch and English, and the Dutch is Dutch."""
    assert set(message) == {"nl", "en"}
    assert message["nl"].strip()
    assert message["en"].strip()
    assert message["nl"] != message["en"], "Dutch translation missing"


def field_errors(response: HTTPResponse) -> dict[str, dict[str, dict[str, Any]]]:
    """The 422 answer's field errors: field path -> error code -> error."""
    assert response.status_code == 422, response.body
    body = answer(response)
    assert body["error"] == "validation_failed"
    assert_bilingual(body["message"])
    errors: dict[str, dict[str, dict[str, Any]]] = {}
    for error in body["fields"]:
        errors.setdefault(error["field"], {})[error["code"]] = error
    return errors


def stored_reports(school_id: str = SCHOOL) -> list[Report]:
    return list(Report.query(school_id))


def weekly_total(school_id: str = SCHOOL) -> int:
    """How many reports the school's weekly counters hold, over every week stored."""
    weeks = aggregates.weeks_of(school_id, "0000-W00", "9999-W99")
    return sum(counters["total"] for counters in weeks.values())


def forget_reports() -> None:
    """Delete every report and index entry, for tests that store hundreds."""
    for model in (Report, ReportIndex):
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)


def report_of_receipt(school_id: str, code: str) -> Report:
    """The stored report a receipt code leads to, found as staff tools find it."""
    pointer = ReportIndex.get(
        receipt_scope(school_id, receipt_hash(school_id, code)), "receipt"
    )
    return Report.get(school_id, pointer.report_id)


def raw_items() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every item of every table, as DynamoDB holds it: (table name, item)."""
    client = aws.client("dynamodb")
    for model in ALL_MODELS:
        table = model.Meta.table_name
        for page in client.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                yield table, item


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a raw DynamoDB value: names, values, set members."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        yield value.decode("utf-8", "replace")
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from strings_in(inner)
    elif isinstance(value, list | tuple | set):
        for inner in value:
            yield from strings_in(inner)


def sent_mails() -> list[Any]:
    """Messages moto's SES accepted for sending, oldest first."""
    return list(ses_backends[DEFAULT_ACCOUNT_ID][settings.region].sent_messages)


@dataclass
class FakeLambdaContext:
    """Just enough of a Lambda context for Powertools' idempotency utility.

    The remaining time bounds how long an in-progress record blocks the same key:
    Powertools lets another attempt take over once it has passed.
    """

    remaining_ms: int = 10_000
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_name: str = "m5-monitor-api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-central-1:123456789012:function:x"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class Outage:
    """AWS calls that fail as they do once botocore has given up retrying.

    Installed on botocore's client class, so it reaches PynamoDB's connections,
    Powertools' idempotency client and SES alike; everything above botocore sees
    a real ClientError and handles it the way it would in production.
    """

    def __init__(self) -> None:
        self._failing: dict[tuple[str, str], dict[str, Any]] = {}
        self.failed: list[str] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []  # every call seen

    def start(
        self,
        operation: str,
        table: str | None = None,
        code: str = "InternalServerError",
        cancellation_reasons: list[dict[str, str]] | None = None,
    ) -> None:
        """Fail `operation` (on the table whose name ends with `table`) from now on."""
        response: dict[str, Any] = {
            "Error": {"Code": code, "Message": "Injected by the test"},
            "ResponseMetadata": {"HTTPStatusCode": 500},
        }
        if cancellation_reasons is not None:
            response["CancellationReasons"] = cancellation_reasons
        self._failing[(operation, table or "")] = response

    def stop(self) -> None:
        self._failing.clear()

    def check(self, operation: str, params: dict[str, Any]) -> None:
        self.calls.append((operation, params))
        tables = _table_names(params)
        for (failing, table), response in self._failing.items():
            if failing == operation and any(t.endswith(table) for t in tables):
                self.failed.append(operation)
                raise ClientError(copy.deepcopy(response), operation)


def _table_names(params: dict[str, Any]) -> list[str]:
    if "TableName" in params:
        return [params["TableName"]]
    return [
        op["TableName"]
        for item in params.get("TransactItems", [])
        for op in item.values()
    ] or [""]
