"""Reports at the edge of every rule are accepted, and no JSON causes a 500.

The Hypothesis test throws arbitrary JSON at the endpoint, as the whole body or in
place of one answer; whatever arrives, the answer is one the form understands.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.validation import (
    MAX_AGE_DAYS,
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_NOTE,
    MAX_PERSONS,
    MAX_WITNESSES,
)

from .helpers import (
    SCHOOL,
    amsterdam_today,
    answer,
    assert_bilingual,
    days_from_today,
    dropping,
    new_key,
    persons,
    post_report,
    report_of_receipt,
    setting,
    stored_reports,
    valid_report,
    with_value,
)


@pytest.mark.parametrize(
    "change",
    [
        setting("reporter.name", "é" * MAX_NAME),
        setting("description", "ö" * MAX_DESCRIPTION),
        setting("location_note", "ü" * MAX_NOTE),
        setting("witnesses", "ï" * MAX_WITNESSES),
        setting("hurt.persons", persons(MAX_PERSONS)),
        setting("did_it.persons", persons(MAX_PERSONS)),
        days_from_today(0),
        days_from_today(-MAX_AGE_DAYS),
        setting("description", "Eerst dit.\r\nDaarna\tdat."),
        setting("told", ["nobody"]),
        setting("categories", ["pesten", "online_pesten", "anders"]),
        dropping("reporter.email"),
        dropping("reporter.phone"),
        dropping("location_note", "witnesses"),
    ],
    ids=[
        "longest-name",
        "longest-description",
        "longest-note",
        "longest-witnesses",
        "most-hurt",
        "most-did-it",
        "today",
        "oldest-date",
        "lines-in-description",
        "told-nobody",
        "three-categories",
        "phone-only",
        "email-only",
        "optional-left-out",
    ],
)
def test_answer_at_the_edge_of_a_rule_is_accepted(api, fake, change):
    body = change(valid_report(fake))

    response = post_report(api, body)

    assert response.status_code == 201, response.body
    assert len(stored_reports()) == 1


def test_anonymous_reporter_needs_no_contact_and_none_is_kept(api, fake):
    body = with_value(valid_report(fake), "reporter.anonymous", True)

    response = post_report(api, body)

    assert response.status_code == 201, response.body
    [stored] = stored_reports()
    assert stored.anonymous is True
    assert stored.contact is None
    dumped = json.dumps(stored.to_simple_dict(), ensure_ascii=False)
    for detail in ("name", "email", "phone"):
        assert body["reporter"][detail] not in dumped


# Arbitrary JSON: scalars (huge numbers, floats, odd text) nested in lists and
# objects, either as the whole body or in place of one answer of a valid report.
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
ANSWER_PATHS = [
    "language",
    "reporter",
    "reporter.role",
    "reporter.anonymous",
    "reporter.name",
    "reporter.email",
    "reporter.phone",
    "categories",
    "description",
    "hurt",
    "hurt.self",
    "hurt.persons",
    "hurt.persons.0",
    "hurt.persons.0.name",
    "hurt.persons.0.group",
    "did_it",
    "did_it.unknown",
    "did_it.persons",
    "did_it.persons.0.group",
    "location",
    "location_note",
    "occurred_on",
    "part_of_day",
    "frequency",
    "told",
    "witnesses",
    "danger_now",
    "extra",
]
ANSWERED = {201, 400, 409, 413, 415, 422, 429}


def fixed_report() -> dict[str, Any]:
    """A valid report with fixed names: Hypothesis examples must not share a Faker."""
    return {
        "language": "en",
        "reporter": {"role": "pupil", "anonymous": True},
        "categories": ["pesten"],
        "description": "Someone took my bag and threw it in the ditch.",
        "hurt": {"self": True, "persons": [{"name": "Noor", "group": "g-5"}]},
        "did_it": {"unknown": False, "persons": [{"name": "Bram", "group": "g-6"}]},
        "location": "onderweg",
        "occurred_on": (amsterdam_today() - timedelta(days=1)).isoformat(),
        "part_of_day": "after_school",
        "frequency": "once",
        "told": ["parent"],
        "danger_now": "no",
    }


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(whole=st.booleans(), path=st.sampled_from(ANSWER_PATHS), value=JSON_VALUES)
def test_no_json_shape_causes_a_server_error(api, unlimited, whole, path, value):
    body = value if whole else with_value(fixed_report(), path, value)

    response = post_report(api, json.dumps(body).encode(), key=new_key())

    assert response.status_code in ANSWERED, response.body
    reply = answer(response)
    if response.status_code == 201:
        stored = report_of_receipt(SCHOOL, reply["receipt_code"])
        assert stored.description == body["description"]
    else:
        assert_bilingual(reply["message"])
