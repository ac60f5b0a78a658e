"""The class round page: one group's printable sheet for the four-weekly round.

Coordinators, deputies and leadership only, for any group of their school. The
sheet shows no report texts and nothing of reporters, but it names pupils with
repeat involvement: showing it is written to the school's audit trail.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib import audit, class_round, schools
from chalicelib.access import READ_ALL, StaffContext
from chalicelib.obs import logger
from chalicelib.web import page, staff_view
from chalicelib.weeks import local_today

class_round_pages = Blueprint(__name__)

CLASS_ROUND_ROLES = sorted(READ_ALL)


def _params() -> dict[str, str]:
    request: Any = class_round_pages.current_request
    if request is None:
        raise RuntimeError("no current request")
    return dict(request.query_params or {})


@class_round_pages.route("/staff/insights/class-round", methods=["GET"])
@staff_view(class_round_pages, roles=CLASS_ROUND_ROLES)
def class_round_page(context: StaffContext) -> Response:
    params = _params()
    school = schools.get_school(context.school_id)
    today = local_today()
    since = class_round.since_from_query(params.get("since"), today)
    if not params.get("group"):
        # The chooser: the school's groups, keeping a date asked for.
        return page(
            "staff/insights/class_round.html",
            context.language,
            staff=context,
            school=school,
            sheet=None,
            since=since if params.get("since") else None,
        )

    group = class_round.group_of(school, params["group"])
    result = class_round.build(school, group, since, today)

    audit.record(
        audit.school_trail(context.school_id),
        "class_round",
        context.member.staff_id,
        context.role,
        {"group": group.id, "since": since.isoformat()},
    )
    logger.info(
        "class round shown",
        extra={"school": context.school_id, "group": group.id},
    )
    return page(
        "staff/insights/class_round.html",
        context.language,
        staff=context,
        school=school,
        sheet=result,
        old_weeks=class_round.OLD_CASE_WEEKS,
    )
