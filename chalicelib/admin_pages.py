"""The school administrator's pages: staff accounts and the roster import.

Administrators manage accounts and the roster and never see report contents:
these pages read staff items, pupils' numbers and counts, nothing of a report.
Every action is on the administrator's own school (the session's), so a staff
id of another school is simply not found.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib import rollover, roster, schools, staff_admin
from chalicelib.access import ADMINISTRATOR, SCHOOL_ROLES, StaffContext
from chalicelib.config import APP_ROOT
from chalicelib.errors import BadRequest, Conflict, ValidationFailed
from chalicelib.i18n import both
from chalicelib.models import School
from chalicelib.web import (
    FORM_TYPES,
    UPLOAD_TYPES,
    form_data,
    form_lists,
    page,
    redirect,
    staff_view,
    upload_data,
)
from chalicelib.weeks import local_today

admin_pages = Blueprint(__name__)

ADMIN_ROLES = (ADMINISTRATOR,)
# Continues a roster import chunk after chunk; loaded from our own origin, so
# the staff pages' CSP (script-src 'self') admits it. Without it each chunk has
# a Continue button.
ROSTER_JS = (APP_ROOT / "templates" / "staff" / "admin" / "roster.js").read_text(
    encoding="utf-8"
)
NOTICES = frozenset(
    {"invited", "invited_unmailed", "changed", "resent", "active", "mail_fixed"}
)


def _request() -> Any:
    request = admin_pages.current_request
    if request is None:
        raise RuntimeError("no current request")
    return request


@admin_pages.route("/staff/assets/roster.js", methods=["GET"])
def roster_js() -> Response:
    return Response(
        ROSTER_JS,
        headers={
            "Content-Type": "text/javascript; charset=utf-8",
            "Cache-Control": "max-age=300",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _staff_page(
    context: StaffContext,
    school: School,
    status: int = 200,
    error: str | None = None,
    entered: dict[str, Any] | None = None,
) -> Response:
    params = _request().query_params or {}
    notice = params.get("done")
    return page(
        "staff/admin/staff.html",
        context.language,
        status=status,
        staff=context,
        school=school,
        members=staff_admin.staff_of(context.school_id),
        roles=SCHOOL_ROLES,
        notice=notice if notice in NOTICES else None,
        error=error,
        entered=entered or {},
    )


@admin_pages.route("/staff/admin/staff", methods=["GET"])
@staff_view(admin_pages, roles=ADMIN_ROLES)
def admin_staff(context: StaffContext) -> Response:
    return _staff_page(context, schools.get_school(context.school_id))


@admin_pages.route("/staff/admin/staff", methods=["POST"], content_types=FORM_TYPES)
@staff_view(admin_pages, roles=ADMIN_ROLES)
def admin_staff_invite(context: StaffContext) -> Response:
    school = schools.get_school(context.school_id)
    form, lists = form_data(_request()), form_lists(_request())
    try:
        invitation = staff_admin.invite(
            school,
            form.get("email", ""),
            form.get("name", ""),
            lists.get("roles", []),
            lists.get("groups", []),
            language=form.get("language", "nl"),
            actor=context.member.staff_id,
            actor_role=context.role,
        )
    except (ValidationFailed, Conflict) as refused:
        entered = {**form, "roles": lists.get("roles", [])}
        entered["groups"] = lists.get("groups", [])
        return _staff_page(
            context, school, 422, _message(context, refused), entered=entered
        )
    done = "invited" if invitation.mailed else "invited_unmailed"
    return redirect(f"/staff/admin/staff?done={done}")


def _message(context: StaffContext, error: ValidationFailed | Conflict) -> str:
    if isinstance(error, ValidationFailed) and error.errors:
        return error.errors[0].message[context.language]
    return error.message[context.language]


@admin_pages.route(
    "/staff/admin/staff/{staff_id}", methods=["POST"], content_types=FORM_TYPES
)
@staff_view(admin_pages, roles=ADMIN_ROLES)
def admin_staff_change(context: StaffContext, staff_id: str) -> Response:
    school = schools.get_school(context.school_id)
    lists = form_lists(_request())
    try:
        staff_admin.change(
            school,
            staff_id,
            lists.get("roles", []),
            lists.get("groups", []),
            actor=context.member.staff_id,
            actor_role=context.role,
        )
    except ValidationFailed as refused:
        return _staff_page(context, school, 422, _message(context, refused))
    return redirect("/staff/admin/staff?done=changed")


@admin_pages.route(
    "/staff/admin/staff/{staff_id}/active", methods=["POST"], content_types=FORM_TYPES
)
@staff_view(admin_pages, roles=ADMIN_ROLES)
def admin_staff_active(context: StaffContext, staff_id: str) -> Response:
    active = form_data(_request()).get("active") == "1"
    try:
        staff_admin.set_active(
            context.school_id,
            staff_id,
            active,
            actor=context.member.staff_id,
            actor_role=context.role,
        )
    except ValidationFailed as refused:
        school = schools.get_school(context.school_id)
        return _staff_page(context, school, 422, _message(context, refused))
    return redirect("/staff/admin/staff?done=active")


@admin_pages.route(
    "/staff/admin/staff/{staff_id}/invitation",
    methods=["POST"],
    content_types=FORM_TYPES,
)
@staff_view(admin_pages, roles=ADMIN_ROLES)
def admin_staff_resend(context: StaffContext, staff_id: str) -> Response:
    school = schools.get_school(context.school_id)
    try:
        mailed = staff_admin.resend_invitation(
            school, staff_id, actor=context.member.staff_id, actor_role=context.role
        )
    except Conflict as refused:
        return _staff_page(context, school, 409, _message(context, refused))
    return redirect(
        f"/staff/admin/staff?done={'resent' if mailed else 'invited_unmailed'}"
    )


@admin_pages.route(
    "/staff/admin/staff/{staff_id}/mail-problem",
    methods=["POST"],
    content_types=FORM_TYPES,
)
@staff_view(admin_pages, roles=ADMIN_ROLES)
def admin_staff_mail_fixed(context: StaffContext, staff_id: str) -> Response:
    """The administrator has checked an address SES reported: clear the flag."""
    staff_admin.clear_mail_problem(
        context.school_id,
        staff_id,
        actor=context.member.staff_id,
        actor_role=context.role,
    )
    return redirect("/staff/admin/staff?done=mail_fixed")


@admin_pages.route("/staff/admin/roster", methods=["GET"])
@staff_view(admin_pages, roles=ADMIN_ROLES)
def admin_roster(context: StaffContext) -> Response:
    return page(
        "staff/admin/roster.html",
        context.language,
        staff=context,
        school=schools.get_school(context.school_id),
    )


class _RosterForm:
    """The fields of the upload and of each import step.

    The upload sends the files; the preview page carries their text on in hidden
    fields, so each import step re-sends the same text (as UTF-8, whatever the
    original encoding) and nothing is kept on the server between steps.
    """

    def __init__(self, fields: dict[str, bytes]):
        self.pupils = fields.get("pupils") or fields.get("pupils_text") or b""
        teachers = fields.get("teachers") or fields.get("teachers_text") or b""
        self.teachers = teachers if teachers.strip() else None
        self.complete = fields.get("partial", b"") != b"1"
        self.create_groups = fields.get("create_groups", b"") == b"1"
        self.offset = _number(fields.get("offset"))
        # Shown when the import is done; counted by the preview.
        self.error_count = _number(fields.get("error_count"))

    def options(self) -> dict[str, Any]:
        return {
            "teachers": self.teachers,
            "complete": self.complete,
            "create_groups": self.create_groups,
        }

    def carried(self) -> dict[str, Any]:
        """What the next step's hidden fields hold."""
        return {
            "pupils_text": roster.decode(self.pupils),
            "teachers_text": roster.decode(self.teachers) if self.teachers else "",
            "partial": not self.complete,
            "create_groups": self.create_groups,
            "error_count": self.error_count,
        }


def _number(value: bytes | None) -> int:
    text = (value or b"").decode("ascii", "replace").strip()
    return int(text) if text.isdigit() and len(text) < 10 else 0


@admin_pages.route(
    "/staff/admin/roster/preview", methods=["POST"], content_types=UPLOAD_TYPES
)
@staff_view(admin_pages, roles=ADMIN_ROLES)
def admin_roster_preview(context: StaffContext) -> Response:
    school = schools.get_school(context.school_id)
    form = _RosterForm(upload_data(_request()))
    try:
        if not form.pupils.strip():
            raise BadRequest(both("Choose the file to import."))
        plan = roster.preview(context.school_id, form.pupils, **form.options())
    except BadRequest as refused:
        return _roster_refused(context, school, refused)
    return page(
        "staff/admin/roster_preview.html",
        context.language,
        staff=context,
        school=school,
        plan=plan,
        # The column a line error is about, as the administration systems name it.
        columns={name: names[0] for name, names in roster.COLUMNS.items()},
        carried={**form.carried(), "error_count": len(plan.errors)},
    )


def _roster_refused(
    context: StaffContext, school: Any, refused: BadRequest
) -> Response:
    """The upload page again, saying why the file or step was refused."""
    return page(
        "staff/admin/roster.html",
        context.language,
        status=422,
        staff=context,
        school=school,
        error=refused.message[context.language],
    )


@admin_pages.route(
    "/staff/admin/roster/import", methods=["POST"], content_types=UPLOAD_TYPES
)
@staff_view(admin_pages, roles=ADMIN_ROLES)
def admin_roster_import(context: StaffContext) -> Response:
    school = schools.get_school(context.school_id)
    form = _RosterForm(upload_data(_request()))
    try:
        progress = roster.import_chunk(
            context.school_id,
            form.pupils,
            form.offset,
            roster.CHUNK_SIZE,
            actor=context.member.staff_id,
            actor_role=context.role,
            **form.options(),
        )
    except BadRequest as refused:
        return _roster_refused(context, school, refused)
    return page(
        "staff/admin/roster_progress.html",
        context.language,
        staff=context,
        school=school,
        progress=progress,
        carried=form.carried(),
    )


# The school-year rollover, step by step like the roster import. The choices of
# the form travel with each step; "=" keeps a group's pupils where they are.
STAYS = "="


def _rollover_page(
    context: StaffContext,
    school: School,
    status: int = 200,
    error: str | None = None,
) -> Response:
    planned = rollover.plan(school)
    return page(
        "staff/admin/rollover.html",
        context.language,
        status=status,
        staff=context,
        school=school,
        year=rollover.coming_year(local_today(), school),
        moves=planned.moves,
        stays=STAYS,
        leaves=rollover.LEAVES,
        error=error,
    )


@admin_pages.route("/staff/admin/rollover", methods=["GET"])
@staff_view(admin_pages, roles=ADMIN_ROLES)
def admin_rollover(context: StaffContext) -> Response:
    return _rollover_page(context, schools.get_school(context.school_id))


@admin_pages.route("/staff/admin/rollover", methods=["POST"], content_types=FORM_TYPES)
@staff_view(admin_pages, roles=ADMIN_ROLES)
def admin_rollover_run(context: StaffContext) -> Response:
    school = schools.get_school(context.school_id)
    form = form_data(_request())
    year = form.get("year", "").strip()
    mapping = _rollover_mapping(school, form)
    if mapping is None:
        return _rollover_page(context, school, 422, _rollover_refusal(context))
    try:
        step = rollover.rollover_step(
            context.school_id,
            year,
            mapping,
            form.get("after") or None,
            actor=context.member.staff_id,
            actor_role=context.role,
        )
    except rollover.RolloverRefused:
        return _rollover_page(context, school, 422, _rollover_refusal(context))
    totals = {
        name: _number(form.get(name, "").encode()) + getattr(step, name)
        for name in ("checked", "moved", "left")
    }
    return page(
        "staff/admin/rollover_progress.html",
        context.language,
        staff=context,
        school=school,
        year=year,
        step=step,
        totals=totals,
        carried={k: v for k, v in form.items() if k.startswith("to_")},
    )


def _rollover_mapping(school: School, form: dict[str, str]) -> dict[str, str] | None:
    """Group id -> target group id or "-", from the form; None if a choice is
    not one the page offers."""
    known = {g.id for g in school.groups}
    mapping = {}
    for group_id in known:
        choice = form.get(f"to_{group_id}", STAYS)
        if choice == STAYS:
            choice = group_id
        if choice != rollover.LEAVES and choice not in known:
            return None
        mapping[group_id] = choice
    return mapping


def _rollover_refusal(context: StaffContext) -> str:
    return both(
        "This school year cannot be started now. Check the year and the choices."
    )[context.language]
