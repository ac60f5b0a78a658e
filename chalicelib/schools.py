"""Schools and the public configuration their report form needs."""

from __future__ import annotations

from typing import Any

from chalicelib.errors import NotFound
from chalicelib.i18n import both
from chalicelib.models import School, StaffMember


def get_school(school_id: str) -> School:
    """An active school by slug; unknown and inactive schools are both 'not found'."""
    if not school_id or len(school_id) > 64:
        raise NotFound(both("This school is not known."))
    try:
        school = School.get(school_id)
    except School.DoesNotExist as error:
        raise NotFound(both("This school is not known.")) from error
    if not school.active:
        raise NotFound(both("This school is not known."))
    return school


def form_config(school: School) -> dict[str, Any]:
    """What the public form shows: no staff, no report data."""
    return {
        "school": {"id": school.school_id, "name": school.name, "kind": school.kind},
        "languages": list(school.languages),
        "groups": [{"id": g.id, "name": g.name} for g in school.groups],
        "locations": [
            {"id": p.id, "label": {"nl": p.label.nl, "en": p.label.en}}
            for p in school.locations
        ],
        "categories": [
            {"id": c.id, "label": {"nl": c.label.nl, "en": c.label.en}}
            for c in school.categories
        ],
        "quick_exit_url": school.quick_exit_url,
    }


def coordinators(school_id: str) -> list[StaffMember]:
    """The coordinator(s) and their deputies: who is alerted of urgent reports."""
    # A school has tens of staff members: one Query on its partition, filtered.
    return [
        member
        for member in StaffMember.query(school_id)
        if member.active and {"coordinator", "deputy"} & set(member.roles)
    ]
