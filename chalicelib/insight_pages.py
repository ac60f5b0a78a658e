"""Staff pages with pattern overviews, read from the weekly counters only."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib import insights, schools
from chalicelib.access import REPORT_READERS, StaffContext
from chalicelib.obs import logger
from chalicelib.web import page, staff_view
from chalicelib.weeks import local_today

insight_pages = Blueprint(__name__)

# Teachers are admitted too; insights.readable_scopes limits them to their groups.
INSIGHT_ROLES = sorted(REPORT_READERS)


def _params() -> dict[str, str]:
    request: Any = insight_pages.current_request
    if request is None:
        raise RuntimeError("no current request")
    return dict(request.query_params or {})


@insight_pages.route("/staff/insights", methods=["GET"])
@staff_view(insight_pages, roles=INSIGHT_ROLES)
def insights_overview(context: StaffContext) -> Response:
    params = _params()
    school = schools.get_school(context.school_id)
    chosen = insights.period_from_query(params, local_today())

    result = insights.overview(context, school, chosen, params.get("group") or None)

    logger.info(
        "insights shown",
        extra={"school": context.school_id, "weeks": len(chosen.weeks)},
    )
    return page(
        "staff/insights/overview.html",
        context.language,
        staff=context,
        school=school,
        insight=result,
        groups=_group_choices(context, school),
        min_reports=insights.HOTSPOT_MIN_REPORTS,
        factor=insights.HOTSPOT_FACTOR,
    )


def _group_choices(context: StaffContext, school: Any) -> list[Any]:
    """The groups the filter offers: the school's, or a teacher's own."""
    if context.reads_all:
        return list(school.groups)
    own = set(context.member.groups)
    return [g for g in school.groups if g.id in own]
