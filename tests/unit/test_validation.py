"""Validation of a report against a school's configuration, without AWS.

The school is built in memory from the production model; nothing is saved.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.models import Category, Group, Label, Place, School
from chalicelib.reports import is_urgent
from chalicelib.validation import (
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_NOTE,
    MAX_PERSONS,
    MAX_WITNESSES,
    validate_idempotency_key,
    validate_report,
)

TODAY = datetime.now(ZoneInfo("Europe/Amsterdam")).date()


@pytest.fixture
def school() -> School:
    return School(
        "basisschool-het-anker",
        name="Basisschool Het Anker",
        kind="primary",
        region="eu-central-1",
        groups=[Group(id=f"g-{n}", name=f"Groep {n}") for n in (3, 4, 5)],
        locations=[
            Place(id="plein", label=Label(nl="Plein", en="Playground")),
            Place(id="gym", label=Label(nl="Gym", en="PE")),
        ],
        categories=[
            Category(id="pesten", label=Label(nl="Pesten", en="Bullying")),
            Category(
                id="wapenbezit", label=Label(nl="Wapen", en="Weapon"), urgent=True
            ),
        ],
    )


def submitted(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "language": "nl",
        "reporter": {
            "role": "pupil",
            "anonymous": False,
            "name": "Daan de Vries",
            "email": "daan@example.nl",
        },
        "categories": ["pesten"],
        "description": "Ze pakken steeds mijn pet af.",
        "hurt": {"self": True},
        "did_it": {
            "unknown": False,
            "persons": [
                {"name": "Tim", "group": "g-5"},
                {"name": "Jesse", "group": "g-3"},
            ],
        },
        "location": "plein",
        "occurred_on": (TODAY - timedelta(days=1)).isoformat(),
        "part_of_day": "break",
        "frequency": "ongoing",
        "told": ["friend"],
        "danger_now": "no",
    }
    body.update(copy.deepcopy(changes))
    return body


def refusal(payload: Any, school: School) -> dict[tuple[str, str], dict[str, str]]:
    """The (field, code) pairs of a refused report, with their messages."""
    with pytest.raises(ValidationFailed) as refused:
        validate_report(payload, school)
    return {(e.field, e.code): e.message for e in refused.value.errors}


def test_valid_report_is_returned_in_storage_shape(school):
    report = validate_report(submitted(), school)

    assert report == {
        "language": "nl",
        "reporter_role": "pupil",
        "anonymous": False,
        "contact": {"name": "Daan de Vries", "email": "daan@example.nl", "phone": None},
        "categories": ["pesten"],
        "description": "Ze pakken steeds mijn pet af.",
        "hurt_self": True,
        "did_it_unknown": False,
        "persons": [
            {"role": "did_it", "name": "Tim", "group": "g-5"},
            {"role": "did_it", "name": "Jesse", "group": "g-3"},
        ],
        "groups": ["g-3", "g-5"],
        "location": "plein",
        "location_note": None,
        "occurred_on": (TODAY - timedelta(days=1)).isoformat(),
        "part_of_day": "break",
        "frequency": "ongoing",
        "told": ["friend"],
        "witnesses": None,
        "danger_now": "no",
    }


def test_groups_of_everyone_named_are_sorted_and_unique(school):
    body = submitted(
        hurt={
            "self": False,
            "persons": [{"name": "Sara", "group": "g-5"}, {"name": "Ali"}],
        }
    )

    report = validate_report(body, school)

    assert report["groups"] == ["g-3", "g-5"]
    assert [p["group"] for p in report["persons"]] == ["g-5", None, "g-5", "g-3"]


def test_anonymous_reporter_keeps_no_contact_details(school):
    body = submitted()
    body["reporter"].update(anonymous=True, phone="06-12345678")

    report = validate_report(body, school)

    assert report["anonymous"] is True
    assert report["contact"] is None


def test_anonymous_reporter_with_invalid_contact_details_is_not_refused(school):
    body = submitted()
    body["reporter"] = {"role": "parent", "anonymous": True, "email": "geen-adres"}

    report = validate_report(body, school)

    assert report["contact"] is None


@pytest.mark.parametrize(
    ("field", "limit", "multiline"),
    [
        ("description", MAX_DESCRIPTION, True),
        ("location_note", MAX_NOTE, False),
        ("witnesses", MAX_WITNESSES, True),
    ],
    ids=["description", "location-note", "witnesses"],
)
@pytest.mark.parametrize(
    "unit", ["a", "é", "👍", "e\u0301"], ids=["ascii", "accent", "emoji", "combining"]
)
def test_text_limit_counts_code_points(school, field, limit, multiline, unit):
    fits = (unit * limit)[:limit]
    too_long = fits + "x"

    accepted = validate_report(submitted(**{field: fits}), school)
    refused = refusal(submitted(**{field: too_long}), school)

    assert accepted[field] == fits
    assert (field, "too_long") in refused
    assert str(limit) in refused[(field, "too_long")]["nl"]


@pytest.mark.parametrize("count", [MAX_PERSONS, MAX_PERSONS + 1], ids=["10", "11"])
def test_at_most_ten_people_per_side(school, count):
    people = [{"name": f"Kind {n}", "group": "g-4"} for n in range(count)]
    body = submitted(did_it={"unknown": False, "persons": people})

    if count <= MAX_PERSONS:
        assert len(validate_report(body, school)["persons"]) == count
    else:
        assert ("did_it.persons", "too_many") in refusal(body, school)


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("location_note", "   "),
        ("witnesses", "\n\n"),
        ("location_note", "\u00a0"),
    ],
    ids=["spaces-note", "newlines-witnesses", "no-break-space-note"],
)
def test_blank_optional_text_is_kept_as_typed(school, field, text):
    report = validate_report(submitted(**{field: text}), school)

    assert report[field] == text


@pytest.mark.parametrize("field", ["location_note", "witnesses"])
def test_empty_optional_text_is_no_answer(school, field):
    report = validate_report(submitted(**{field: ""}), school)

    assert report[field] is None


@pytest.mark.parametrize("text", ["", " ", "\t\n", "\u3000"], ids=repr)
def test_blank_description_answers_nothing(school, text):
    assert ("description", "required") in refusal(submitted(description=text), school)


@pytest.mark.parametrize(
    ("field", "text", "accepted"),
    [
        ("description", "regel 1\r\nregel 2\tmet tab", True),
        ("witnesses", "Noor\nSem", True),
        ("location_note", "plein\nzuid", False),
        ("description", "bel\x07", False),
        ("description", "del\x7f", False),
        ("witnesses", "c1\x9b", False),
        ("description", "\ud800", False),
        ("location_note", "rtl \u202e override", True),
        ("location_note", "zero\u200bwidth", True),
        ("description", "line\u2028separator", True),
    ],
    ids=[
        "crlf-and-tab-in-description",
        "newline-in-witnesses",
        "newline-in-note",
        "bell",
        "delete",
        "c1-control",
        "lone-surrogate",
        "bidi-override",
        "zero-width-space",
        "line-separator",
    ],
)
def test_which_characters_can_be_stored(school, field, text, accepted):
    body = submitted(**{field: text})

    if accepted:
        assert validate_report(body, school)[field] == text
    else:
        assert (field, "characters") in refusal(body, school)


@pytest.mark.parametrize("group", [["g-5"], {"id": "g-5"}, 5, True, "g-9"], ids=repr)
def test_group_that_is_no_group_of_the_school_is_refused(school, group):
    body = submitted(did_it={"persons": [{"name": "Tim", "group": group}]})

    assert ("did_it.persons.0.group", "invalid_choice") in refusal(body, school)


@pytest.mark.parametrize(
    ("told", "accepted"),
    [
        (["nobody"], True),
        (["teacher", "parent", "friend", "other_adult"], True),
        (["nobody", "teacher"], False),
        (["teacher", "teacher"], False),
        ("teacher", False),
    ],
    ids=["nobody", "all-others", "nobody-and-teacher", "twice", "not-a-list"],
)
def test_who_was_told(school, told, accepted):
    body = submitted(told=told)

    if accepted:
        assert validate_report(body, school)["told"] == told
    else:
        assert ("told", "invalid_choice") in refusal(body, school)


@pytest.mark.parametrize(
    ("day", "code"),
    [
        (TODAY + timedelta(days=1), "future_date"),
        (TODAY - timedelta(days=3 * 366 + 1), "too_old"),
    ],
    ids=["tomorrow", "over-three-years"],
)
def test_date_outside_the_reportable_range_is_refused(school, day, code):
    assert ("occurred_on", code) in refusal(
        submitted(occurred_on=day.isoformat()), school
    )


@pytest.mark.parametrize(
    "value",
    ["2025-13-01", "2025-02-29", "2025-1-1", " 2025-01-01", "2025-01-01Z", "vandaag"],
    ids=repr,
)
def test_date_that_is_not_a_calendar_date_is_refused(school, value):
    assert ("occurred_on", "invalid_date") in refusal(
        submitted(occurred_on=value), school
    )


def test_unknown_questions_are_each_named(school):
    body = submitted(photo="x", location_gps="52.1,5.1", **{"z" * 70: 1})

    refused = refusal(body, school)

    assert {field for field, code in refused if code == "unknown_field"} == {
        "location_gps",
        "photo",
        "z" * 50,
    }


def test_every_message_is_in_dutch_and_english(school):
    refused = refusal({"reporter": {"email": "x", "phone": "1"}, "told": 3}, school)

    for message in refused.values():
        assert set(message) == {"nl", "en"}
        assert message["nl"] != message["en"]


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("a" * 16, True),
        ("a" * 100, True),
        ("Az09_-" * 3, True),
        ("a" * 15, False),
        ("a" * 101, False),
        ("a" * 16 + "\n", False),
        ("a" * 16 + " ", False),
        ("ä" * 16, False),
        ("a" * 8 + "/" + "a" * 8, False),
        ("", False),
        (None, False),
    ],
    ids=[
        "16",
        "100",
        "all-allowed",
        "15",
        "101",
        "trailing-newline",
        "trailing-space",
        "non-ascii",
        "slash",
        "empty",
        "missing",
    ],
)
def test_idempotency_key_shape(key, valid):
    if valid:
        assert validate_idempotency_key(key) == key
    else:
        with pytest.raises(ValidationFailed) as refused:
            validate_idempotency_key(key)
        assert [e.field for e in refused.value.errors] == ["idempotency_key"]


@pytest.mark.parametrize(
    ("changes", "urgent"),
    [
        ({}, False),
        ({"danger_now": "yes"}, True),
        ({"danger_now": "unsure"}, False),
        ({"categories": ["wapenbezit"]}, True),
        ({"categories": ["pesten", "wapenbezit"]}, True),
    ],
    ids=["ordinary", "danger-now", "unsure", "urgent-category", "urgent-among-others"],
)
def test_report_is_urgent_on_danger_or_an_urgent_category(school, changes, urgent):
    report = validate_report(submitted(**changes), school)

    assert is_urgent(report, school) is urgent


def test_name_limit_applies_to_reporter_and_people(school):
    long_name = "n" * (MAX_NAME + 1)
    body = submitted(
        reporter={"role": "other", "name": long_name, "phone": "06-12345678"},
        did_it={"persons": [{"name": long_name}]},
    )

    refused = refusal(body, school)

    assert ("reporter.name", "too_long") in refused
    assert ("did_it.persons.0.name", "too_long") in refused
