"""Two-step sign-in: coordinators, deputies and leadership read every report of
their school, so they sign in with a password and an authenticator app's code.
The first sign-in sets the app up; no session exists before a right code."""

from __future__ import annotations

import re

import pyotp
import pytest

from chalicelib import sessions, staff_admin
from chalicelib.models import AuditEvent, StaffMember
from local.seed import DEMO_PASSWORD

from .staff_fixtures import (
    OTHER_SCHOOL,
    SCHOOL,
    StaffWorld,
    add_login,
    html,
    redirects_to_login,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")


def _newcomer(world: StaffWorld, role: str) -> str:
    """A colleague with this role who has never signed in: their e-mail."""
    email = world.fake.unique.email(domain="obsderegenboog.example")
    StaffMember(
        SCHOOL,
        f"staff-{email.split('@')[0]}",
        email=email,
        name=world.fake.name(),
        roles=[role],
        groups=[],
    ).save()
    add_login(world.pool_id, email)
    return email


def _password_step(world: StaffWorld, role: str, email: str | None = None):
    browser = world.browser()
    email = email or world.member(role).email
    response = browser.post(
        "/staff/login", {"email": email, "password": DEMO_PASSWORD}, csrf=False
    )
    return browser, email, response


def _secret(response) -> str:
    found = re.search(r'<code id="totp-secret">([^<]+)</code>', html(response))
    assert found, "no authenticator key on the page"
    return found.group(1)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.mark.parametrize(
    "role", ["coordinator", "deputy", "leadership", "privacy_officer"]
)
def test_first_sign_in_sets_up_the_app_before_any_session(staff_world, role):
    browser, _email, response = _password_step(
        staff_world, role, _newcomer(staff_world, role)
    )
    secret = _secret(response)
    code = pyotp.TOTP(secret).now()
    session_before_setup = sessions.SESSION_COOKIE in browser.cookies

    before_setup = browser.get("/staff/")
    wrong = browser.post("/staff/mfa-setup", {"code": _wrong(code)}, csrf=False)
    right = browser.post("/staff/mfa-setup", {"code": code}, csrf=False)

    assert response.status_code == 200
    assert 'class="segno"' in html(response)  # the QR code, drawn on the server
    assert not session_before_setup
    assert redirects_to_login(before_setup)
    assert wrong.status_code == 422
    assert _secret(wrong) == secret  # the same key: the app keeps working
    assert right.status_code == 303
    assert right.headers["Location"] == "/staff/"
    assert sessions.MFA_SETUP_COOKIE not in browser.cookies
    assert not redirects_to_login(browser.get("/staff/"))
    entries = AuditEvent.query(f"{SCHOOL}#school", scan_index_forward=False, limit=5)
    assert any(e.action == "two_step_sign_in_set_up" for e in entries)


def test_later_sign_ins_ask_for_the_code(staff_world):
    staff_world.sign_in("coordinator")  # sets the app up
    email = staff_world.member("coordinator").email
    browser, _, response = _password_step(staff_world, "coordinator")
    code = pyotp.TOTP(staff_world.totp_secrets[email]).now()

    wrong = browser.post("/staff/mfa", {"code": _wrong(code)}, csrf=False)
    after_wrong = browser.post("/staff/mfa", {"code": code}, csrf=False)
    _password_step_again = browser.post(
        "/staff/login", {"email": email, "password": DEMO_PASSWORD}, csrf=False
    )
    right = browser.post("/staff/mfa", {"code": code}, csrf=False)

    assert response.status_code == 200
    assert 'action="/staff/mfa"' in html(response)
    assert wrong.status_code == 401
    assert after_wrong.status_code == 403  # a wrong code ends that attempt
    assert _password_step_again.status_code == 200
    assert right.status_code == 303
    assert browser.get("/staff/").status_code == 200


def test_teachers_sign_in_with_their_password_alone(staff_world):
    _, _, response = _password_step(staff_world, "teacher")

    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/"


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_a_malformed_code_is_refused_without_asking_cognito(staff_world, code):
    browser, _, _ = _password_step(
        staff_world, "leadership", _newcomer(staff_world, "leadership")
    )

    refused = browser.post("/staff/mfa-setup", {"code": code}, csrf=False)

    assert refused.status_code == 422
    assert redirects_to_login(browser.get("/staff/"))


def test_the_set_up_cookie_is_no_session_and_cannot_be_forged(staff_world):
    browser, email, _ = _password_step(
        staff_world, "deputy", _newcomer(staff_world, "deputy")
    )
    forged = staff_world.browser()
    forged.cookies[sessions.MFA_SETUP_COOKIE] = "eyJlbWFpbCI6Im5pZW1hbmQifQ.x.y"
    setup_only = staff_world.browser()
    setup_only.cookies[sessions.SESSION_COOKIE] = browser.cookies[
        sessions.MFA_SETUP_COOKIE
    ]

    forged_answer = forged.post("/staff/mfa-setup", {"code": "123456"}, csrf=False)

    assert forged_answer.status_code == 403
    assert redirects_to_login(setup_only.get("/staff/"))
    assert email not in html(forged_answer)


def test_after_a_reset_the_next_sign_in_sets_the_app_up_again(staff_world):
    email = _newcomer(staff_world, "coordinator")
    browser, _, first = _password_step(staff_world, "coordinator", email)
    code = pyotp.TOTP(_secret(first)).now()
    assert (
        browser.post("/staff/mfa-setup", {"code": code}, csrf=False).status_code == 303
    )

    staff_admin.reset_two_step(email)
    _, _, after_reset = _password_step(staff_world, "coordinator", email)

    assert redirects_to_login(browser.get("/staff/"))  # every session ended
    assert after_reset.status_code == 200
    assert 'id="totp-secret"' in html(after_reset)


def test_the_session_is_the_signed_in_accounts_whatever_the_form_says(staff_world):
    """Whose sign-in waits for a code is kept in a signed cookie: an e-mail or
    challenge added to the form (a colleague's, of this school or another)
    does not sign in as them."""
    staff_world.sign_in("coordinator")  # sets the app up
    email = staff_world.member("coordinator").email
    victim = staff_world.member("coordinator", OTHER_SCHOOL).email
    browser, _, response = _password_step(staff_world, "coordinator")

    answer = browser.post(
        "/staff/mfa",
        {
            "email": victim,
            "code": pyotp.TOTP(staff_world.totp_secrets[email]).now(),
            "challenge_session": "x" * 40,
        },
        csrf=False,
    )

    session = sessions.load_session(browser.cookies)
    assert 'name="email"' not in html(response)
    assert answer.status_code == 303
    assert session is not None
    assert session.email == email
    assert session.school_id == SCHOOL


@pytest.mark.parametrize(
    "cookie", ["", "abc", "x" * 5000, "eyJlbWFpbCI6ImEifQ.AAAA.BBBB"]
)
def test_a_forged_challenge_is_refused_not_an_error(staff_world, cookie):
    browser = staff_world.browser()
    browser.cookies[sessions.MFA_CHALLENGE_COOKIE] = cookie

    answer = browser.post("/staff/mfa", {"code": "123456"}, csrf=False)

    assert answer.status_code == 403
    assert redirects_to_login(browser.get("/staff/"))
