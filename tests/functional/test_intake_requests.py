"""Report intake at the HTTP edge: what reaches validation, and what is turned away.

Each refusal answers with a stable error code and a message in Dutch and English,
and stores nothing.
"""

from __future__ import annotations

import json
import re

import pytest

from chalicelib.api import MAX_BODY_BYTES
from chalicelib.models import School

from .helpers import (
    JSON_HEADERS,
    answer,
    assert_bilingual,
    field_errors,
    new_key,
    post_report,
    reports_path,
    stored_reports,
    valid_report,
)


def test_valid_report_is_stored_and_answered_with_receipt_code(api, fake):
    body = valid_report(fake)

    response = post_report(api, body)

    assert response.status_code == 201, response.body
    reply = answer(response)
    assert set(reply) == {"receipt_code", "urgent"}
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", reply["receipt_code"])
    assert reply["urgent"] is False
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"].startswith("application/json")
    [stored] = stored_reports()
    assert stored.description == body["description"]


def test_form_configuration_lists_only_public_choices(api):
    response = api.get("/schools/obs-de-regenboog/form")

    assert response.status_code == 200
    config = answer(response)
    assert config["school"]["id"] == "obs-de-regenboog"
    assert {"g-5", "g-6"} <= {group["id"] for group in config["groups"]}
    assert "plein" in {place["id"] for place in config["locations"]}
    assert "staff" not in json.dumps(config)


@pytest.mark.parametrize(
    "slug",
    ["basisschool-bestaat-niet", "OBS-DE-REGENBOOG", "x" * 65],
    ids=["unknown", "wrong-case", "too-long"],
)
def test_unknown_school_is_not_found(api, fake, slug):
    response = post_report(api, valid_report(fake), slug=slug)

    assert response.status_code == 404
    assert answer(response)["error"] == "not_found"
    assert_bilingual(answer(response)["message"])
    assert stored_reports() == []


def test_inactive_school_is_not_found(api, fake):
    school = School.get("obs-de-regenboog")
    school.update(actions=[School.active.set(False)])

    response = post_report(api, valid_report(fake))

    assert response.status_code == 404
    assert stored_reports() == []


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"",
        b"niet eens json",
        b'{"description": "half"',
        b"\xff\xfe{}",
        b"[" * 60_000,
        b'{"a":' * 10_000,
    ],
    ids=[
        "unclosed",
        "empty",
        "prose",
        "truncated",
        "not-utf8",
        "nested-arrays",
        "nested-objects",
    ],
)
def test_malformed_json_is_a_bad_request(api, raw):
    response = post_report(api, raw)

    assert response.status_code == 400
    assert answer(response)["error"] == "bad_request"
    assert_bilingual(answer(response)["message"])
    assert stored_reports() == []


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonp",
        "",
    ],
    ids=["text", "form", "multipart", "lookalike", "missing"],
)
def test_body_that_is_not_declared_json_is_unsupported(api, fake, content_type):
    body = json.dumps(valid_report(fake)).encode()

    response = api.post(
        reports_path(),
        headers={"Content-Type": content_type, "Idempotency-Key": new_key()},
        body=body,
    )

    assert response.status_code == 415
    assert answer(response)["error"] == "unsupported_media_type"
    assert_bilingual(answer(response)["message"])
    assert stored_reports() == []


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "Application/JSON"],
    ids=["with-charset", "upper-case"],
)
def test_json_content_type_variants_are_accepted(api, fake, content_type):
    response = post_report(
        api, valid_report(fake), headers={"Content-Type": content_type}
    )

    assert response.status_code == 201, response.body


def _padded(fake, size: int) -> bytes:
    """A report body of exactly `size` bytes, padded with spaces after the JSON."""
    raw = json.dumps(valid_report(fake)).encode()
    return raw + b" " * (size - len(raw))


def test_body_over_64_kib_is_too_large(api, fake):
    raw = _padded(fake, MAX_BODY_BYTES + 1)

    response = post_report(api, raw)

    assert response.status_code == 413
    assert answer(response)["error"] == "payload_too_large"
    assert_bilingual(answer(response)["message"])
    assert stored_reports() == []


def test_body_of_exactly_64_kib_is_read(api, fake):
    raw = _padded(fake, MAX_BODY_BYTES)

    response = post_report(api, raw)

    assert response.status_code == 201, response.body


@pytest.mark.parametrize(
    "key",
    [
        None,
        "",
        "a" * 15,
        "a" * 101,
        "sleutel met spaties!!",
        "ééééééééééééééééééé",
        "abcdefghijklmnop\n",
        "../../../../etc/passwd",
    ],
    ids=[
        "missing",
        "empty",
        "too-short",
        "too-long",
        "spaces",
        "non-ascii",
        "trailing-newline",
        "path",
    ],
)
def test_missing_or_invalid_idempotency_key_is_refused(api, fake, key):
    headers = dict(JSON_HEADERS)
    if key is not None:
        headers["Idempotency-Key"] = key

    response = api.post(
        reports_path(), headers=headers, body=json.dumps(valid_report(fake)).encode()
    )

    errors = field_errors(response)
    assert list(errors) == ["idempotency_key"]
    assert_bilingual(errors["idempotency_key"]["invalid"]["message"])
    assert stored_reports() == []


@pytest.mark.parametrize(
    "key",
    ["a" * 16, "Z" * 100, "0123456789_-abcDEF"],
    ids=["shortest", "longest", "all-allowed-characters"],
)
def test_idempotency_key_within_bounds_is_accepted(api, fake, key):
    response = post_report(api, valid_report(fake), key=key)

    assert response.status_code == 201, response.body
