"""Staff pages of the accountability report: a preview and its CSV and PDF files.

Coordinators, deputies and leadership only: the report covers the whole school.
Every download is written to the school's audit trail; the preview is not, as it
leaves nothing behind.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalice.app import Blueprint, Response

from chalicelib import accountability, accountability_files, audit, schools
from chalicelib.access import READ_ALL, StaffContext
from chalicelib.obs import logger
from chalicelib.web import page, staff_view
from chalicelib.weeks import local_today

accountability_pages = Blueprint(__name__)

ACCOUNTABILITY_ROLES = sorted(READ_ALL)
PDF_TYPE = "application/pdf"
CSV_TYPE = "text/csv; charset=utf-8"
FILE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def _params() -> dict[str, str]:
    request: Any = accountability_pages.current_request
    if request is None:
        raise RuntimeError("no current request")
    return dict(request.query_params or {})


def _figures(context: StaffContext) -> accountability.Figures:
    school = schools.get_school(context.school_id)
    chosen = accountability.period_from_query(_params(), local_today())
    return accountability.build(school, chosen, context.language)


@accountability_pages.route("/staff/insights/accountability", methods=["GET"])
@staff_view(accountability_pages, roles=ACCOUNTABILITY_ROLES)
def accountability_page(context: StaffContext) -> Response:
    figures = _figures(context)

    logger.info(
        "accountability report shown",
        extra={"school": context.school_id, "weeks": len(figures.period.weeks)},
    )
    return page(
        "staff/insights/accountability.html",
        context.language,
        staff=context,
        figures=figures,
        school_years=accountability.school_years(local_today()),
        query=_query(figures.period),
        legend=accountability_files.LEGEND,
        withheld_text=accountability_files.WITHHELD,
    )


@accountability_pages.route("/staff/insights/accountability.csv", methods=["GET"])
@staff_view(accountability_pages, roles=ACCOUNTABILITY_ROLES)
def accountability_csv(context: StaffContext) -> Response:
    figures = _figures(context)
    body = accountability_files.csv_text(figures, local_today())
    return _download(context, figures, "csv", CSV_TYPE, body)


@accountability_pages.route("/staff/insights/accountability.pdf", methods=["GET"])
@staff_view(accountability_pages, roles=ACCOUNTABILITY_ROLES)
def accountability_pdf(context: StaffContext) -> Response:
    figures = _figures(context)
    body = accountability_files.pdf_bytes(figures, local_today())
    return _download(context, figures, "pdf", PDF_TYPE, body)


def _download(
    context: StaffContext,
    figures: accountability.Figures,
    kind: str,
    content_type: str,
    body: str | bytes,
) -> Response:
    """The file as an attachment, after its audit entry is stored.

    Text goes out as a str (API Gateway sends it as UTF-8); the PDF as bytes,
    which Chalice base64-encodes because application/pdf is a binary type.

    The entry holds the period and the format, nothing of the figures: they can
    be made again from the counters at any time.
    """
    chosen = figures.period
    audit.record(
        audit.school_trail(context.school_id),
        "accountability_export",
        context.member.staff_id,
        context.role,
        {"format": kind, "period": chosen.name, "weeks": len(chosen.weeks)},
    )
    logger.info(
        "accountability report exported",
        extra={"school": context.school_id, "format": kind},
    )
    # The school id is a slug and the period name digits and dashes: the file
    # name needs no quoting beyond the quotes around it.
    name = f"verantwoording-{context.school_id}-{chosen.name}.{kind}"
    headers: dict[str, str | list[str]] = {
        **FILE_HEADERS,
        "Content-Type": content_type,
        "Content-Disposition": f'attachment; filename="{name}"',
    }
    return Response(body=body, status_code=200, headers=headers)


def _query(chosen: accountability.Period) -> str:
    """The query string that asks for this period again, for the download links."""
    if chosen.school_year:
        return urlencode({"year": chosen.school_year})
    return urlencode(
        {"from": chosen.first_day.isoformat(), "to": chosen.last_day.isoformat()}
    )
