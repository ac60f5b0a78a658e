"""The Big List of Naughty Strings in every free-text answer of the form.

Each string, in each field, is either stored byte for byte or refused with a
message for that field; never mangled, never dropped, never a 500. The rules of
what must be refused are restated here independently of chalicelib/validation.py.

The validation pass tries every string in every field on its own. The HTTP passes
then send every (field, string) pair through the API, eight at a time: one string
in each field per request, and read every accepted one back from the table.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from itertools import zip_longest
from pathlib import Path
from typing import Any

import pytest

from chalicelib.config import settings
from chalicelib.errors import ValidationFailed
from chalicelib.models import Category, Group, Label, Place, School
from chalicelib.validation import validate_report

from .helpers import (
    amsterdam_today,
    answer,
    assert_bilingual,
    field_errors,
    forget_reports,
    post_report,
    stored_reports,
    value_at,
    with_value,
)

BLNS = Path("/work/shared/data/naughty-strings/blns.json")
# The list holds no lone surrogates, which JSON can still carry as escapes
# ("\\ud800"): a browser's broken emoji, or a crafted request.
LONE_SURROGATES = ["\ud800", "Noor \udfff", "\udc00\ud83d", "\ud83d"]
NAUGHTY: list[str] = json.loads(BLNS.read_text(encoding="utf-8")) + LONE_SURROGATES
# moto copies whole tables on every transaction: the stored reports are checked
# and cleared after every batch, so the cost per request stays flat.
BATCH = 10


@dataclass(frozen=True)
class TextField:
    path: str  # where the answer sits in the submitted report
    read: Callable[[Any], str | None]  # where it sits in the stored Report
    limit: int
    required: bool
    multiline: bool = False
    format_code: str | None = None  # the code for text that is no e-mail/phone
    # A person's name refused leaves the question who it was unanswered, too.
    section: str | None = None


def _person(role: str) -> Callable[[Any], str | None]:
    return lambda report: next(p.name for p in report.persons if p.role == role)


FIELDS = [
    TextField("reporter.name", lambda r: r.contact.name, 100, required=True),
    TextField(
        "reporter.email",
        lambda r: r.contact.email,
        254,
        required=False,
        format_code="invalid_email",
    ),
    TextField(
        "reporter.phone",
        lambda r: r.contact.phone,
        30,
        required=False,
        format_code="invalid_phone",
    ),
    TextField(
        "description", lambda r: r.description, 4000, required=True, multiline=True
    ),
    TextField(
        "hurt.persons.0.name", _person("hurt"), 100, required=True, section="hurt"
    ),
    TextField(
        "did_it.persons.0.name",
        _person("did_it"),
        100,
        required=True,
        section="did_it",
    ),
    TextField("location_note", lambda r: r.location_note, 300, required=False),
    TextField("witnesses", lambda r: r.witnesses, 1000, required=False, multiline=True),
]
FIELD_IDS = [field.path for field in FIELDS]

# Refusing one answer can leave a question open: a refused name leaves "who was
# it?" unanswered, refused contact details leave no way to reach the reporter.
FOLLOW_UPS = {
    ("hurt", "required"),
    ("did_it", "required"),
    ("reporter.email", "contact_required"),
}

STORED = "stored"
LEFT_EMPTY = "left_empty"


def allowed_outcomes(field: TextField, text: str) -> set[str]:
    """What the form's rules allow for this text in this field."""
    if text == "":
        return {"required"} if field.required else {LEFT_EMPTY}
    if field.required and not text.strip():
        return {"required"}
    if len(text) > field.limit:
        return {"too_long"}
    if _unstorable(text, field.multiline):
        return {"characters"}
    if field.format_code:
        return {STORED, field.format_code}
    return {STORED}


def _unstorable(text: str, multiline: bool) -> bool:
    # Lone surrogates are no UTF-8; control characters break single-line display
    # and logs; only line breaks and tabs belong in the longer texts.
    line_breaks = "\n\r\t" if multiline else ""
    return any(
        0xD800 <= ord(ch) <= 0xDFFF
        or (unicodedata.category(ch) == "Cc" and ch not in line_breaks)
        for ch in text
    )


def base_report() -> dict[str, Any]:
    """A report with an answer in every free-text field, persons without group."""
    return {
        "language": "nl",
        "reporter": {
            "role": "staff",
            "anonymous": False,
            "name": "Meester Bart",
            "email": "bart@example.nl",
            "phone": "06-12345678",
        },
        "categories": ["online_pesten"],
        "description": "Er worden nare berichten gestuurd in de groepsapp.",
        "hurt": {"self": False, "persons": [{"name": "Yara"}]},
        "did_it": {"unknown": False, "persons": [{"name": "Sem"}]},
        "location": "online",
        "location_note": "de klassenapp",
        "occurred_on": (amsterdam_today() - timedelta(days=3)).isoformat(),
        "part_of_day": "evening",
        "frequency": "ongoing",
        "told": ["parent"],
        "witnesses": "Lotte en Finn",
        "danger_now": "no",
    }


def outcome(field: TextField, text: str, school: School) -> tuple[str, Any]:
    """Validate a report with text in field: ('stored', report) or (code, error)."""
    body = with_value(base_report(), field.path, text)
    try:
        report = validate_report(body, school)
    except ValidationFailed as refused:
        [error] = [e for e in refused.errors if e.field == field.path]
        others = {(e.field, e.code) for e in refused.errors if e is not error}
        assert others <= {(field.section, "required")}, others
        return error.code, error
    return STORED, report


@pytest.fixture
def school(fake_aws) -> School:
    """A school with one choice per question: reading it per request stays cheap."""
    school = School(
        "ikc-de-kleine-wereld",
        name="IKC De Kleine Wereld",
        kind="primary",
        region=settings.region,
        groups=[Group(id="g-5", name="Groep 5")],
        locations=[Place(id="online", label=Label(nl="Online", en="Online"))],
        categories=[
            Category(
                id="online_pesten",
                label=Label(nl="Online pesten", en="Online bullying"),
            )
        ],
    )
    school.save()
    return school


@pytest.fixture
def verdicts(school) -> dict[str, dict[str, list[str]]]:
    """Per field, the naughty strings validation accepts and the ones it refuses."""
    split: dict[str, dict[str, list[str]]] = {}
    for field in FIELDS:
        accepted, refused = [], []
        for text in NAUGHTY:
            verdict, _ = outcome(field, text, school)
            (accepted if verdict == STORED else refused).append(text)
        split[field.path] = {"accepted": accepted, "refused": refused}
    return split


def test_the_list_is_the_full_naughty_list():
    assert len(NAUGHTY) > 500
    assert all(isinstance(text, str) for text in NAUGHTY)
    assert json.dumps(LONE_SURROGATES[0]) == '"\\ud800"'


@pytest.mark.parametrize("field", FIELDS, ids=FIELD_IDS)
def test_naughty_string_is_kept_exactly_or_refused_for_its_field(school, field):
    for text in NAUGHTY:
        verdict, result = outcome(field, text, school)

        if verdict == STORED:
            kept = value_at(_as_body(result), field.path)
            assert kept == text or (text == "" and kept is None), repr(text)
            verdict = LEFT_EMPTY if kept is None else STORED
        else:
            assert_bilingual(result.message)
        assert verdict in allowed_outcomes(field, text), repr(text)


def _as_body(report: dict[str, Any]) -> dict[str, Any]:
    """The validated report in the shape of the submitted body, to read by path."""
    persons = report["persons"]
    return {
        **report,
        "reporter": report["contact"],
        "hurt": {"persons": [p for p in persons if p["role"] == "hurt"]},
        "did_it": {"persons": [p for p in persons if p["role"] == "did_it"]},
    }


def test_every_accepted_string_is_stored_byte_exact_through_http(
    api, unlimited, school, verdicts
):
    accepted = {path: verdict["accepted"] for path, verdict in verdicts.items()}
    # An empty e-mail with an empty phone asks the reporter to stay anonymous, a
    # rule of its own: the phone's strings run backwards so the two never meet.
    accepted["reporter.phone"] = accepted["reporter.phone"][::-1]
    rounds = list(zip_longest(*(accepted[f.path] for f in FIELDS)))

    for start in range(0, len(rounds), BATCH):
        batch = rounds[start : start + BATCH]
        for texts in batch:
            response = post_report(api, naughty_report(texts), slug=school.school_id)
            assert response.status_code == 201, (texts, response.body)

        assert_stored_exactly(batch, school)
        forget_reports()


def assert_stored_exactly(batch, school) -> None:
    """The batch's reports, read back in the order they were stored."""
    stored = sorted(stored_reports(school.school_id), key=lambda r: r.report_id)
    assert len(stored) == len(batch)
    for texts, report in zip(batch, stored, strict=True):
        for field, text in zip(FIELDS, texts, strict=True):
            if text is not None:
                assert field.read(report) == (text or None), (field.path, text)


def test_every_refused_string_is_answered_with_its_field_message_through_http(
    api, unlimited, school, verdicts
):
    rounds = list(zip_longest(*(verdicts[f.path]["refused"] for f in FIELDS)))

    for texts in rounds:
        response = post_report(api, naughty_report(texts), slug=school.school_id)

        errors = field_errors(response)
        refused = {(path, code) for path, codes in errors.items() for code in codes}
        for field, text in zip(FIELDS, texts, strict=True):
            if text is None:
                continue
            [code] = {c for path, c in refused - FOLLOW_UPS if path == field.path}
            assert code in allowed_outcomes(field, text), (field.path, text)
            assert_bilingual(errors[field.path][code]["message"])
            refused.discard((field.path, code))
        assert refused <= FOLLOW_UPS, answer(response)
    assert stored_reports(school.school_id) == []


def naughty_report(texts: tuple[str | None, ...]) -> dict[str, Any]:
    """The base report with text i in field i; None keeps the base answer."""
    body = base_report()
    for field, text in zip(FIELDS, texts, strict=True):
        if text is not None:
            body = with_value(body, field.path, text)
    return body
