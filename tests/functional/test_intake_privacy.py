"""The application log of an intake holds no personal data and no secrets.

Every line the service writes to stdout (Powertools' JSON log lines and metrics)
is parsed; none may contain a name, a text, contact details, the idempotency key
or the receipt code of the report, whether the intake succeeds or fails.
"""

from __future__ import annotations

import json

import pytest

from .helpers import (
    answer,
    new_key,
    post_report,
    valid_report,
    with_value,
)


@pytest.fixture
def log_lines(json_log_lines):
    return json_log_lines


def personal_data(body, key):
    reporter = body["reporter"]
    people = body["hurt"]["persons"] + body["did_it"]["persons"]
    return [
        key,
        reporter["name"],
        reporter["email"],
        reporter["phone"],
        body["description"],
        body["location_note"],
        body["witnesses"],
        *(person["name"] for person in people),
    ]


def leaks(lines, secrets):
    """Secrets found in any value or key of any log line."""
    dumped = [json.dumps(line, ensure_ascii=False) for line in lines]
    return [secret for secret in secrets for text in dumped if secret in text]


def test_stored_urgent_report_leaves_no_personal_data_in_the_log(api, fake, log_lines):
    body = with_value(valid_report(fake), "danger_now", "yes")
    key = new_key()

    response = post_report(api, body, key=key)

    lines = log_lines()
    assert response.status_code == 201, response.body
    messages = {line.get("message") for line in lines}
    assert {"report stored", "urgent alert sent"} <= messages
    code = answer(response)["receipt_code"]
    assert leaks(lines, [*personal_data(body, key), code, code.replace("-", "")]) == []


def test_refused_report_leaves_no_personal_data_in_the_log(api, fake, log_lines):
    body = valid_report(fake)
    body["reporter"]["email"] = f"{fake.user_name()} at {fake.free_email_domain()}"
    body["description"] = fake.text(max_nb_chars=200) + "\x00"
    key = new_key()

    response = post_report(api, body, key=key)

    lines = log_lines()
    assert response.status_code == 422, response.body
    assert any(line.get("message") == "request refused" for line in lines)
    assert leaks(lines, personal_data(body, key)) == []


def test_storage_failure_leaves_no_personal_data_in_the_log(
    api, fake, outage, log_lines
):
    body = valid_report(fake)
    key = new_key()
    outage.start("TransactWriteItems", "reports")

    response = post_report(api, body, key=key)

    lines = log_lines()
    assert response.status_code == 503, response.body
    assert any("exception" in line for line in lines)
    assert leaks(lines, personal_data(body, key)) == []


def test_key_reused_with_other_answers_leaves_no_personal_data_in_the_log(
    api, fake, log_lines
):
    body = valid_report(fake)
    changed = with_value(body, "description", fake.text(max_nb_chars=120))
    key = new_key()
    post_report(api, body, key=key)

    response = post_report(api, changed, key=key)

    lines = log_lines()
    assert response.status_code == 422, response.body
    secrets = [*personal_data(body, key), changed["description"]]
    assert leaks(lines, secrets) == []
