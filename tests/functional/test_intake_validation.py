"""Every validation rule of the report form, seen through the HTTP API.

A refused report answers 422 with the path of each field that needs another look
and a message in Dutch and English; nothing is stored. All requests of this module
are refused, so they share one fake AWS.
"""

from __future__ import annotations

import pytest

from chalicelib.validation import (
    MAX_AGE_DAYS,
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_NOTE,
    MAX_PERSONS,
    MAX_WITNESSES,
)

from .helpers import (
    assert_bilingual,
    days_from_today,
    dropping,
    field_errors,
    persons,
    post_report,
    setting,
    stored_reports,
    valid_report,
    with_value,
)


@pytest.fixture
def api(refusing_api):
    return refusing_api


# (change to a valid report, field path in the answer, error code)
RULES = [
    # missing answers
    pytest.param(dropping("language"), "language", "required", id="language-missing"),
    pytest.param(dropping("reporter"), "reporter.role", "required", id="role-missing"),
    pytest.param(
        dropping("reporter.name"), "reporter.name", "required", id="name-missing"
    ),
    pytest.param(
        setting("reporter.name", "   "), "reporter.name", "required", id="name-blank"
    ),
    pytest.param(
        dropping("reporter.email", "reporter.phone"),
        "reporter.email",
        "contact_required",
        id="no-way-to-contact",
    ),
    pytest.param(
        dropping("categories"), "categories", "required", id="categories-missing"
    ),
    pytest.param(
        setting("categories", []), "categories", "required", id="categories-empty"
    ),
    pytest.param(
        dropping("description"), "description", "required", id="description-missing"
    ),
    pytest.param(
        setting("description", "\n\t "),
        "description",
        "required",
        id="description-blank",
    ),
    pytest.param(
        setting("hurt", {"self": False, "persons": []}),
        "hurt",
        "required",
        id="hurt-nobody",
    ),
    pytest.param(dropping("hurt"), "hurt", "required", id="hurt-missing"),
    pytest.param(
        setting("did_it", {"unknown": False}), "did_it", "required", id="did-it-nobody"
    ),
    pytest.param(
        setting("hurt.persons.0.name", ""),
        "hurt.persons.0.name",
        "required",
        id="hurt-person-unnamed",
    ),
    pytest.param(dropping("location"), "location", "required", id="location-missing"),
    pytest.param(dropping("occurred_on"), "occurred_on", "required", id="date-missing"),
    pytest.param(
        dropping("part_of_day"), "part_of_day", "required", id="part-of-day-missing"
    ),
    pytest.param(
        dropping("frequency"), "frequency", "required", id="frequency-missing"
    ),
    pytest.param(dropping("danger_now"), "danger_now", "required", id="danger-missing"),
    pytest.param(dropping("told"), "told", "required", id="told-missing"),
    pytest.param(setting("told", []), "told", "required", id="told-empty"),
    # wrong types
    pytest.param(
        setting("reporter", ["parent"]), "reporter", "type", id="reporter-list"
    ),
    pytest.param(setting("reporter", "ouder"), "reporter", "type", id="reporter-text"),
    pytest.param(
        setting("reporter.anonymous", "ja"),
        "reporter.anonymous",
        "type",
        id="anonymous-text",
    ),
    pytest.param(
        setting("reporter.anonymous", None),
        "reporter.anonymous",
        "type",
        id="anonymous-null",
    ),
    pytest.param(
        setting("reporter.role", ["pupil"]),
        "reporter.role",
        "invalid_choice",
        id="role-list",
    ),
    pytest.param(
        setting("reporter.name", ["Jan"]), "reporter.name", "type", id="name-list"
    ),
    pytest.param(
        setting("reporter.name", {"first": "Jan"}),
        "reporter.name",
        "type",
        id="name-object",
    ),
    pytest.param(
        setting("reporter.name", 42), "reporter.name", "type", id="name-number"
    ),
    pytest.param(
        setting("reporter.name", True), "reporter.name", "type", id="name-boolean"
    ),
    pytest.param(
        setting("reporter.name", None), "reporter.name", "required", id="name-null"
    ),
    pytest.param(
        setting("reporter.email", 612345678),
        "reporter.email",
        "type",
        id="email-number",
    ),
    pytest.param(
        setting("reporter.phone", 612345678),
        "reporter.phone",
        "type",
        id="phone-number",
    ),
    pytest.param(
        setting("description", 12.5), "description", "type", id="description-number"
    ),
    pytest.param(
        setting("description", ["a", "b"]), "description", "type", id="description-list"
    ),
    pytest.param(
        setting("description", None), "description", "required", id="description-null"
    ),
    pytest.param(
        setting("categories", "pesten"),
        "categories",
        "invalid_choice",
        id="categories-text",
    ),
    pytest.param(
        setting("categories", [1, 2]),
        "categories",
        "invalid_choice",
        id="categories-numbers",
    ),
    pytest.param(
        setting("categories", {"pesten": True}),
        "categories",
        "invalid_choice",
        id="categories-object",
    ),
    pytest.param(
        setting("categories", ["pesten", "pesten"]),
        "categories",
        "invalid_choice",
        id="categories-twice",
    ),
    pytest.param(setting("hurt", ["Noor"]), "hurt", "type", id="hurt-list"),
    pytest.param(setting("hurt.self", "ja"), "hurt.self", "type", id="hurt-self-text"),
    pytest.param(
        setting("did_it.unknown", 1), "did_it.unknown", "type", id="unknown-number"
    ),
    pytest.param(
        setting("hurt.persons", {"name": "Noor"}),
        "hurt.persons",
        "type",
        id="persons-object",
    ),
    pytest.param(
        setting("did_it.persons", "Daan"),
        "did_it.persons",
        "type",
        id="persons-text",
    ),
    pytest.param(
        setting("hurt.persons.0", "Noor"),
        "hurt.persons.0",
        "type",
        id="person-text",
    ),
    pytest.param(
        setting("did_it.persons.0.name", 7),
        "did_it.persons.0.name",
        "type",
        id="person-name-number",
    ),
    pytest.param(
        setting("location", 3), "location", "invalid_choice", id="location-number"
    ),
    pytest.param(
        setting("location", ["plein"]),
        "location",
        "invalid_choice",
        id="location-list",
    ),
    pytest.param(
        setting("location_note", {"x": 1}), "location_note", "type", id="note-object"
    ),
    pytest.param(setting("witnesses", 0), "witnesses", "type", id="witnesses-zero"),
    pytest.param(setting("told", "teacher"), "told", "invalid_choice", id="told-text"),
    pytest.param(setting("told", [1]), "told", "invalid_choice", id="told-number"),
    pytest.param(
        setting("told", {"teacher": True}), "told", "invalid_choice", id="told-object"
    ),
    pytest.param(
        setting("occurred_on", 20250101),
        "occurred_on",
        "invalid_date",
        id="date-number",
    ),
    pytest.param(
        setting("danger_now", True), "danger_now", "invalid_choice", id="danger-boolean"
    ),
    # unknown choices
    pytest.param(
        setting("language", "de"), "language", "invalid_choice", id="language-unknown"
    ),
    pytest.param(
        setting("reporter.role", "principal"),
        "reporter.role",
        "invalid_choice",
        id="role-unknown",
    ),
    pytest.param(
        setting("categories", ["pesten", "roddelen"]),
        "categories",
        "invalid_choice",
        id="category-unknown",
    ),
    pytest.param(
        setting("hurt.persons.0.group", "g-9"),
        "hurt.persons.0.group",
        "invalid_choice",
        id="group-unknown",
    ),
    pytest.param(
        setting("did_it.persons.0.group", "g-h2b"),
        "did_it.persons.0.group",
        "invalid_choice",
        id="group-of-other-school",
    ),
    pytest.param(
        setting("hurt.persons.0.group", ["g-5"]),
        "hurt.persons.0.group",
        "invalid_choice",
        id="group-list",
    ),
    pytest.param(
        setting("did_it.persons.0.group", {"id": "g-5"}),
        "did_it.persons.0.group",
        "invalid_choice",
        id="group-object",
    ),
    pytest.param(
        setting("hurt.persons.0.group", 5),
        "hurt.persons.0.group",
        "invalid_choice",
        id="group-number",
    ),
    pytest.param(
        setting("location", "aula"),
        "location",
        "invalid_choice",
        id="location-of-other-school",
    ),
    pytest.param(
        setting("part_of_day", "night"),
        "part_of_day",
        "invalid_choice",
        id="part-of-day-unknown",
    ),
    pytest.param(
        setting("frequency", "always"),
        "frequency",
        "invalid_choice",
        id="frequency-unknown",
    ),
    pytest.param(
        setting("told", ["police"]), "told", "invalid_choice", id="told-unknown"
    ),
    pytest.param(
        setting("told", ["teacher", "teacher"]),
        "told",
        "invalid_choice",
        id="told-twice",
    ),
    pytest.param(
        setting("told", ["nobody", "parent"]),
        "told",
        "invalid_choice",
        id="nobody-and-parent",
    ),
    pytest.param(
        setting("danger_now", "maybe"),
        "danger_now",
        "invalid_choice",
        id="danger-unknown",
    ),
    # dates
    pytest.param(days_from_today(1), "occurred_on", "future_date", id="tomorrow"),
    pytest.param(
        days_from_today(-MAX_AGE_DAYS - 1), "occurred_on", "too_old", id="too-old"
    ),
    pytest.param(
        setting("occurred_on", "2025-02-30"),
        "occurred_on",
        "invalid_date",
        id="no-such-day",
    ),
    pytest.param(
        setting("occurred_on", "30-01-2025"),
        "occurred_on",
        "invalid_date",
        id="dutch-order",
    ),
    pytest.param(
        setting("occurred_on", "2025-01-30T10:00"),
        "occurred_on",
        "invalid_date",
        id="with-time",
    ),
    # contact details
    pytest.param(
        setting("reporter.email", "ouder-at-example.nl"),
        "reporter.email",
        "invalid_email",
        id="email-without-at",
    ),
    pytest.param(
        setting("reporter.email", "ouder@localhost"),
        "reporter.email",
        "invalid_email",
        id="email-without-domain",
    ),
    pytest.param(
        setting("reporter.phone", "12345"),
        "reporter.phone",
        "invalid_phone",
        id="phone-too-short",
    ),
    pytest.param(
        setting("reporter.phone", "bel mij maar"),
        "reporter.phone",
        "invalid_phone",
        id="phone-words",
    ),
    # lengths and counts
    pytest.param(
        setting("reporter.name", "a" * (MAX_NAME + 1)),
        "reporter.name",
        "too_long",
        id="name-too-long",
    ),
    pytest.param(
        setting("reporter.email", "a" * 250 + "@x.nl"),
        "reporter.email",
        "too_long",
        id="email-too-long",
    ),
    pytest.param(
        setting("reporter.phone", "0" * 31),
        "reporter.phone",
        "too_long",
        id="phone-too-long",
    ),
    pytest.param(
        setting("description", "a" * (MAX_DESCRIPTION + 1)),
        "description",
        "too_long",
        id="description-too-long",
    ),
    pytest.param(
        setting("hurt.persons.0.name", "a" * (MAX_NAME + 1)),
        "hurt.persons.0.name",
        "too_long",
        id="person-name-too-long",
    ),
    pytest.param(
        setting("location_note", "a" * (MAX_NOTE + 1)),
        "location_note",
        "too_long",
        id="note-too-long",
    ),
    pytest.param(
        setting("witnesses", "a" * (MAX_WITNESSES + 1)),
        "witnesses",
        "too_long",
        id="witnesses-too-long",
    ),
    pytest.param(
        setting("hurt.persons", persons(MAX_PERSONS + 1)),
        "hurt.persons",
        "too_many",
        id="hurt-too-many",
    ),
    pytest.param(
        setting("did_it.persons", persons(MAX_PERSONS + 1)),
        "did_it.persons",
        "too_many",
        id="did-it-too-many",
    ),
    # characters that cannot be stored
    pytest.param(
        setting("reporter.name", "Jan\nJansen"),
        "reporter.name",
        "characters",
        id="newline-in-name",
    ),
    pytest.param(
        setting("location_note", "plein\tzuid"),
        "location_note",
        "characters",
        id="tab-in-note",
    ),
    pytest.param(
        setting("description", "a\x00b"),
        "description",
        "characters",
        id="nul-in-description",
    ),
    pytest.param(
        setting("witnesses", "Noor\x1b[31m"),
        "witnesses",
        "characters",
        id="escape-in-witnesses",
    ),
    pytest.param(
        setting("did_it.persons.0.name", "Daan\x85"),
        "did_it.persons.0.name",
        "characters",
        id="c1-control-in-name",
    ),
    # questions that are not on the form
    pytest.param(
        setting("photo", "data:image/png;base64,AAAA"),
        "photo",
        "unknown_field",
        id="photo",
    ),
    pytest.param(
        setting("x" * 80, 1), "x" * 50, "unknown_field", id="long-unknown-name"
    ),
]


@pytest.mark.parametrize(("change", "field", "code"), RULES)
def test_invalid_answer_is_refused_with_field_message(api, fake, change, field, code):
    body = change(valid_report(fake))

    response = post_report(api, body)

    errors = field_errors(response)
    assert code in errors.get(field, {}), errors
    assert_bilingual(errors[field][code]["message"])
    assert stored_reports() == []


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("reporter.name", MAX_NAME),
        ("description", MAX_DESCRIPTION),
        ("location_note", MAX_NOTE),
        ("witnesses", MAX_WITNESSES),
        ("did_it.persons.0.name", MAX_NAME),
    ],
    ids=["name", "description", "note", "witnesses", "person-name"],
)
def test_too_long_message_names_the_limit_in_both_languages(api, fake, field, limit):
    body = with_value(valid_report(fake), field, "é" * (limit + 1))

    response = post_report(api, body)

    message = field_errors(response)[field]["too_long"]["message"]
    assert str(limit) in message["nl"]
    assert str(limit) in message["en"]


def test_all_problems_are_reported_at_once(api):
    response = post_report(api, {})

    errors = field_errors(response)
    assert {
        "reporter.role",
        "reporter.name",
        "reporter.email",
        "categories",
        "description",
        "hurt",
        "did_it",
        "location",
        "occurred_on",
        "part_of_day",
        "frequency",
        "told",
        "danger_now",
    } <= set(errors)
    for by_code in errors.values():
        for error in by_code.values():
            assert_bilingual(error["message"])


@pytest.mark.parametrize(
    "payload",
    [[], "melding", 42, None, True],
    ids=["list", "string", "number", "null", "boolean"],
)
def test_body_that_is_not_an_object_is_refused(api, payload):
    response = post_report(api, payload)

    errors = field_errors(response)
    assert list(errors) == [""]
    assert "type" in errors[""]
