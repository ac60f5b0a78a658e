"""Staff pages with pattern overviews, read from the weekly counters only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib import audit, casefigures, dashboard, insights, schools
from chalicelib.access import READ_ALL, REPORT_READERS, StaffContext
from chalicelib.casework import EFFECTS
from chalicelib.models import School
from chalicelib.obs import logger
from chalicelib.web import page, staff_view
from chalicelib.weeks import local_today

insight_pages = Blueprint(__name__)

# Teachers are admitted too; insights.readable_scopes limits them to their groups.
INSIGHT_ROLES = sorted(REPORT_READERS)
DASHBOARD_ROLES = sorted(READ_ALL)
# Query parameters for repeat involvement are bounded like the school settings.
MAX_WINDOW_WEEKS = 26
MAX_THRESHOLD = 20
# Longer numbers are not read at all (the default applies); shorter ones are
# brought within the bounds.
MAX_NUMBER_CHARS = 6


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


def _bounded(text: str | None, low: int, high: int) -> int | None:
    """A small whole number from the query string, or None when unreadable."""
    if not text or len(text) > MAX_NUMBER_CHARS or not text.isdigit():
        return None
    return min(max(int(text), low), high)


@insight_pages.route("/staff/insights/pupils", methods=["GET"])
@staff_view(insight_pages, roles=INSIGHT_ROLES)
def insights_pupils(context: StaffContext) -> Response:
    params = _params()
    school = schools.get_school(context.school_id)
    result = casefigures.repeat_involvement(
        context,
        school,
        local_today(),
        group=params.get("group") or None,
        window_weeks=_bounded(params.get("weeks"), 1, MAX_WINDOW_WEEKS),
        threshold=_bounded(params.get("threshold"), 2, MAX_THRESHOLD),
    )
    # The page names pupils: reading it is audited like reading a report.
    audit.record(
        audit.school_trail(context.school_id),
        "repeat_involvement_viewed",
        context.member.staff_id,
        context.role,
        {"pupils": len(result.pupils), "weeks": result.window_weeks},
    )
    return page(
        "staff/insights/pupils.html",
        context.language,
        staff=context,
        school=school,
        result=result,
        group=params.get("group") or "",
        groups=_group_choices(context, school),
    )


def _period_page(
    context: StaffContext,
    template: str,
    figures: Callable[[StaffContext, School, insights.Period, date], Any],
) -> Response:
    """A page of figures for the period in the query string."""
    school = schools.get_school(context.school_id)
    today = local_today()
    chosen = insights.period_from_query(_params(), today)
    return page(
        template,
        context.language,
        staff=context,
        school=school,
        period=chosen,
        result=figures(context, school, chosen, today),
        effects=EFFECTS,
    )


@insight_pages.route("/staff/insights/interventions", methods=["GET"])
@staff_view(insight_pages, roles=INSIGHT_ROLES)
def insights_interventions(context: StaffContext) -> Response:
    return _period_page(
        context,
        "staff/insights/interventions.html",
        casefigures.intervention_effects,
    )


@insight_pages.route("/staff/insights/cases", methods=["GET"])
@staff_view(insight_pages, roles=INSIGHT_ROLES)
def insights_cases(context: StaffContext) -> Response:
    return _period_page(context, "staff/insights/cases.html", casefigures.handling)


@insight_pages.route("/staff/dashboard", methods=["GET"])
@staff_view(insight_pages, roles=DASHBOARD_ROLES)
def leadership_dashboard(context: StaffContext) -> Response:
    school = schools.get_school(context.school_id)
    result = dashboard.dashboard(context, school, local_today())
    logger.info("dashboard shown", extra={"school": context.school_id})
    return page(
        "staff/insights/dashboard.html",
        context.language,
        staff=context,
        school=school,
        board=result,
        effects=EFFECTS,
    )
