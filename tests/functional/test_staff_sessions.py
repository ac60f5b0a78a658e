"""Staff sessions: CSRF on every form, the 30-minute inactivity limit, and
deactivation that takes effect on the very next request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import itsdangerous.timed
import pytest

from app import app
from chalicelib import sessions
from chalicelib.config import settings
from chalicelib.models import Report, StaffMember
from chalicelib.weeks import local_today
from local.seed import DEMO_PASSWORD

from .staff_fixtures import (
    SCHOOL,
    StaffBrowser,
    StaffWorld,
    case_events,
    html,
    redirects_to_login,
    set_cookies,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

FOREIGN_ORIGIN = "https://evil.example"


@pytest.fixture
def session_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Move the session signer's clock by some minutes (tokens keep real time)."""

    def move(minutes: float) -> None:
        later = time.time() + minutes * 60
        monkeypatch.setattr(
            itsdangerous.timed, "time", SimpleNamespace(time=lambda: later)
        )

    return move


# -- CSRF ---------------------------------------------------------------------

CASE_FORMS = {
    "status": {"status": "in_progress"},
    "assign": {"staff_id": "staff-ib"},
    "notes": {"text": "Gesprek gepland met de ouders."},
    "observations": {"text": "In de pauze alleen bij het hek gezien."},
    "messages": {"text": "Dank voor je melding, we gaan ermee aan de slag."},
    "interventions": {"kind": "talk_hurt", "on": local_today().isoformat()},
    "effects": {"intervention": "x", "effect": "less"},
    "pupils": {"person": "0", "pupil_id": "510001"},
    "merge": {"target": "x"},
    "links": {"other": "x"},
    "remove": {"reason": "test"},
    "legal-hold": {"hold": "set", "reason": "Lopende procedure bij de rechtbank."},
}
STAFF_POSTS = sorted(
    path
    for path, methods in app.routes.items()
    if path.startswith("/staff/reports/{report_id}/") and "POST" in methods
)


def _attack(kind: str, scene: CsrfScene) -> tuple[str | None, dict[str, str]]:
    """The form's csrf_token and extra headers of each forged post."""
    browser = scene.browser
    return {
        "no-token": (None, {}),
        "empty-token": ("", {}),
        "token-of-another-session": (scene.elsewhere.csrf, {}),
        "token-of-a-colleague": (scene.colleague.csrf, {}),
        "foreign-origin": (browser.csrf, {"Origin": FOREIGN_ORIGIN}),
        "null-origin": (browser.csrf, {"Origin": "null"}),
        "other-scheme-origin": (
            browser.csrf,
            {"Origin": "https://127.0.0.1:8000"},  # same host, not our origin
        ),
    }[kind]


ATTACKS = (
    "no-token",
    "empty-token",
    "token-of-another-session",
    "token-of-a-colleague",
    "foreign-origin",
    "null-origin",
    "other-scheme-origin",
)


@dataclass
class CsrfScene:
    report: Report
    browser: StaffBrowser  # the coordinator, whose requests are forged
    elsewhere: StaffBrowser  # the same person signed in on another device
    colleague: StaffBrowser


@pytest.fixture(scope="module")
def csrf_scene(staff_world: StaffWorld) -> CsrfScene:
    staff_world.enrol(SCHOOL, "g-5", "510001")
    return CsrfScene(
        staff_world.report(SCHOOL, "g-5"),
        staff_world.sign_in("coordinator"),
        staff_world.sign_in("coordinator"),
        staff_world.sign_in("deputy"),
    )


def test_every_case_action_has_a_csrf_case():
    assert {path.rsplit("/", 1)[1] for path in STAFF_POSTS} == set(CASE_FORMS)


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("path", STAFF_POSTS, ids=lambda p: p.rsplit("/", 1)[1])
def test_forged_case_action_is_refused_and_changes_nothing(csrf_scene, path, attack):
    report, browser = csrf_scene.report, csrf_scene.browser
    token, headers = _attack(attack, csrf_scene)
    form = dict(CASE_FORMS[path.rsplit("/", 1)[1]])
    if token is not None:
        form["csrf_token"] = token
    events_before = len(case_events(report))
    version_before = Report.get(SCHOOL, report.report_id).version

    response = browser.post(
        path.replace("{report_id}", report.report_id), form, csrf=False, headers=headers
    )

    assert response.status_code == 403
    assert len(case_events(report)) == events_before
    assert Report.get(SCHOOL, report.report_id).version == version_before


@pytest.mark.parametrize("attack", ATTACKS)
def test_forged_sign_out_keeps_the_session(csrf_scene, attack):
    browser = csrf_scene.browser
    token, headers = _attack(attack, csrf_scene)
    form = {} if token is None else {"csrf_token": token}

    response = browser.post("/staff/logout", form, csrf=False, headers=headers)

    assert response.status_code == 403
    assert browser.get("/staff/").status_code == 200


@pytest.mark.parametrize("attack", ATTACKS)
def test_forged_language_switch_changes_nothing(csrf_scene, attack):
    browser = csrf_scene.browser
    token, headers = _attack(attack, csrf_scene)
    form = (
        {"language": "en"} if token is None else {"language": "en", "csrf_token": token}
    )

    response = browser.post("/staff/language", form, csrf=False, headers=headers)

    assert response.status_code == 403
    assert StaffMember.get(SCHOOL, "staff-coordinator").language == "nl"


def test_case_action_with_own_token_and_origin_is_stored(csrf_scene):
    report, browser = csrf_scene.report, csrf_scene.browser
    before = len(case_events(report))

    response = browser.post(
        f"/staff/reports/{report.report_id}/notes",
        {"text": "Leerkracht ingelicht."},
        headers={"Origin": settings.public_base_url},
    )

    assert response.status_code == 303
    assert len(case_events(report)) == before + 1


def test_sign_in_from_a_foreign_origin_is_refused(staff_world):
    browser = staff_world.browser()

    response = browser.post(
        "/staff/login",
        {"email": staff_world.member("coordinator").email, "password": "x" * 12},
        csrf=False,
        headers={"Origin": FOREIGN_ORIGIN},
    )

    assert response.status_code == 403
    assert sessions.SESSION_COOKIE not in browser.cookies


# -- Inactivity ---------------------------------------------------------------


def test_session_unused_for_more_than_thirty_minutes_is_over(
    staff_world, session_clock
):
    browser = staff_world.sign_in("coordinator")
    session_clock(31)

    response = browser.get("/staff/")

    assert redirects_to_login(response)
    assert set_cookies(response)[sessions.SESSION_COOKIE] == ""


def test_session_in_use_slides_past_thirty_minutes(staff_world, session_clock):
    browser = staff_world.sign_in("coordinator")
    first_cookie = browser.cookies[sessions.SESSION_COOKIE]
    session_clock(25)
    in_use = browser.get("/staff/")
    session_clock(50)

    still_in_use = browser.get("/staff/")
    browser.cookies[sessions.SESSION_COOKIE] = first_cookie
    unused = browser.get("/staff/")

    assert in_use.status_code == 200
    assert set_cookies(in_use)[sessions.SESSION_COOKIE] != first_cookie
    assert still_in_use.status_code == 200
    assert redirects_to_login(unused)


def test_session_cookie_is_scoped_and_hidden_from_scripts(staff_world):
    browser = staff_world.browser()

    email = staff_world.member("coordinator").email
    response = staff_world.second_step(
        browser,
        email,
        browser.post(
            "/staff/login", {"email": email, "password": DEMO_PASSWORD}, csrf=False
        ),
    )

    for header in response.headers["Set-Cookie"]:
        attributes = {a.strip().lower() for a in header.split(";")[1:]}
        assert {"path=/staff", "secure", "httponly", "samesite=strict"} <= attributes


def test_tampered_session_cookie_signs_nobody_in(staff_world):
    browser = staff_world.sign_in("teacher")
    payload, _, signature = browser.cookies[sessions.SESSION_COOKIE].partition(".")
    browser.cookies[sessions.SESSION_COOKIE] = f"{payload}x.{signature}"

    response = browser.get("/staff/")

    assert redirects_to_login(response)


# -- Deactivation and changed roles --------------------------------------------


@pytest.fixture
def restore_staff(staff_world):
    """Put every staff record back as it was after the test changed it."""
    saved = {
        (m.school_id, m.staff_id): m.serialize()
        for members in staff_world.staff.values()
        for m in members.values()
    }
    yield
    for (school_id, staff_id), item in saved.items():
        member = StaffMember(school_id, staff_id)
        member.deserialize(item)
        member.save()


def test_deactivated_staff_member_is_signed_out_at_once(staff_world, restore_staff):
    browser = staff_world.sign_in("teacher")
    assert browser.get("/staff/").status_code == 200
    member = StaffMember.get(SCHOOL, "staff-leerkracht")
    member.update(actions=[StaffMember.active.set(False)])

    response = browser.get("/staff/")

    assert redirects_to_login(response)
    assert sessions.ACCESS_COOKIE not in browser.cookies


def test_deactivated_staff_member_cannot_sign_in_again(staff_world, restore_staff):
    member = StaffMember.get(SCHOOL, "staff-leerkracht")
    member.update(actions=[StaffMember.active.set(False)])
    browser = staff_world.browser()

    response = browser.post(
        "/staff/login",
        {"email": member.email, "password": DEMO_PASSWORD},
        csrf=False,
    )

    assert response.status_code == 403
    assert sessions.SESSION_COOKIE not in browser.cookies


def test_removed_staff_member_is_signed_out_at_once(staff_world, restore_staff):
    browser = staff_world.sign_in("coordinator")
    StaffMember.get(SCHOOL, "staff-coordinator").delete()

    response = browser.get("/staff/")

    assert redirects_to_login(response)


def test_teacher_moved_to_another_group_loses_the_old_groups_reports(
    staff_world, restore_staff
):
    report = staff_world.report(SCHOOL, "g-5")
    browser = staff_world.sign_in("teacher")
    assert browser.get(f"/staff/reports/{report.report_id}").status_code == 200
    member = StaffMember.get(SCHOOL, "staff-leerkracht")
    member.update(actions=[StaffMember.groups.set(["g-6"])])

    detail = browser.get(f"/staff/reports/{report.report_id}")
    listing = browser.get("/staff/")

    assert detail.status_code == 404
    assert report.description not in html(detail)
    assert report.report_id not in html(listing)


def test_signing_out_ends_copies_of_the_session_cookies(staff_world):
    browser = staff_world.sign_in("leadership")
    copied = StaffBrowser(browser.http, dict(browser.cookies))
    assert copied.get("/staff/").status_code == 200

    signed_out = browser.post("/staff/logout")

    assert redirects_to_login(signed_out)
    assert redirects_to_login(copied.get("/staff/"))
    again = staff_world.sign_in("leadership")
    assert again.get("/staff/").status_code == 200
