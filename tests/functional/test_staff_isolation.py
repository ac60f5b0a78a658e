"""Isolation between schools, groups and roles, generated from the route table.

Every route under /staff is either one of the few public sign-in routes named
below or guarded by an access rule; a new route without a rule fails here. Every
guarded route is then requested by every role, against a report (or pupil) of the
role's own group, of another group of the same school, and of another school. The
roles each route admits are restated below; which reports a role reaches is
observed, not assumed: out of scope answers 404 and shows nothing of the report.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from app import app
from chalicelib import staff_admin
from chalicelib.access import RULES
from chalicelib.models import Pupil, Report, StaffMember
from chalicelib.weeks import local_today
from local.seed import DEMO_PASSWORD

from .onboarding_helpers import HEADER, upload
from .staff_fixtures import (
    OTHER_SCHOOL,
    SCHOOL,
    StaffBrowser,
    StaffWorld,
    case_events,
    html,
    redirects_to_login,
)

# Routes reachable without a signed-in staff member of a school, each checking
# what it needs itself: signing in, setting a first password, resetting a
# forgotten one, the two-step sign-in (its code, or setting up the app with the
# short-lived set-up cookie), picking a school after sign-in (the session exists, no school
# is chosen yet) and the stylesheet.
PUBLIC_STAFF_ROUTES = frozenset(
    {
        ("/staff/login", "GET"),
        ("/staff/login", "POST"),
        ("/staff/new-password", "POST"),
        ("/staff/forgot", "GET"),
        ("/staff/forgot", "POST"),
        ("/staff/reset", "POST"),
        ("/staff/mfa", "POST"),
        ("/staff/mfa-setup", "POST"),
        ("/staff/choose-school", "GET"),
        ("/staff/choose-school", "POST"),
        ("/staff/assets/staff.css", "GET"),
        ("/staff/assets/roster.js", "GET"),
    }
)

ROLES = ("teacher", "deputy", "coordinator", "leadership", "administrator")
EVERYONE = frozenset(ROLES)
HANDLERS = frozenset({"deputy", "coordinator"})
READERS = frozenset({"teacher", "deputy", "coordinator", "leadership"})
ADMINISTRATORS = frozenset({"administrator"})
# The school's data protection officer: the audit trails only. Not a demo
# login, so not in the matrix below; test_privacy_requests signs one in.
PRIVACY_OFFICER = "privacy_officer"
STAFF = EVERYONE | {PRIVACY_OFFICER}

# The roles each staff view admits, restated from DOMAIN.md's role table.
ROLES_OF_VIEW: dict[str, frozenset[str]] = {
    "home": STAFF,
    "logout": STAFF,
    "choose_language": STAFF,
    "report_detail": READERS,
    "case_observation": HANDLERS | {"teacher"},
    "case_status": HANDLERS,
    "case_assign": HANDLERS,
    "case_note": HANDLERS,
    "case_message": HANDLERS,
    "case_intervention": HANDLERS,
    "case_effect": HANDLERS,
    "case_link_pupil": HANDLERS,
    "case_merge": HANDLERS,
    "case_link": HANDLERS,
    "case_remove": HANDLERS,
    "case_legal_hold": frozenset({"coordinator"}),
    "case_audit": HANDLERS | {PRIVACY_OFFICER},
    "pupil_history": HANDLERS | {"leadership"},
    "pupil_export": frozenset({"coordinator"}),
    "pupil_erase": frozenset({"coordinator"}),
    "school_audit": frozenset({"coordinator", PRIVACY_OFFICER}),
    "insights_overview": READERS,
    "insights_pupils": READERS,
    "insights_interventions": READERS,
    "insights_cases": READERS,
    "leadership_dashboard": frozenset({"deputy", "coordinator", "leadership"}),
    "class_round_page": HANDLERS | {"leadership"},
    "admin_staff": ADMINISTRATORS,
    "admin_staff_invite": ADMINISTRATORS,
    "admin_staff_change": ADMINISTRATORS,
    "admin_staff_active": ADMINISTRATORS,
    "admin_staff_resend": ADMINISTRATORS,
    "admin_staff_mail_fixed": ADMINISTRATORS,
    "admin_roster": ADMINISTRATORS,
    "admin_roster_preview": ADMINISTRATORS,
    "admin_roster_import": ADMINISTRATORS,
    "admin_rollover": ADMINISTRATORS,
    "admin_rollover_run": ADMINISTRATORS,
    "accountability_page": HANDLERS | {"leadership"},
    "accountability_csv": HANDLERS | {"leadership"},
    "accountability_pdf": HANDLERS | {"leadership"},
}

# Forms with a file, posted as multipart; they answer with a page, not a redirect.
UPLOAD_VIEWS = frozenset({"admin_roster_preview", "admin_roster_import"})
# Steps of a job that answer with the next step's page, not a redirect.
PAGE_VIEWS = UPLOAD_VIEWS | {"admin_rollover_run"}

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

# Targets: a report (or pupil) of the teacher's own group, of another group of
# the same school, and of the other school.
TARGETS = ("own_group", "other_group", "other_school")


@dataclass(frozen=True, order=True)
class StaffRoute:
    path: str
    method: str
    view: str

    @property
    def target_kind(self) -> str | None:
        if "{report_id}" in self.path:
            return "report"
        if "{pupil_id}" in self.path:
            return "pupil"
        if "{staff_id}" in self.path:
            return "staff"
        return None


STAFF_ROUTES = sorted(
    StaffRoute(path, method, entry.view_name)
    for path, methods in app.routes.items()
    if path == "/staff" or path.startswith("/staff/")
    for method, entry in methods.items()
)
PROTECTED = [r for r in STAFF_ROUTES if (r.path, r.method) not in PUBLIC_STAFF_ROUTES]


def _cases() -> list[pytest.param]:
    cases = []
    for route in PROTECTED:
        targets = TARGETS if route.view != "logout" else ("none",)
        if route.view == "choose_language":
            targets = ("none",)
        for role in ROLES:
            for target in targets:
                cases.append(
                    pytest.param(
                        route, role, target, id=f"{route.view}-{role}-{target}"
                    )
                )
    return cases


def test_staff_routes_were_found():
    assert {r.view for r in PROTECTED} >= {"home", "report_detail", "case_status"}


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: f"{r.method} {r.path}")
def test_every_staff_route_is_guarded_by_an_access_rule(route):
    view_function = app.routes[route.path][route.method].view_function

    rule = RULES.get(route.view)
    guarding = inspect.getclosurevars(view_function).nonlocals.values()

    assert rule is not None, f"{route.method} {route.path} has no rule in RULES"
    assert any(value is rule for value in guarding), (
        f"{route.view} is registered in RULES but not wrapped by staff_view"
    )


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: f"{r.method} {r.path}")
def test_access_rule_admits_exactly_the_roles_of_the_rule_table(route):
    expected = ROLES_OF_VIEW.get(route.view)

    admitted = RULES[route.view].roles

    assert expected is not None, f"state the roles of {route.view} in ROLES_OF_VIEW"
    assert admitted == expected


def test_public_staff_routes_all_exist():
    table = {(r.path, r.method) for r in STAFF_ROUTES}

    assert table >= PUBLIC_STAFF_ROUTES


@dataclass
class Scene:
    world: StaffWorld
    browsers: dict[str, StaffBrowser]
    reports: dict[str, Report]
    pupils: dict[str, Pupil]
    merge_targets: dict[str, Report]
    interventions: dict[str, str]  # report id -> event id of an intervention
    # Staff members an administrator's actions aim at: two of the school, one of
    # the other school (deactivated there, so "reactivate" must not reach it).
    colleagues: dict[str, StaffMember] = field(default_factory=dict)

    def target_report(self, target: str) -> Report:
        return self.reports[target]


@pytest.fixture(scope="module")
def scene(staff_world: StaffWorld) -> Scene:
    world = staff_world
    other_group = world.schools[OTHER_SCHOOL].groups[3].id
    reports = {
        "own_group": world.report(SCHOOL, "g-5"),
        "other_group": world.report(SCHOOL, "g-3"),
        "other_school": world.report(OTHER_SCHOOL, other_group),
    }
    pupils = {
        "own_group": world.enrol(SCHOOL, "g-5", "510001"),
        "other_group": world.enrol(SCHOOL, "g-3", "530001"),
        # A number the first school does not have: only the other school knows it.
        "other_school": world.enrol(OTHER_SCHOOL, other_group, "990001"),
    }
    merge_targets = {
        SCHOOL: world.report(SCHOOL, "g-3"),
        OTHER_SCHOOL: world.report(OTHER_SCHOOL, other_group),
    }
    interventions = {}
    for report in reports.values():
        coordinator = world.sign_in("coordinator", report.school_id)
        response = coordinator.post(
            f"/staff/reports/{report.report_id}/interventions",
            {"kind": "talk_hurt", "on": local_today().isoformat()},
        )
        assert response.status_code == 303
        [event] = [e for e in case_events(report) if e.kind == "intervention"]
        interventions[report.report_id] = event.event_id
    browsers = {role: world.sign_in(role) for role in ROLES}
    colleagues = {
        target: staff_admin.invite(
            world.schools[school],
            world.fake.unique.email(),
            world.fake.name(),
            ["teacher"],
            [group],
            actor=None,
            actor_role="operator",
        ).member
        for target, school, group in (
            ("own_group", SCHOOL, "g-5"),
            ("other_group", SCHOOL, "g-3"),
            ("other_school", OTHER_SCHOOL, other_group),
        )
    }
    staff_admin.set_active(
        OTHER_SCHOOL, colleagues["other_school"].staff_id, False, actor=None
    )
    return Scene(
        world,
        browsers,
        reports,
        pupils,
        merge_targets,
        interventions,
        colleagues=colleagues,
    )


def _form(scene: Scene, view: str, report: Report | None) -> dict[str, str]:
    """A valid form for each case action, so an admitted request succeeds."""
    if view.startswith("admin_"):
        return _admin_form(scene, view)
    if report is None:
        pupil_forms = {
            "choose_language": {"language": "nl"},
            "pupil_erase": {"confirm": "yes"},
        }
        return pupil_forms.get(view, {})
    target_group = report.persons[0].group
    own_pupil = next(
        (p for p in scene.pupils.values() if p.group == target_group), None
    )
    forms = {
        "case_status": {"status": "in_progress"},
        "case_assign": {"staff_id": "staff-coordinator"},
        "case_note": {"text": scene.world.fake.sentence()},
        "case_observation": {"text": scene.world.fake.sentence()},
        "case_message": {"text": scene.world.fake.sentence()},
        "case_intervention": {"kind": "talk_hurt", "on": local_today().isoformat()},
        "case_effect": {
            "intervention": scene.interventions.get(report.report_id, ""),
            "effect": "less",
        },
        "case_link_pupil": {
            "person": "0",
            "pupil_id": own_pupil.pupil_id if own_pupil else "",
        },
        "case_merge": {"target": scene.merge_targets[SCHOOL].report_id},
        "case_link": {"other": scene.merge_targets[SCHOOL].report_id},
        "case_remove": {"reason": "test"},
        "case_legal_hold": {"hold": "set", "reason": scene.world.fake.sentence()},
    }
    if view not in forms:
        pytest.fail(f"no form for {view}: add one so its rule is exercised")
    return forms[view]


def _admin_form(scene: Scene, view: str) -> dict[str, str]:
    """A valid form for each administrator action (roster: one unchanged line of
    a partial file, so the pupils other tests use are left as they are)."""
    pupil = scene.pupils["own_group"]
    line = f"{pupil.pupil_id};{pupil.first_name};;{pupil.last_name};Groep 5"
    forms = {
        "admin_staff_invite": {
            "email": scene.world.fake.unique.email(),
            "name": scene.world.fake.name(),
            "roles": "teacher",
        },
        "admin_staff_change": {"roles": "teacher", "groups": "g-3"},
        "admin_staff_active": {"active": "1"},
        "admin_staff_resend": {},
        "admin_staff_mail_fixed": {},
        "admin_roster_preview": {
            "pupils": ("leerlingen.csv", f"{HEADER}\r\n{line}\r\n".encode()),
            "partial": "1",
        },
        "admin_roster_import": {
            "pupils_text": f"{HEADER}\r\n{line}\r\n",
            "partial": "1",
            "offset": "0",
        },
        # Every group stays where it is: the new year starts and nobody moves.
        "admin_rollover_run": {
            "year": "2027-2028",
            **{f"to_{g.id}": "=" for g in scene.world.schools[SCHOOL].groups},
        },
    }
    if view not in forms:
        pytest.fail(f"no form for {view}: add one so its rule is exercised")
    return forms[view]


def _target_report(scene: Scene, route: StaffRoute, target: str) -> Report | None:
    """The report a request aims at. Removal erases a report, so each removal
    request gets a fresh report of the same school and group as the target."""
    if route.target_kind != "report":
        return scene.reports.get(target)
    report = scene.reports[target]
    if route.view == "case_remove":
        return scene.world.report(report.school_id, report.groups[0])
    return report


def _request(
    scene: Scene, route: StaffRoute, role: str, target: str, report: Report | None
):
    browser = scene.browsers[role]
    if route.view == "logout":
        browser = scene.world.sign_in(role)  # the shared browser stays signed in
    if route.target_kind != "report":
        report = None
    path = route.path
    if route.target_kind == "report" and report is not None:
        path = path.replace("{report_id}", report.report_id)
    elif route.target_kind == "pupil":
        path = path.replace("{pupil_id}", scene.pupils[target].pupil_id)
    elif route.target_kind == "staff":
        path = path.replace("{staff_id}", scene.colleagues[target].staff_id)
    if route.method == "GET":
        return browser.get(path)
    if route.view in UPLOAD_VIEWS:
        return upload(browser, path, _admin_form(scene, route.view))
    response = browser.post(path, _form(scene, route.view, report))
    if route.view == "logout" and response.status_code == 303:
        # Signing out ends every session of that person (as Cognito's global
        # sign-out does): the shared browser signs in again.
        scene.browsers[role] = scene.world.sign_in(role)
    return response


def _in_scope(role: str, target: str) -> bool:
    """Which targets a role reaches: the rule the responses must show."""
    if target == "other_school" or role == "administrator":
        return False
    if role == "teacher":
        return target == "own_group"
    return True


def _reaches(route: StaffRoute, role: str, target: str) -> bool:
    """Whether a role's request reaches its target: an administrator reaches the
    staff of their own school only; reports and pupils as _in_scope says."""
    if route.target_kind is None:
        return True
    if route.target_kind == "staff":
        return target != "other_school"
    return _in_scope(role, target)


def _account(member: StaffMember) -> tuple:
    stored = StaffMember.get(member.school_id, member.staff_id)
    return (list(stored.roles), list(stored.groups), stored.active)


@pytest.mark.parametrize(("route", "role", "target"), _cases())
def test_staff_route_answers_only_within_scope(scene, route, role, target):
    admitted = role in ROLES_OF_VIEW[route.view]
    expected_ok = admitted and _reaches(route, role, target)
    report = _target_report(scene, route, target)
    events_before = len(case_events(report)) if report else 0
    colleague = scene.colleagues.get(target) if route.target_kind == "staff" else None
    account_before = _account(colleague) if colleague else None

    response = _request(scene, route, role, target, report)

    body = html(response)
    assert scene.reports["other_school"].description not in body
    if expected_ok and route.view in PAGE_VIEWS:
        assert response.status_code == 200
    elif expected_ok:
        assert response.status_code == (200 if route.method == "GET" else 303)
    else:
        assert response.status_code == 404
        assert report is None or report.report_id not in body
        assert report is None or report.description not in body
    if route.view == "report_detail" and expected_ok:
        assert report.description in body
    if route.view == "case_audit" and expected_ok:
        assert report.report_id in body
    if route.target_kind == "report" and route.method == "POST" and not expected_ok:
        assert len(case_events(report)) == events_before
    if route.target_kind == "pupil" and not expected_ok:
        assert scene.pupils[target].last_name not in body
    if colleague is not None and not expected_ok:
        assert _account(colleague) == account_before
        assert colleague.email not in body
    if route.view == "home":
        listed = report.report_id in body
        assert listed == (role != "administrator" and _in_scope(role, target))


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: f"{r.method} {r.path}")
def test_signed_out_visitor_is_sent_to_sign_in(scene, route):
    browser = scene.world.browser()
    path = route.path.replace("{report_id}", scene.reports["own_group"].report_id)
    path = path.replace("{pupil_id}", scene.pupils["own_group"].pupil_id)
    path = path.replace("{staff_id}", scene.colleagues["own_group"].staff_id)

    if route.method == "GET":
        response = browser.get(path)
    elif route.view in UPLOAD_VIEWS:
        response = upload(browser, path, {"csrf_token": "x"}, csrf=False)
    else:
        response = browser.post(path, {"csrf_token": "x", "text": "x"}, csrf=False)

    assert redirects_to_login(response)
    assert scene.reports["own_group"].description not in html(response)


def test_staff_of_both_schools_with_the_same_pupil_number_see_only_their_own(scene):
    world = scene.world
    other_group = world.schools[OTHER_SCHOOL].groups[3].id
    here = world.enrol(SCHOOL, "g-5", "777001")
    there = world.enrol(OTHER_SCHOOL, other_group, "777001")
    report_there = world.report(OTHER_SCHOOL, other_group)
    coordinator_there = world.sign_in("coordinator", OTHER_SCHOOL)
    linked = coordinator_there.post(
        f"/staff/reports/{report_there.report_id}/pupils",
        {"person": "0", "pupil_id": "777001"},
    )
    assert linked.status_code == 303

    response = scene.browsers["coordinator"].get("/staff/pupils/777001")

    body = html(response)
    assert response.status_code == 200
    assert here.last_name in body
    assert there.last_name not in body
    assert report_there.report_id not in body


@pytest.fixture
def guest_teacher(scene) -> Iterator[StaffMember]:
    """The first school's coordinator, also a teacher at the other school."""
    member = StaffMember(
        OTHER_SCHOOL,
        "staff-gastdocent",
        email=scene.world.member("coordinator").email,
        name=scene.world.fake.name(),
        roles=["teacher"],
        groups=[scene.reports["other_school"].groups[0]],
    )
    member.save()
    yield member
    member.delete()


def test_person_at_two_schools_sees_only_the_chosen_schools_scope(scene, guest_teacher):
    browser = scene.world.browser()
    signed_in = scene.world.second_step(
        browser,
        guest_teacher.email,
        browser.post(
            "/staff/login",
            {"email": guest_teacher.email, "password": DEMO_PASSWORD},
            csrf=False,
        ),
    )
    assert signed_in.headers["Location"] == "/staff/choose-school"

    foreign = browser.post("/staff/choose-school", {"school_id": "elders"})
    chosen = browser.post("/staff/choose-school", {"school_id": OTHER_SCHOOL})
    there = browser.get(f"/staff/reports/{scene.reports['other_school'].report_id}")
    here = browser.get(f"/staff/reports/{scene.reports['own_group'].report_id}")
    status = browser.post(
        f"/staff/reports/{scene.reports['other_school'].report_id}/status",
        {"status": "closed", "reason": "stopped"},
    )

    assert foreign.headers["Location"] == "/staff/choose-school"
    assert chosen.headers["Location"] == "/staff/"
    assert there.status_code == 200  # as teacher of that group ...
    assert status.status_code == 404  # ... not as the coordinator they are here
    assert here.status_code == 404
    assert scene.reports["own_group"].description not in html(here)
