"""The staff web UI: sign-in, the report list and the case page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalice.app import Blueprint, Response

from chalicelib import audit, auth, cases, schools, sessions
from chalicelib.access import READ_ALL, REPORT_READERS, StaffContext, readable_report
from chalicelib.i18n import normalise_language
from chalicelib.models import StaffMember
from chalicelib.obs import logger
from chalicelib.templating import TEMPLATE_DIR
from chalicelib.web import (
    FORM_TYPES,
    form_data,
    page,
    redirect,
    same_origin,
    staff_view,
)

staff = Blueprint(__name__)

STAFF_CSS = (TEMPLATE_DIR / "staff" / "staff.css").read_text(encoding="utf-8")


def _request() -> Any:
    request = staff.current_request
    if request is None:
        raise RuntimeError("no current request")
    return request


def _language() -> str:
    params = _request().query_params or {}
    return normalise_language(params.get("lang"))


def memberships(email: str) -> list[StaffMember]:
    return [m for m in StaffMember.by_email.query(email) if m.active]


@staff.route("/staff/assets/staff.css", methods=["GET"])
def staff_css() -> Response:
    return Response(
        STAFF_CSS,
        headers={
            "Content-Type": "text/css; charset=utf-8",
            "Cache-Control": "max-age=300",
        },
    )


@staff.route("/staff/login", methods=["GET"])
def login_form() -> Response:
    return page("staff/login.html", _language())


@staff.route("/staff/login", methods=["POST"], content_types=FORM_TYPES)
def login_submit() -> Response:
    request = _request()
    form = form_data(request)
    language = normalise_language(form.get("lang"))
    email = form.get("email", "").strip().lower()
    if not same_origin(request):
        return page("staff/login.html", language, status=403, error="forbidden")

    try:
        result = auth.sign_in(email, form.get("password", ""))
    except auth.AuthError:
        _audit_sign_in(email, "sign_in_failed")
        return page(
            "staff/login.html", language, status=401, error="credentials", email=email
        )
    if result.challenge == "NEW_PASSWORD_REQUIRED":
        return page(
            "staff/new_password.html",
            language,
            email=email,
            challenge_session=result.challenge_session,
        )
    if result.access_token is None:
        return page(
            "staff/login.html", language, status=401, error="credentials", email=email
        )
    return _start_session(email, result, language)


@staff.route("/staff/new-password", methods=["POST"], content_types=FORM_TYPES)
def new_password_submit() -> Response:
    request = _request()
    form = form_data(request)
    language = normalise_language(form.get("lang"))
    email = form.get("email", "").strip().lower()
    if not same_origin(request):
        return page("staff/login.html", language, status=403, error="forbidden")
    if form.get("password", "") != form.get("password_again", ""):
        return page(
            "staff/new_password.html",
            language,
            status=422,
            error="mismatch",
            email=email,
            challenge_session=form.get("challenge_session", ""),
        )

    try:
        result = auth.set_new_password(
            email, form.get("password", ""), form.get("challenge_session", "")
        )
    except auth.AuthError:
        return page(
            "staff/new_password.html",
            language,
            status=422,
            error="rejected",
            email=email,
            challenge_session=form.get("challenge_session", ""),
        )
    return _start_session(email, result, language)


def _start_session(email: str, result: auth.SignInResult, language: str) -> Response:
    identity = auth.verify_access_token(result.access_token or "")
    schools_of_user = memberships(email)
    if not schools_of_user:
        _audit_sign_in(email, "sign_in_without_access")
        return page("staff/login.html", language, status=403, error="no_access")
    session = sessions.new_session(email, identity.subject)
    if len(schools_of_user) == 1:
        member = schools_of_user[0]
        session = session.for_school(member.school_id, member.staff_id)
        audit.record(
            audit.school_trail(member.school_id),
            "sign_in",
            member.staff_id,
            _role(member),
        )
        target = "/staff/"
    else:
        target = "/staff/choose-school"
    logger.info("staff signed in", extra={"schools": len(schools_of_user)})
    cookies = sessions.session_cookies(
        session, access_token=result.access_token, refresh_token=result.refresh_token
    )
    return redirect(target, cookies)


def _role(member: StaffMember) -> str:
    roles = [str(r) for r in member.roles]
    return roles[0] if roles else "none"


def _audit_sign_in(email: str, action: str) -> None:
    # Failed sign-ins are recorded with every school the address belongs to; the
    # address itself is not stored, only which staff record it matched.
    for member in StaffMember.by_email.query(email):
        audit.record(
            audit.school_trail(member.school_id), action, member.staff_id, None
        )


@staff.route("/staff/choose-school", methods=["GET"])
def choose_school_form() -> Response:
    session = sessions.load_session(sessions.read_cookies(_request().headers))
    if session is None:
        return redirect("/staff/login")
    options = [
        (m.school_id, schools.get_school(m.school_id).name)
        for m in memberships(session.email)
    ]
    return page("staff/choose_school.html", "nl", options=options, csrf=session.csrf)


@staff.route("/staff/choose-school", methods=["POST"], content_types=FORM_TYPES)
def choose_school_submit() -> Response:
    request = _request()
    session = sessions.load_session(sessions.read_cookies(request.headers))
    form = form_data(request)
    if session is None or not same_origin(request):
        return redirect("/staff/login")
    if not sessions.csrf_valid(session, form.get("csrf_token")):
        return redirect("/staff/login", sessions.cleared_cookies())
    chosen = [
        m for m in memberships(session.email) if m.school_id == form.get("school_id")
    ]
    if not chosen:
        return redirect("/staff/choose-school")
    member = chosen[0]
    audit.record(
        audit.school_trail(member.school_id), "sign_in", member.staff_id, _role(member)
    )
    return redirect(
        "/staff/",
        sessions.session_cookies(session.for_school(member.school_id, member.staff_id)),
    )


@staff.route("/staff/logout", methods=["POST"], content_types=FORM_TYPES)
@staff_view(
    staff, roles=("teacher", "coordinator", "deputy", "leadership", "administrator")
)
def logout(context: StaffContext) -> Response:
    cookies = sessions.read_cookies(_request().headers)
    auth.sign_out(cookies.get(sessions.ACCESS_COOKIE, ""))
    audit.record(
        audit.school_trail(context.school_id),
        "sign_out",
        context.member.staff_id,
        context.role,
    )
    context.set_cookies = []
    return redirect("/staff/login", sessions.cleared_cookies())


@staff.route("/staff", methods=["GET"])
@staff_view(
    staff, roles=("teacher", "coordinator", "deputy", "leadership", "administrator")
)
def home(context: StaffContext) -> Response:
    if not context.roles & REPORT_READERS:
        return page("staff/admin_home.html", context.language, staff=context)
    params = dict(_request().query_params or {})
    filters = cases.ListFilter.from_query(params)
    result = cases.list_reports(context, filters)
    school = schools.get_school(context.school_id)
    return page(
        "staff/reports/list.html",
        context.language,
        staff=context,
        school=school,
        page_result=result,
        statuses=cases.STATUSES,
        query_without_before=urlencode(
            {k: v for k, v in params.items() if k != "before"}
        ),
    )


@staff.route("/staff/reports/{report_id}", methods=["GET"])
@staff_view(staff, roles=sorted(REPORT_READERS))
def report_detail(context: StaffContext, report_id: str) -> Response:
    report = readable_report(context, report_id)
    events = cases.timeline(report)
    audit.record(
        audit.report_trail(context.school_id, report.report_id),
        "view_report",
        context.member.staff_id,
        context.role,
    )
    school = schools.get_school(context.school_id)
    return page(
        "staff/reports/detail.html",
        context.language,
        staff=context,
        school=school,
        report=report,
        events=events,
        reads_all=bool(context.roles & READ_ALL),
    )
