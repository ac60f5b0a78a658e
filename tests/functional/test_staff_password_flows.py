"""First sign-in with a temporary password, and the forgotten-password flow, both
through Cognito. moto accepts any confirmation code in a password reset, so
these tests prove the flow, not the security of the code."""

from __future__ import annotations

import pytest

from chalicelib import aws
from chalicelib.models import StaffMember
from local.seed import DEMO_PASSWORD

from .staff_fixtures import SCHOOL, StaffWorld, html

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

NEW_PASSWORD = "Een-heel-nieuw-wachtwoord-7"
TEMPORARY = "Tijdelijk-wachtwoord-42!"


def _invite(world: StaffWorld, email: str) -> None:
    """A new colleague as an administrator invites one: temporary password."""
    StaffMember(
        SCHOOL,
        "staff-nieuw",
        email=email,
        name=world.fake.name(),
        roles=["teacher"],
        groups=["g-3"],
    ).save()
    aws.client("cognito-idp").admin_create_user(
        UserPoolId=world.pool_id,
        Username=email,
        TemporaryPassword=TEMPORARY,
        UserAttributes=[{"Name": "email", "Value": email}],
        MessageAction="SUPPRESS",
    )


def test_first_sign_in_asks_for_a_new_password_and_then_signs_in(staff_world):
    email = "nieuw@obsderegenboog.example"
    _invite(staff_world, email)
    browser = staff_world.browser()

    challenge = browser.post(
        "/staff/login", {"email": email, "password": TEMPORARY}, csrf=False
    )
    session = html(challenge).split('name="challenge_session" value="')[1].split('"')[0]
    mismatch = browser.post(
        "/staff/new-password",
        {
            "email": email,
            "challenge_session": session,
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD + "x",
        },
        csrf=False,
    )
    done = browser.post(
        "/staff/new-password",
        {
            "email": email,
            "challenge_session": session,
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
        csrf=False,
    )

    assert challenge.status_code == 200
    assert 'action="/staff/new-password"' in html(challenge)
    assert mismatch.status_code == 422
    assert done.status_code == 303
    assert done.headers["Location"] == "/staff/"
    assert browser.get("/staff/").status_code == 200


def test_a_wrong_password_is_refused_without_saying_which_part_is_wrong(staff_world):
    browser = staff_world.browser()
    email = staff_world.member("teacher").email

    wrong_password = browser.post(
        "/staff/login", {"email": email, "password": "niet-goed-123456"}, csrf=False
    )
    unknown_user = browser.post(
        "/staff/login",
        {"email": "niemand@obsderegenboog.example", "password": DEMO_PASSWORD},
        csrf=False,
    )

    assert wrong_password.status_code == unknown_user.status_code == 401
    assert browser.get("/staff/").status_code == 303


def test_forgotten_password_flow_sets_a_new_password(staff_world):
    email = staff_world.member("leadership").email
    browser = staff_world.browser()

    asked = browser.post("/staff/forgot", {"email": email}, csrf=False)
    asked_unknown = browser.post(
        "/staff/forgot", {"email": "niemand@example.org"}, csrf=False
    )
    reset = browser.post(
        "/staff/reset",
        {
            "email": email,
            "code": "123456",
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
        csrf=False,
    )
    old_password = browser.post(
        "/staff/login", {"email": email, "password": DEMO_PASSWORD}, csrf=False
    )
    signed_in = staff_world.second_step(
        browser,
        email,
        browser.post(
            "/staff/login", {"email": email, "password": NEW_PASSWORD}, csrf=False
        ),
    )

    assert old_password.status_code == 401
    assert asked.status_code == asked_unknown.status_code == 200
    assert html(asked).count('name="code"') == html(asked_unknown).count('name="code"')
    assert reset.status_code == 200
    assert signed_in.status_code == 303
    aws.client("cognito-idp").admin_set_user_password(
        UserPoolId=staff_world.pool_id,
        Username=email,
        Password=DEMO_PASSWORD,
        Permanent=True,
    )


def test_staff_pages_follow_the_members_language(staff_world):
    browser = staff_world.sign_in("coordinator")

    dutch = browser.get("/staff/")
    browser.post("/staff/language", {"language": "en"})
    english = browser.get("/staff/")
    browser.post("/staff/language", {"language": "nl"})

    assert "Meldingen" in html(dutch)
    assert 'lang="nl"' in html(dutch)
    assert "Reports" in html(english)
    assert 'lang="en"' in html(english)
