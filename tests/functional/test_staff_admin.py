"""The school administrator's pages: staff accounts and the roster upload."""

from __future__ import annotations

import json

import pytest

from chalicelib import aws
from chalicelib.models import AuditEvent, Pupil, StaffMember

from .onboarding_helpers import (
    FIRST_PASSWORD,
    HEADER,
    first_sign_in,
    import_roster,
    mails_to,
    temporary_password,
    upload,
)
from .staff_fixtures import OTHER_SCHOOL, SCHOOL, html, redirects_to_login

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")


def _invite(admin, fake, **fields: str) -> tuple[str, object]:
    email = fake.unique.email(domain="obsderegenboog.example")
    form = {"email": email, "name": fake.name(), "roles": "teacher", **fields}
    return email, admin.post("/staff/admin/staff", form)


def _member(school: str, email: str) -> StaffMember:
    [member] = [m for m in StaffMember.by_email.query(email) if m.school_id == school]
    return member


def _cognito_user(world, email: str) -> dict:
    return aws.client("cognito-idp").admin_get_user(
        UserPoolId=world.pool_id, Username=email
    )


def _sign_in(world, email: str, password: str = FIRST_PASSWORD):
    return world.browser().post(
        "/staff/login", {"email": email, "password": password}, csrf=False
    )


def test_deactivated_colleague_loses_access_at_once_and_regains_it(staff_world, fake):
    admin = staff_world.sign_in("administrator")
    email, _ = _invite(admin, fake, groups="g-5")
    teacher = first_sign_in(staff_world, email)
    staff_id = _member(SCHOOL, email).staff_id

    deactivated = admin.post(f"/staff/admin/staff/{staff_id}/active", {"active": "0"})
    open_session = teacher.get("/staff/")
    refused = _sign_in(staff_world, email)
    disabled = _cognito_user(staff_world, email)["Enabled"]
    admin.post(f"/staff/admin/staff/{staff_id}/active", {"active": "1"})
    again = _sign_in(staff_world, email)

    assert deactivated.headers["Location"] == "/staff/admin/staff?done=active"
    assert redirects_to_login(open_session)
    assert refused.status_code == 401
    assert disabled is False
    assert again.status_code == 303
    assert _member(SCHOOL, email).active is True


def test_person_at_two_schools_keeps_one_login_and_keeps_the_other_school(
    staff_world, fake
):
    email, _ = _invite(staff_world.sign_in("administrator"), fake)
    first_sign_in(staff_world, email)
    other_admin = staff_world.sign_in("administrator", OTHER_SCHOOL)

    added = other_admin.post(
        "/staff/admin/staff",
        {"email": email.upper(), "name": fake.name(), "roles": "coordinator"},
    )
    second_mail = mails_to(email)[-1]
    users = aws.client("cognito-idp").list_users(
        UserPoolId=staff_world.pool_id, Filter=f'email = "{email}"'
    )["Users"]
    staff_id = _member(OTHER_SCHOOL, email).staff_id
    other_admin.post(f"/staff/admin/staff/{staff_id}/active", {"active": "0"})
    signed_in = _sign_in(staff_world, email)

    assert added.status_code == 303
    assert "het wachtwoord dat je al voor M5 Monitor gebruikt" in second_mail
    assert "font-size:18px" not in second_mail  # no temporary password
    assert len(users) == 1
    assert _cognito_user(staff_world, email)["Enabled"] is True
    assert signed_in.headers["Location"] == "/staff/"  # the one school left


def test_the_temporary_password_reaches_no_log_line_and_no_audit_entry(
    staff_world, fake, json_log_lines
):
    admin = staff_world.sign_in("administrator")
    json_log_lines()

    email, response = _invite(admin, fake)

    password = temporary_password(mails_to(email)[-1])
    logged = json.dumps(json_log_lines())
    trail = json.dumps(
        [e.attribute_values for e in AuditEvent.query(f"{SCHOOL}#school")], default=str
    )
    assert response.status_code == 303
    assert password not in logged
    assert email not in logged
    assert password not in trail
    assert email not in trail
    assert _member(SCHOOL, email).staff_id in trail


def test_invitation_is_resent_only_until_the_first_sign_in(staff_world, fake):
    admin = staff_world.sign_in("administrator")
    email, _ = _invite(admin, fake)
    staff_id = _member(SCHOOL, email).staff_id
    first_password = temporary_password(mails_to(email)[-1])

    resent = admin.post(f"/staff/admin/staff/{staff_id}/invitation")
    old_password = _sign_in(staff_world, email, first_password)
    first_sign_in(staff_world, email)
    too_late = admin.post(f"/staff/admin/staff/{staff_id}/invitation")

    assert resent.headers["Location"] == "/staff/admin/staff?done=resent"
    assert len(mails_to(email)) == 3 - 1
    assert old_password.status_code == 401
    assert too_late.status_code == 409
    assert "Deze collega heeft al ingelogd." in html(too_late)


def test_an_address_with_an_account_here_is_not_invited_twice(staff_world, fake):
    admin = staff_world.sign_in("administrator")
    email, first = _invite(admin, fake)

    second = admin.post(
        "/staff/admin/staff", {"email": email, "name": fake.name(), "roles": "teacher"}
    )

    assert first.status_code == 303
    assert second.status_code == 422
    assert "Dit e-mailadres heeft hier al een account." in html(second)
    assert len([m for m in StaffMember.by_email.query(email)]) == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"roles": "coordinator"}, "Je eigen account kun je hier niet wijzigen."),
        ({"roles": "owner"}, "Kies ten minste één rol."),
        (
            {"roles": "teacher", "groups": "g-99"},
            "Kies een van de antwoorden die er staan.",
        ),
    ],
    ids=["own-account", "unknown-role", "unknown-group"],
)
def test_refused_role_changes_leave_the_account_as_it_was(staff_world, form, message):
    admin = staff_world.sign_in("administrator")
    target = "staff-beheer" if form["roles"] == "coordinator" else "staff-leerkracht"
    before = StaffMember.get(SCHOOL, target)

    response = admin.post(f"/staff/admin/staff/{target}", form)

    after = StaffMember.get(SCHOOL, target)
    assert response.status_code == 422
    assert message in html(response)
    assert (after.roles, after.groups) == (before.roles, before.groups)


def test_administrator_cannot_deactivate_themselves(staff_world):
    admin = staff_world.sign_in("administrator")

    response = admin.post("/staff/admin/staff/staff-beheer/active", {"active": "0"})

    assert response.status_code == 422
    assert StaffMember.get(SCHOOL, "staff-beheer").active is True


def test_role_change_is_audited_with_staff_ids_only(staff_world):
    admin = staff_world.sign_in("administrator")
    teacher = StaffMember.get(SCHOOL, "staff-leerkracht2")

    response = admin.post(
        "/staff/admin/staff/staff-leerkracht2",
        {"roles": "teacher", "groups": "g-7"},
    )

    [entry] = [
        e
        for e in AuditEvent.query(f"{SCHOOL}#school", scan_index_forward=False)
        if e.action == "staff_changed"
    ][:1]
    assert response.status_code == 303
    assert StaffMember.get(SCHOOL, "staff-leerkracht2").groups == ["g-7"]
    assert entry.actor == "staff-beheer"
    assert entry.detail["staff_id"] == "staff-leerkracht2"
    assert teacher.email not in json.dumps(entry.detail.as_dict())
    assert teacher.name not in json.dumps(entry.detail.as_dict())


def test_roster_in_windows_1252_arrives_intact_through_the_page(staff_world, fake):
    admin = staff_world.sign_in("administrator")
    last = fake.last_name()
    data = f"{HEADER}\r\n640001;Zoë;van der;{last};Groep 6\r\n".encode("cp1252")

    preview = upload(
        admin,
        "/staff/admin/roster/preview",
        {"pupils": ("export.csv", data), "partial": "1"},
    )
    import_roster(admin, html(preview))

    pupil = Pupil.get(SCHOOL, "640001")
    assert (pupil.first_name, pupil.last_name, pupil.group) == (
        "Zoë",
        f"van der {last}",
        "g-6",
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Kies het bestand dat je wilt inlezen."),
        (
            {
                "pupils": (
                    "export.csv",
                    b"Leerlingnummer;Roepnaam;Achternaam\r\n1;A;B\r\n",
                )
            },
            "groep",
        ),
    ],
    ids=["no-file", "no-group-column"],
)
def test_a_file_that_cannot_be_read_is_refused_on_the_upload_page(
    staff_world, fields, message
):
    admin = staff_world.sign_in("administrator")
    before = len(list(Pupil.query(SCHOOL)))

    response = upload(admin, "/staff/admin/roster/preview", fields)

    assert response.status_code == 422
    assert message in html(response)
    assert 'action="/staff/admin/roster/preview"' in html(response)
    assert len(list(Pupil.query(SCHOOL))) == before


def test_upload_with_a_forged_csrf_token_is_refused(staff_world):
    admin = staff_world.sign_in("administrator")
    data = f"{HEADER}\r\n650001;Sem;;Jansen;Groep 6\r\n".encode()

    response = upload(
        admin,
        "/staff/admin/roster/import",
        {"pupils_text": data.decode(), "offset": "0", "csrf_token": "vervalst"},
        csrf=False,
    )

    assert response.status_code == 403
    assert Pupil.count(SCHOOL, Pupil.pupil_id == "650001") == 0


def test_invited_at_two_schools_before_signing_in_the_newest_mail_works(
    staff_world, fake
):
    email, _ = _invite(staff_world.sign_in("administrator"), fake)
    first_password = temporary_password(mails_to(email)[-1])
    other_admin = staff_world.sign_in("administrator", OTHER_SCHOOL)

    other_admin.post(
        "/staff/admin/staff", {"email": email, "name": fake.name(), "roles": "teacher"}
    )
    old_password = _sign_in(staff_world, email, first_password)
    browser = first_sign_in(staff_world, email)

    assert old_password.status_code == 401
    assert browser.get("/staff/choose-school").status_code == 200
