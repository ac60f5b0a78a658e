"""Staff pages for a pupil's AVG rights: the subject-access export and erasure.

The coordinator only: both cover every report about the pupil, and erasure
cannot be undone. Each is written to the school's audit trail with ids only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from chalice.app import Blueprint, Response

from chalicelib import privacy
from chalicelib.access import COORDINATOR, StaffContext
from chalicelib.web import FORM_TYPES, form_data, redirect, staff_view

privacy_pages = Blueprint(__name__)

PRIVACY_ROLES = [COORDINATOR]
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
