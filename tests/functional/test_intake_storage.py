"""What a stored report looks like: its answers exactly as typed, the keys staff
tools find it by, and no receipt code or idempotency key kept in clear."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest

from chalicelib.models import Report, ReportIndex, School
from chalicelib.receipts import receipt_hash
from chalicelib.reports import (
    expiry_scope,
    group_scope,
    intake_scope,
    receipt_scope,
    store_report,
)
from chalicelib.validation import validate_report

from .helpers import (
    AMSTERDAM,
    SCHOOL,
    answer,
    new_key,
    post_report,
    raw_items,
    report_of_receipt,
    stored_reports,
    strings_in,
    valid_report,
    with_value,
)


def test_report_keeps_every_answer_and_what_staff_sort_by(api, fake):
    body = valid_report(fake)
    body["hurt"]["persons"] = [
        {"name": fake.first_name(), "group": "g-5"},
        {"name": fake.first_name(), "group": "g-3"},
    ]
    body["did_it"]["persons"] = [
        {"name": fake.name(), "group": "g-5"},
        {"name": fake.name(), "group": None},
    ]
    before = datetime.now(UTC)

    response = post_report(api, body)

    after = datetime.now(UTC)
    assert response.status_code == 201, response.body
    [report] = stored_reports()
    assert report.school_id == SCHOOL
    assert report.groups == ["g-3", "g-5"]
    assert report.categories == body["categories"]
    assert report.location == "plein"
    assert report.location_note == body["location_note"]
    assert report.occurred_on == body["occurred_on"]
    assert report.part_of_day == "break"
    assert report.frequency == "several"
    assert report.reporter_role == "parent"
    assert report.anonymous is False
    assert report.contact.name == body["reporter"]["name"]
    assert report.contact.email == body["reporter"]["email"]
    assert report.contact.phone == body["reporter"]["phone"]
    assert report.description == body["description"]
    assert report.witnesses == body["witnesses"]
    assert report.told == ["teacher"]
    assert report.danger_now == "no"
    assert report.urgent is False
    assert report.status == "new"
    assert report.hurt_self is False
    assert report.did_it_unknown is False
    assert [(p.role, p.name, p.group) for p in report.persons] == [
        ("hurt", p["name"], p["group"]) for p in body["hurt"]["persons"]
    ] + [("did_it", p["name"], p["group"]) for p in body["did_it"]["persons"]]
    assert report.received_at.tzinfo == UTC
    assert before <= report.received_at <= after
    year, week, _ = report.received_at.astimezone(AMSTERDAM).isocalendar()
    assert report.received_week == f"{year}-W{week:02d}"


@pytest.mark.parametrize(
    ("received", "week"),
    [
        (datetime(2026, 3, 29, 21, 59, tzinfo=UTC), "2026-W13"),
        (datetime(2026, 3, 29, 22, 0, tzinfo=UTC), "2026-W14"),
        (datetime(2026, 1, 11, 22, 59, tzinfo=UTC), "2026-W02"),
        (datetime(2026, 1, 11, 23, 0, tzinfo=UTC), "2026-W03"),
        (datetime(2027, 1, 3, 22, 59, tzinfo=UTC), "2026-W53"),
        (datetime(2027, 1, 3, 23, 0, tzinfo=UTC), "2027-W01"),
    ],
    ids=[
        "sunday-night-summer",
        "monday-00-00-summer-still-sunday-in-utc",
        "sunday-night-winter",
        "monday-00-00-winter-still-sunday-in-utc",
        "last-sunday-of-53-week-year",
        "first-monday-of-next-year",
    ],
)
def test_report_counts_in_the_amsterdam_week_it_arrived(
    demo_schools, fake, received, week
):
    school = School.get(SCHOOL)
    report = validate_report(valid_report(fake), school)

    stored = store_report(school, new_key(), report, received=received)

    assert Report.get(SCHOOL, stored.report_id).received_week == week
    assert Report.get(SCHOOL, stored.report_id).received_at == received


def test_index_points_to_report_per_group_receipt_and_key(api, fake):
    body = valid_report(fake)
    body["did_it"]["persons"].append({"name": fake.name(), "group": "g-5"})
    key = new_key()

    code = answer(post_report(api, body, key=key))["receipt_code"]

    [report] = stored_reports()
    pointers = [p for p in ReportIndex.scan() if p.report_id == report.report_id]
    assert sorted((p.scope, p.sort) for p in pointers) == sorted(
        [
            (group_scope(SCHOOL, "g-5"), report.report_id),
            (group_scope(SCHOOL, "g-6"), report.report_id),
            (receipt_scope(SCHOOL, receipt_hash(SCHOOL, code)), "receipt"),
            (intake_scope(SCHOOL, key), "intake"),
            # The case's place in the retention order: from its receipt.
            (expiry_scope(SCHOOL), f"{report.report_id[:20]}#{report.report_id}"),
        ]
    )
    assert report.receipt_hash == receipt_hash(SCHOOL, code)


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code,
        lambda code: code.lower(),
        lambda code: code.replace("-", " "),
        lambda code: code.replace("O", "0").replace("I", "1").replace("B", "8"),
    ],
    ids=["as-shown", "lower-case", "spaces", "digits-for-letters"],
)
def test_receipt_code_as_a_person_types_it_leads_to_the_report(api, fake, typed):
    code = answer(post_report(api, valid_report(fake)))["receipt_code"]

    found = report_of_receipt(SCHOOL, typed(code))

    assert found.report_id == stored_reports()[0].report_id


def test_receipt_code_and_idempotency_key_are_not_stored_in_clear(api, fake):
    key = new_key()
    code = answer(post_report(api, valid_report(fake), key=key))["receipt_code"]
    secrets = {code, code.replace("-", ""), code.lower(), key}

    found = [
        (table, text)
        for table, item in raw_items()
        for text in strings_in(item)
        if any(secret in text for secret in secrets)
    ]

    assert found == []
    assert any(table.endswith("idempotency") for table, _ in raw_items())


def test_unicode_names_and_texts_are_kept_exactly(api, fake):
    texts = UNICODE_TEXTS
    body = valid_report(fake)
    body["reporter"]["name"] = texts["combining-marks"]
    body["description"] = "\n".join(texts.values())
    body["hurt"]["persons"] = [
        {"name": text, "group": "g-5"} for text in list(texts.values())[:10]
    ]
    body["witnesses"] = texts["right-to-left-mixed"]

    response = post_report(api, body)

    assert response.status_code == 201, response.body
    [report] = stored_reports()
    assert report.contact.name == texts["combining-marks"]
    assert report.description == "\n".join(texts.values())
    assert [p.name for p in report.persons if p.role == "hurt"] == list(texts.values())[
        :10
    ]
    assert report.witnesses == texts["right-to-left-mixed"]


UNICODE_TEXTS = {
    "dutch-diacritics": "Zoë van 't Hoff-Çelik",
    "ij-digraph": "Ĳsbrand",
    "turkish": "Şükrü Öztürk",
    "arabic": "محمد العلي",
    "hebrew": "שרה כהן",
    "right-to-left-mixed": "Noor zei: \u202bهو ضربني\u202c in groep 5",
    "emoji-sequence": "Fatima 👩🏽‍🦱 en 🏳️‍🌈",
    "combining-marks": "Zoe\u0308 Rene\u0301e",
    "zero-width-joiner": "Sem\u200dLotte",
    "cjk": "王小明",
}


@pytest.mark.parametrize("text", UNICODE_TEXTS.values(), ids=UNICODE_TEXTS.keys())
def test_unicode_name_of_a_person_is_kept_exactly(api, fake, text):
    body = with_value(valid_report(fake), "did_it.persons.0.name", text)

    response = post_report(api, body)

    assert response.status_code == 201, response.body
    [stored] = stored_reports()
    [person] = [p for p in stored.persons if p.role == "did_it"]
    assert person.name == text
    assert person.name.encode("utf-8") == text.encode("utf-8")


def test_decomposed_accents_are_not_normalised(api, fake):
    decomposed = "Rene\u0301e Zoe\u0308"
    assert unicodedata.normalize("NFC", decomposed) != decomposed
    body = with_value(valid_report(fake), "reporter.name", decomposed)

    post_report(api, body)

    [stored] = stored_reports()
    assert stored.contact.name == decomposed
