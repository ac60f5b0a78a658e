"""Validation of a submitted report against the school's configuration.

Free text is stored exactly as typed or refused with a message: nothing is
trimmed, normalised or silently dropped, except contact details of a reporter who
chose to stay anonymous, which are never stored.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from chalicelib.errors import FieldError, ValidationFailed
from chalicelib.i18n import both
from chalicelib.models import School
from chalicelib.weeks import local_today

# Limits in characters; they bound item size and keep answers short and readable.
MAX_NAME = 100
MAX_DESCRIPTION = 4000
MAX_NOTE = 300
MAX_WITNESSES = 1000
MAX_PERSONS = 10
# Older events can be reported, but not from before any plausible school career.
MAX_AGE_DAYS = 3 * 366

REPORTER_ROLES = ("pupil", "parent", "staff", "other")
PARTS_OF_DAY = (
    "before_school",
    "morning",
    "break",
    "lunch",
    "afternoon",
    "after_school",
    "evening",
    "unknown",
)
FREQUENCIES = ("once", "several", "ongoing")
TOLD = ("teacher", "parent", "friend", "other_adult", "nobody")
DANGER = ("yes", "no", "unsure")
LANGUAGES = ("nl", "en")
TOP_LEVEL = {
    "language",
    "reporter",
    "categories",
    "description",
    "hurt",
    "did_it",
    "location",
    "location_note",
    "occurred_on",
    "part_of_day",
    "frequency",
    "told",
    "witnesses",
    "danger_now",
}

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{16,100}")
_ALLOWED_IN_MULTILINE = {"\n", "\r", "\t"}


@dataclass
class _Checker:
    errors: list[FieldError]

    def fail(self, field: str, code: str, msgid: str, **values: object) -> None:
        self.errors.append(FieldError(field, code, both(msgid, **values)))

    def text(
        self,
        data: dict[str, Any],
        key: str,
        field: str,
        *,
        limit: int,
        required: bool,
        multiline: bool = False,
    ) -> str | None:
        value = data.get(key)
        # Blank text answers a required question with nothing; in an optional one
        # it is kept as typed, like any other text.
        blank = isinstance(value, str) and not value.strip()
        if value is None or value == "" or (blank and required):
            if required:
                self.fail(field, "required", "Please fill this in.")
            return None
        if not isinstance(value, str):
            self.fail(field, "type", "Please type text here.")
            return None
        if len(value) > limit:
            self.fail(
                field, "too_long", "Please use at most {limit} characters.", limit=limit
            )
            return None
        if not _storable(value, multiline):
            self.fail(
                field,
                "characters",
                "This contains characters we cannot store. Please leave them out.",
            )
            return None
        return value

    def choice(
        self,
        data: dict[str, Any],
        key: str,
        field: str,
        allowed: tuple[str, ...] | set[str],
    ) -> str | None:
        value = data.get(key)
        if value is None or value == "":
            self.fail(field, "required", "Please choose an answer.")
            return None
        if not isinstance(value, str) or value not in allowed:
            self.fail(
                field, "invalid_choice", "Please choose one of the answers shown."
            )
            return None
        return value

    def choices(
        self,
        data: dict[str, Any],
        key: str,
        field: str,
        allowed: tuple[str, ...] | set[str],
    ) -> list[str]:
        value = data.get(key)
        if not value:
            self.fail(field, "required", "Please choose at least one answer.")
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(
                field, "invalid_choice", "Please choose one of the answers shown."
            )
            return []
        if any(v not in allowed for v in value) or len(set(value)) != len(value):
            self.fail(
                field, "invalid_choice", "Please choose one of the answers shown."
            )
            return []
        return value

    def boolean(self, data: dict[str, Any], key: str, field: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.fail(field, "type", "Please choose yes or no.")
            return False
        return value

    def section(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(key, "type", "This answer has the wrong form.")
            return {}
        return value


def _storable(value: str, multiline: bool) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot be stored as UTF-8
        return False
    for ch in value:
        if unicodedata.category(ch) == "Cc" and not (
            multiline and ch in _ALLOWED_IN_MULTILINE
        ):
            return False
    return True


def validate_idempotency_key(value: str | None) -> str:
    if not value or not IDEMPOTENCY_KEY.fullmatch(value):
        raise ValidationFailed(
            [
                FieldError(
                    "idempotency_key",
                    "invalid",
                    both("The form could not be sent safely. Please reload the page."),
                )
            ]
        )
    return value


def validate_report(payload: Any, school: School) -> dict[str, Any]:
    """Check every field; return the normalised report or raise ValidationFailed."""
    check = _Checker([])
    if not isinstance(payload, dict):
        check.fail("", "type", "This answer has the wrong form.")
        raise ValidationFailed(check.errors)
    for unknown in sorted(set(payload) - TOP_LEVEL):
        check.fail(
            unknown[:50], "unknown_field", "This question is not part of the form."
        )

    report: dict[str, Any] = {
        "language": check.choice(payload, "language", "language", LANGUAGES) or "nl"
    }
    report.update(_reporter(check, check.section(payload, "reporter")))
    report.update(_what(check, payload, school))
    report.update(_people(check, payload, school))
    report.update(_where_when(check, payload, school))
    report.update(_told(check, payload))

    if check.errors:
        raise ValidationFailed(check.errors)
    return report


def _reporter(check: _Checker, data: dict[str, Any]) -> dict[str, Any]:
    role = check.choice(data, "role", "reporter.role", REPORTER_ROLES)
    anonymous = check.boolean(data, "anonymous", "reporter.anonymous")
    if anonymous:
        return {"reporter_role": role, "anonymous": True, "contact": None}

    name = check.text(data, "name", "reporter.name", limit=MAX_NAME, required=True)
    email = check.text(data, "email", "reporter.email", limit=254, required=False)
    phone = check.text(data, "phone", "reporter.phone", limit=30, required=False)
    if email is not None:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            check.fail(
                "reporter.email", "invalid_email", "This is not a valid e-mail address."
            )
    if phone is not None and not _valid_phone(phone):
        check.fail(
            "reporter.phone", "invalid_phone", "This is not a valid phone number."
        )
    if email is None and phone is None:
        check.fail(
            "reporter.email",
            "contact_required",
            "Give an e-mail address or phone number, or choose to stay anonymous.",
        )
    contact = {"name": name, "email": email, "phone": phone}
    return {"reporter_role": role, "anonymous": False, "contact": contact}


def _valid_phone(value: str) -> bool:
    try:
        number = phonenumbers.parse(value, "NL")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


def _what(check: _Checker, payload: dict[str, Any], school: School) -> dict[str, Any]:
    allowed = {c.id for c in school.categories}
    return {
        "categories": check.choices(payload, "categories", "categories", allowed),
        "description": check.text(
            payload,
            "description",
            "description",
            limit=MAX_DESCRIPTION,
            required=True,
            multiline=True,
        ),
    }


def _people(check: _Checker, payload: dict[str, Any], school: School) -> dict[str, Any]:
    groups = {g.id for g in school.groups}
    hurt = check.section(payload, "hurt")
    did_it = check.section(payload, "did_it")
    hurt_self = check.boolean(hurt, "self", "hurt.self")
    unknown = check.boolean(did_it, "unknown", "did_it.unknown")
    persons = _persons(check, hurt, "hurt", groups) + _persons(
        check, did_it, "did_it", groups
    )
    if not hurt_self and not any(p["role"] == "hurt" for p in persons):
        check.fail("hurt", "required", "Choose 'me' or write who it happened to.")
    if not unknown and not any(p["role"] == "did_it" for p in persons):
        check.fail("did_it", "required", "Write who did it, or choose 'I don't know'.")
    return {
        "hurt_self": hurt_self,
        "did_it_unknown": unknown,
        "persons": persons,
        "groups": sorted({p["group"] for p in persons if p["group"]}),
    }


def _persons(
    check: _Checker, section: dict[str, Any], role: str, groups: set[str]
) -> list[dict[str, Any]]:
    raw = section.get("persons") or []
    if not isinstance(raw, list):
        check.fail(f"{role}.persons", "type", "This answer has the wrong form.")
        return []
    if len(raw) > MAX_PERSONS:
        check.fail(
            f"{role}.persons",
            "too_many",
            "Please name at most {limit} people.",
            limit=MAX_PERSONS,
        )
        return []
    persons = []
    for index, item in enumerate(raw):
        field = f"{role}.persons.{index}"
        if not isinstance(item, dict):
            check.fail(field, "type", "This answer has the wrong form.")
            continue
        name = check.text(item, "name", f"{field}.name", limit=MAX_NAME, required=True)
        group = item.get("group") or None
        if group is not None and (not isinstance(group, str) or group not in groups):
            check.fail(
                f"{field}.group",
                "invalid_choice",
                "Please choose one of the answers shown.",
            )
            group = None
        if name is not None:
            persons.append({"role": role, "name": name, "group": group})
    return persons


def _where_when(
    check: _Checker, payload: dict[str, Any], school: School
) -> dict[str, Any]:
    places = {p.id for p in school.locations}
    return {
        "location": check.choice(payload, "location", "location", places),
        "location_note": check.text(
            payload, "location_note", "location_note", limit=MAX_NOTE, required=False
        ),
        "occurred_on": _occurred_on(check, payload.get("occurred_on")),
        "part_of_day": check.choice(
            payload, "part_of_day", "part_of_day", PARTS_OF_DAY
        ),
        "frequency": check.choice(payload, "frequency", "frequency", FREQUENCIES),
    }


def _occurred_on(check: _Checker, value: Any) -> str | None:
    if not value:
        check.fail("occurred_on", "required", "Please fill in a date.")
        return None
    try:
        day = (
            date.fromisoformat(value)
            if isinstance(value, str) and len(value) == 10
            else None
        )
    except ValueError:
        day = None
    if day is None:
        check.fail("occurred_on", "invalid_date", "This is not a valid date.")
        return None
    today = local_today()
    if day > today:
        check.fail("occurred_on", "future_date", "This date is in the future.")
        return None
    if day < today - timedelta(days=MAX_AGE_DAYS):
        check.fail("occurred_on", "too_old", "This date is too long ago.")
        return None
    return day.isoformat()


def _told(check: _Checker, payload: dict[str, Any]) -> dict[str, Any]:
    told = payload.get("told") or []
    if told == []:
        check.fail("told", "required", "Please choose at least one answer.")
    valid = (
        isinstance(told, list)
        and all(isinstance(t, str) and t in TOLD for t in told)
        and len(set(told)) == len(told)
        and not ("nobody" in told and len(told) > 1)
    )
    if not valid:
        check.fail("told", "invalid_choice", "Please choose one of the answers shown.")
        told = []
    return {
        "told": told,
        "witnesses": check.text(
            payload,
            "witnesses",
            "witnesses",
            limit=MAX_WITNESSES,
            required=False,
            multiline=True,
        ),
        "danger_now": check.choice(payload, "danger_now", "danger_now", DANGER),
    }
