"""The staff web UI: sign-in, the report list and the case page."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import segno
from chalice.app import Blueprint, Response
from markupsafe import Markup

from chalicelib import audit, auth, cases, casework, followup, schools, sessions
from chalicelib.access import (
    COORDINATOR,
    HANDLERS,
    MFA_ROLES,
    PRIVACY_OFFICER,
    READ_ALL,
    REPORT_READERS,
    SCHOOL_ROLES,
    TEACHER,
    StaffContext,
    readable_report,
)
from chalicelib.errors import Conflict, FieldError, NotFound, ValidationFailed
from chalicelib.i18n import both, normalise_language
from chalicelib.models import Pupil, Report, StaffMember
from chalicelib.obs import logger
from chalicelib.privacy import report_of_school
from chalicelib.templating import TEMPLATE_DIR
from chalicelib.web import (
    FORM_TYPES,
    form_data,
    page,
    redirect,
    same_origin,
    staff_view,
)
from chalicelib.weeks import local_today

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


def _public_form() -> tuple[dict[str, str], str, str, bool]:
    """A form posted to a sign-in page: its fields, language, e-mail address
    (lower case) and whether it was posted from our own pages."""
    request = _request()
    form = form_data(request)
    email = form.get("email", "").strip().lower()
    return form, normalise_language(form.get("lang")), email, same_origin(request)


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
    form, language, email, ours = _public_form()
    if not ours:
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
    if result.challenge == "SOFTWARE_TOKEN_MFA":
        return page(
            "staff/mfa_code.html",
            language,
            cookies=[
                sessions.mfa_challenge_cookie(email, result.challenge_session or "")
            ],
        )
    if result.access_token is None:
        return page(
            "staff/login.html", language, status=401, error="credentials", email=email
        )
    return _start_session(email, result, language)


@staff.route("/staff/new-password", methods=["POST"], content_types=FORM_TYPES)
def new_password_submit() -> Response:
    form, language, email, ours = _public_form()
    if not ours:
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
    """A session for the account the tokens belong to. The e-mail a form sent
    is only what the person typed: Cognito's answer says who signed in."""
    identity = auth.verify_access_token(result.access_token or "")
    signed_in = auth.account(result.access_token or "")
    email = signed_in.email
    schools_of_user = memberships(email)
    if not schools_of_user:
        _audit_sign_in(email, "sign_in_without_access")
        return page("staff/login.html", language, status=403, error="no_access")
    if _needs_totp(schools_of_user) and not signed_in.has_totp:
        return _totp_setup_page(email, result, language)
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
@staff_view(staff, roles=SCHOOL_ROLES)
def logout(context: StaffContext) -> Response:
    cookies = sessions.read_cookies(_request().headers)
    auth.sign_out(cookies.get(sessions.ACCESS_COOKIE, ""))
    # Ends this member's sessions everywhere, copies of these cookies included.
    signed_out_at = int(time.time() * 1000)
    context.member.update(actions=[StaffMember.signed_out_at.set(signed_out_at)])
    audit.record(
        audit.school_trail(context.school_id),
        "sign_out",
        context.member.staff_id,
        context.role,
    )
    context.set_cookies = []
    return redirect("/staff/login", sessions.cleared_cookies())


@staff.route("/staff", methods=["GET"])
@staff_view(staff, roles=SCHOOL_ROLES)
def home(context: StaffContext) -> Response:
    if context.roles == {PRIVACY_OFFICER}:
        return redirect("/staff/audit")
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
    audit.record(
        audit.report_trail(context.school_id, report.report_id),
        "view_report",
        context.member.staff_id,
        context.role,
    )
    return _case_page(context, report)


HANDLER_ROLES = sorted(HANDLERS)
STALE_PAGE = both(
    "Someone else changed this case just now. Reload the page and try again."
)


def _case_page(
    context: StaffContext,
    report: Report,
    status: int = 200,
    error: dict[str, str] | None = None,
) -> Response:
    school = schools.get_school(context.school_id)
    events = cases.timeline(report)
    extra: dict[str, Any] = {}
    if context.handles_cases:
        extra["colleagues"] = [
            m
            for m in StaffMember.query(context.school_id)
            if m.active and set(m.roles) & (HANDLERS | {TEACHER})
        ]
        unlinked_groups = {
            person.group
            for person in report.persons
            if person.group and not person.pupil_id
        }
        # One Query per group, however many of the named persons share it.
        extra["roster"] = {
            group: list(Pupil.by_group.query(f"{context.school_id}#{group}"))
            for group in sorted(unlinked_groups)
        }
    return page(
        "staff/reports/detail.html",
        context.language,
        status=status,
        staff=context,
        school=school,
        report=report,
        events=events,
        reads_all=context.reads_all,
        pending=cases.pending_interventions(events),
        close_reasons=casework.CLOSE_REASONS,
        effects=casework.EFFECTS,
        statuses=cases.STATUSES,
        error=error,
        today=local_today().isoformat(),
        **extra,
    )


def _act(
    context: StaffContext,
    report_id: str,
    build: Callable[[Report, dict[str, str]], casework.Change],
) -> Response:
    """Run one case action from a posted form: validate, store, show the case."""
    report = readable_report(context, report_id)
    form = form_data(_request())
    try:
        # The page's forms carry the version they were loaded with: a case changed
        # by a colleague since then is not silently overwritten.
        loaded = form.get("version")
        if loaded is not None and loaded != str(report.version):
            raise Conflict(STALE_PAGE)
        change = build(report, form)
        casework.apply(context, report, change)
    except ValidationFailed as failed:
        first = failed.errors[0]
        return _case_page(
            context,
            report,
            422,
            {"field": first.field, "message": first.message[context.language]},
        )
    except Conflict as conflict:
        return _case_page(
            context,
            report,
            409,
            {"field": "", "message": conflict.message[context.language]},
        )
    return redirect(f"/staff/reports/{report.report_id}#timeline")


@staff.route(
    "/staff/reports/{report_id}/status", methods=["POST"], content_types=FORM_TYPES
)
@staff_view(staff, roles=HANDLER_ROLES)
def case_status(context: StaffContext, report_id: str) -> Response:
    return _act(
        context,
        report_id,
        lambda r, f: casework.set_status(
            r, f.get("status", ""), f.get("reason") or None
        ),
    )


@staff.route(
    "/staff/reports/{report_id}/assign", methods=["POST"], content_types=FORM_TYPES
)
@staff_view(staff, roles=HANDLER_ROLES)
def case_assign(context: StaffContext, report_id: str) -> Response:
    return _act(
        context, report_id, lambda r, f: casework.assign(r, f.get("staff_id", ""))
    )


@staff.route(
    "/staff/reports/{report_id}/notes", methods=["POST"], content_types=FORM_TYPES
)
@staff_view(staff, roles=HANDLER_ROLES)
def case_note(context: StaffContext, report_id: str) -> Response:
    return _act(context, report_id, lambda r, f: casework.note(f.get("text")))


@staff.route(
    "/staff/reports/{report_id}/observations",
    methods=["POST"],
    content_types=FORM_TYPES,
)
@staff_view(staff, roles=sorted(HANDLERS | {TEACHER}))
def case_observation(context: StaffContext, report_id: str) -> Response:
    return _act(context, report_id, lambda r, f: casework.observation(f.get("text")))


@staff.route(
    "/staff/reports/{report_id}/messages", methods=["POST"], content_types=FORM_TYPES
)
@staff_view(staff, roles=HANDLER_ROLES)
def case_message(context: StaffContext, report_id: str) -> Response:
    response = _act(
        context, report_id, lambda r, f: casework.message_to_reporter(f.get("text"))
    )
    if response.status_code == 303:
        report = readable_report(context, report_id)
        followup.alert_reporter(schools.get_school(context.school_id), report)
    return response


@staff.route(
    "/staff/reports/{report_id}/interventions",
    methods=["POST"],
    content_types=FORM_TYPES,
)
@staff_view(staff, roles=HANDLER_ROLES)
def case_intervention(context: StaffContext, report_id: str) -> Response:
    school = schools.get_school(context.school_id)

    def build(report: Report, form: dict[str, str]) -> casework.Change:
        change = casework.intervention(
            school,
            report,
            kind=form.get("kind", ""),
            on=form.get("on", ""),
            follow_up_on=form.get("follow_up_on") or None,
            text=form.get("text"),
        )
        return change

    return _act(context, report_id, build)


@staff.route(
    "/staff/reports/{report_id}/effects", methods=["POST"], content_types=FORM_TYPES
)
@staff_view(staff, roles=HANDLER_ROLES)
def case_effect(context: StaffContext, report_id: str) -> Response:
    def build(report: Report, form: dict[str, str]) -> casework.Change:
        event = cases.event_of(report, form.get("intervention", ""))
        if event is None or event.kind != "intervention":
            raise ValidationFailed(
                [
                    FieldError(
                        "intervention",
                        "invalid",
                        both("Please choose one of the answers shown."),
                    )
                ]
            )
        return casework.effect(report, event, form.get("effect", ""))

    return _act(context, report_id, build)


@staff.route(
    "/staff/reports/{report_id}/pupils", methods=["POST"], content_types=FORM_TYPES
)
@staff_view(staff, roles=HANDLER_ROLES)
def case_link_pupil(context: StaffContext, report_id: str) -> Response:
    def build(report: Report, form: dict[str, str]) -> casework.Change:
        index = form.get("person", "")
        return casework.link_pupil(
            report,
            int(index) if index.isdigit() else -1,
            form.get("pupil_id", "").strip(),
        )

    return _act(context, report_id, build)


@staff.route(
    "/staff/reports/{report_id}/merge", methods=["POST"], content_types=FORM_TYPES
)
@staff_view(staff, roles=HANDLER_ROLES)
def case_merge(context: StaffContext, report_id: str) -> Response:
    def build(report: Report, form: dict[str, str]) -> casework.Change:
        target = _other_report(context, form.get("target", ""), "target")
        return casework.merge_into(report, target)

    return _act(context, report_id, build)


@staff.route(
    "/staff/reports/{report_id}/links", methods=["POST"], content_types=FORM_TYPES
)
@staff_view(staff, roles=HANDLER_ROLES)
def case_link(context: StaffContext, report_id: str) -> Response:
    def build(report: Report, form: dict[str, str]) -> casework.Change:
        return casework.link_case(
            report, _other_report(context, form.get("other", ""), "other")
        )

    return _act(context, report_id, build)


@staff.route(
    "/staff/reports/{report_id}/remove", methods=["POST"], content_types=FORM_TYPES
)
@staff_view(staff, roles=HANDLER_ROLES)
def case_remove(context: StaffContext, report_id: str) -> Response:
    def build(report: Report, form: dict[str, str]) -> casework.Change:
        return casework.remove(report, form.get("reason", ""), cases.timeline(report))

    return _act(context, report_id, build)


@staff.route(
    "/staff/reports/{report_id}/legal-hold", methods=["POST"], content_types=FORM_TYPES
)
@staff_view(staff, roles=[COORDINATOR])
def case_legal_hold(context: StaffContext, report_id: str) -> Response:
    """Set a legal hold with its reason, or lift it: the coordinator only."""

    def build(report: Report, form: dict[str, str]) -> casework.Change:
        if form.get("hold") == "lift":
            return casework.legal_hold(report, None)
        return casework.legal_hold(report, form.get("reason"))

    return _act(context, report_id, build)


def _other_report(context: StaffContext, report_id: str, field_name: str) -> Report:
    try:
        return readable_report(context, report_id.strip())
    except NotFound as missing:
        raise ValidationFailed(
            [
                FieldError(
                    field_name, "invalid", both("There is no report with this number.")
                )
            ]
        ) from missing


@staff.route("/staff/reports/{report_id}/audit", methods=["GET"])
@staff_view(staff, roles=sorted(HANDLERS | {PRIVACY_OFFICER}))
def case_audit(context: StaffContext, report_id: str) -> Response:
    # The data protection officer reads the trail of any report of the school,
    # and nothing of the report but its number.
    if context.handles_cases:
        report = readable_report(context, report_id)
    else:
        report = report_of_school(context, report_id)
    trail = audit.report_trail(context.school_id, report.report_id)
    audit.record(trail, "view_audit", context.member.staff_id, context.role)
    # The trail stores staff ids; a coordinator reads names (one Query per school).
    names = {m.staff_id: m.name for m in StaffMember.query(context.school_id)}
    return page(
        "staff/reports/audit.html",
        context.language,
        staff=context,
        report=report,
        entries=audit.trail_of(trail),
        staff_names=names,
    )


@staff.route("/staff/pupils/{pupil_id}", methods=["GET"])
@staff_view(staff, roles=sorted(READ_ALL))
def pupil_history(context: StaffContext, pupil_id: str) -> Response:
    if len(pupil_id) > casework.MAX_ID:
        raise NotFound(both("This page does not exist."))
    try:
        pupil = Pupil.get(context.school_id, pupil_id)
    except Pupil.DoesNotExist as missing:
        raise NotFound(both("This page does not exist.")) from missing
    history = cases.pupil_history(context.school_id, pupil_id)
    audit.record(
        audit.school_trail(context.school_id),
        "view_pupil_history",
        context.member.staff_id,
        context.role,
        {"pupil_id": pupil_id},
    )
    return page(
        "staff/pupils/history.html",
        context.language,
        staff=context,
        school=schools.get_school(context.school_id),
        pupil=pupil,
        history=history,
    )


@staff.route("/staff/forgot", methods=["GET"])
def forgot_form() -> Response:
    return page("staff/forgot.html", _language())


@staff.route("/staff/forgot", methods=["POST"], content_types=FORM_TYPES)
def forgot_submit() -> Response:
    _, language, email, ours = _public_form()
    if not ours:
        return page("staff/forgot.html", language, status=403)
    # The same answer whether or not the address is known: no account probing.
    auth.start_password_reset(email)
    return page("staff/reset.html", language, email=email)


@staff.route("/staff/reset", methods=["POST"], content_types=FORM_TYPES)
def reset_submit() -> Response:
    form, language, email, ours = _public_form()
    if not ours:
        return page("staff/forgot.html", language, status=403)
    if form.get("password", "") != form.get("password_again", ""):
        return page(
            "staff/reset.html", language, status=422, email=email, error="mismatch"
        )
    try:
        auth.finish_password_reset(
            email, form.get("code", "").strip(), form.get("password", "")
        )
    except auth.AuthError:
        return page(
            "staff/reset.html", language, status=422, email=email, error="rejected"
        )
    return page("staff/login.html", language, email=email, notice="password_changed")


@staff.route("/staff/language", methods=["POST"], content_types=FORM_TYPES)
@staff_view(staff, roles=SCHOOL_ROLES)
def choose_language(context: StaffContext) -> Response:
    """Each staff member reads the UI (and their mails) in their own language."""
    language = normalise_language(form_data(_request()).get("language"))
    context.member.update(actions=[StaffMember.language.set(language)])
    return redirect("/staff/")


# -- Two-step sign-in ---------------------------------------------------------------
# Coordinators, deputies and leadership read every report of their school: they
# sign in with a password and a code from an authenticator app (TOTP). Cognito
# asks for the code once it is set up; until then no session is started, and
# the first sign-in continues with setting up the app.


def _needs_totp(members: list[StaffMember]) -> bool:
    return any(set(m.roles) & MFA_ROLES for m in members)


def _totp_setup_page(
    email: str,
    result: auth.SignInResult,
    language: str,
    *,
    status: int = 200,
    error: str | None = None,
    secret: str | None = None,
) -> Response:
    access_token = result.access_token or ""
    secret = secret or auth.start_totp_setup(access_token)
    uri = auth.totp_uri(email, secret)
    return page(
        "staff/mfa_setup.html",
        language,
        status=status,
        error=error,
        secret=secret,
        # segno's SVG holds only our title and the QR code's modules.
        qr_svg=Markup(  # noqa: S704
            segno.make(uri, error="m").svg_inline(
                scale=5, title=_QR_TITLE.get(language, _QR_TITLE["nl"])
            )
        ),
        cookies=[
            sessions.mfa_setup_cookie(email, access_token, result.refresh_token, secret)
        ],
    )


_QR_TITLE = {
    "nl": "QR-code voor je authenticator-app",
    "en": "QR code for your authenticator app",
}


@staff.route("/staff/mfa-setup", methods=["POST"], content_types=FORM_TYPES)
def mfa_setup_submit() -> Response:
    form, language, _, ours = _public_form()
    pending = sessions.load_mfa_setup(sessions.read_cookies(_request().headers))
    if pending is None or not ours:
        return page("staff/login.html", language, status=403, error="forbidden")
    email, access_token, refresh_token, secret = pending
    result = auth.SignInResult(access_token=access_token, refresh_token=refresh_token)
    try:
        auth.finish_totp_setup(access_token, form.get("code", ""))
    except auth.AuthError:
        return _totp_setup_page(
            email, result, language, status=422, error="code", secret=secret
        )
    _audit_sign_in(email, "two_step_sign_in_set_up")
    return _also_set(
        _start_session(email, result, language), sessions.cleared_mfa_setup()
    )


@staff.route("/staff/mfa", methods=["POST"], content_types=FORM_TYPES)
def mfa_submit() -> Response:
    form, language, _, ours = _public_form()
    waiting = sessions.load_mfa_challenge(sessions.read_cookies(_request().headers))
    if waiting is None or not ours:
        return page("staff/login.html", language, status=403, error="forbidden")
    # Whose sign-in this is comes from the signed cookie, never from the form.
    email, challenge_session = waiting
    try:
        result = auth.answer_totp(email, form.get("code", ""), challenge_session)
    except auth.AuthError:
        _audit_sign_in(email, "sign_in_failed")
        # Cognito's challenge session is used up by a wrong code: start over.
        return page(
            "staff/login.html",
            language,
            status=401,
            error="code",
            email=email,
            cookies=[sessions.cleared_mfa_challenge()],
        )
    return _also_set(
        _start_session(email, result, language), sessions.cleared_mfa_challenge()
    )


def _also_set(response: Response, cookie: str) -> Response:
    """The response with one more Set-Cookie header."""
    cookies = response.headers.get("Set-Cookie") or []
    if isinstance(cookies, str):
        cookies = [cookies]
    response.headers["Set-Cookie"] = [*cookies, cookie]
    return response
