"""Staff pages for a pupil's AVG rights: the subject-access export and erasure.

The coordinator only: both cover every report about the pupil, and erasure
cannot be undone. Each is written to the school's audit trail with ids only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from chalice.app import Blueprint, Response

from chalicelib import audit, privacy
from chalicelib.access import COORDINATOR, PRIVACY_OFFICER, StaffContext
from chalicelib.models import StaffMember
from chalicelib.web import FORM_TYPES, form_data, page, redirect, staff_view

privacy_pages = Blueprint(__name__)

PRIVACY_ROLES = [COORDINATOR]
# The school's own trail (sign-ins, exports, erasures, retention): ids only.
SCHOOL_TRAIL_ROLES = [COORDINATOR, PRIVACY_OFFICER]
JSON_TYPE = "application/json; charset=utf-8"


def _request() -> Any:
    request = privacy_pages.current_request
    if request is None:
        raise RuntimeError("no current request")
    return request


@privacy_pages.route("/staff/pupils/{pupil_id}/export", methods=["GET"])
@staff_view(privacy_pages, roles=PRIVACY_ROLES)
def pupil_export(context: StaffContext, pupil_id: str) -> Response:
    data = privacy.export(context, pupil_id)
    name = f"inzage-{data['pupil']['pupil_number']}.json"
    return Response(
        privacy.export_json(data),
        headers={
            "Content-Type": JSON_TYPE,
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@privacy_pages.route(
    "/staff/pupils/{pupil_id}/erase",
    methods=["POST"],
    content_types=FORM_TYPES,
)
@staff_view(privacy_pages, roles=PRIVACY_ROLES)
def pupil_erase(context: StaffContext, pupil_id: str) -> Response:
    confirmed = form_data(_request()).get("confirm") == "yes"
    pupil = privacy.find_pupil(context.school_id, pupil_id)
    if confirmed:
        privacy.erase(context, pupil.pupil_id)
    # The pupil's page shows the outcome: the cases a legal hold kept, if any.
    return redirect(f"/staff/pupils/{quote(str(pupil.pupil_id))}#privacy")


@privacy_pages.route("/staff/audit", methods=["GET"])
@staff_view(privacy_pages, roles=SCHOOL_TRAIL_ROLES)
def school_audit(context: StaffContext) -> Response:
    trail = audit.school_trail(context.school_id)
    audit.record(trail, "view_audit", context.member.staff_id, context.role)
    names = {m.staff_id: m.name for m in StaffMember.query(context.school_id)}
    return page(
        "staff/audit/school.html",
        context.language,
        staff=context,
        entries=audit.trail_of(trail),
        staff_names=names,
    )
