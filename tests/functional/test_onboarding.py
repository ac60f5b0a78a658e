"""A new school onboarded end to end on the fake AWS, as an operator and the
school's own administrator do it: create the school with the operator's command,
invite its administrator, who imports the roster (bad lines reported, not
imported) and invites the coordinator; a report sent through the school's form
API then reaches the coordinator's list."""

from __future__ import annotations

import pytest

from chalicelib import roster
from chalicelib.models import Pupil, Report, School, StaffMember
from infra import onboarding, ops

from .helpers import post_report, valid_report
from .onboarding_helpers import (
    HEADER,
    first_sign_in,
    import_roster,
    mails_to,
    temporary_password,
    upload,
)
from .staff_fixtures import html

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

SLUG = "cbs-de-wegwijzer"


def _operator(*arguments: str) -> int:
    """One operator command, parsed as `python -m infra.ops --stage dev ...`."""
    return onboarding.run(ops.parse_args(["--stage", "dev", *arguments]))


def _roster_csv(fake) -> tuple[bytes, list[str]]:
    """Seven good lines (2 to 8 of the file) and four bad ones (9 to 12)."""
    good = [
        f"{300100 + n};{fake.first_name()};;{fake.last_name()};Groep {group}"
        for n, group in enumerate(["3", "3", "5", "5", "5", "6", "1/2a"])
    ]
    bad = [
        f"300200;{fake.first_name()};;;Groep 5",  # no last name
        f"300201;{fake.first_name()};;{fake.last_name()};Groep 9",  # no such group
        # One number on two lines: neither is imported, both are reported.
        f"300202;{fake.first_name()};;{fake.last_name()};Groep 4",
        f"300202;{fake.first_name()};;{fake.last_name()};Groep 7",
    ]
    text = "\r\n".join([HEADER, *good, *bad]) + "\r\n"
    return text.encode("utf-8"), [line.split(";")[0] for line in good]


def test_a_new_school_is_onboarded_and_its_coordinator_sees_a_report(
    staff_world, fake, monkeypatch
):
    monkeypatch.setattr(roster, "CHUNK_SIZE", 3)  # several import steps
    administrator = fake.unique.email(domain="wegwijzer.example")
    coordinator = fake.unique.email(domain="wegwijzer.example")
    data, good_numbers = _roster_csv(fake)

    # The operator creates the school and invites its administrator.
    created = _operator(
        "create-school", "--slug", SLUG, "--name", "CBS De Wegwijzer",
        "--type", "primary", "--holiday-region", "noord",
    )  # fmt: skip
    invited = _operator(
        "invite", "--slug", SLUG, "--email", administrator,
        "--name", fake.name(), "--roles", "administrator",
    )  # fmt: skip
    admin = first_sign_in(staff_world, administrator)

    # The administrator previews and imports the roster, then invites the coordinator.
    preview = upload(
        admin, "/staff/admin/roster/preview", {"pupils": ("leerlingen.csv", data)}
    )
    steps = import_roster(admin, html(preview))
    invitation = admin.post(
        "/staff/admin/staff",
        {"email": coordinator, "name": fake.name(), "roles": "coordinator"},
    )
    coordinator_browser = first_sign_in(staff_world, coordinator)

    # Someone reports through the school's form.
    sent = post_report(staff_world.http, valid_report(fake), slug=SLUG)
    [report] = Report.query(SLUG)
    listed = coordinator_browser.get("/staff/")
    admin_home = admin.get("/staff/")

    school = School.get(SLUG)
    assert created == invited == 0
    assert (school.kind, school.holiday_region) == ("primary", "noord")
    assert {c.id for c in school.categories} >= {"pesten", "wapenbezit", "anders"}
    assert "g-5" in {g.id for g in school.groups}
    assert preview.status_code == 200
    for line in (9, 10, 11, 12):
        assert f'<td data-label="Regel">{line}</td>' in html(preview)
    assert len(steps) == 3
    assert "data-continue" not in html(steps[-1])
    assert "4 regels met fouten zijn niet ingelezen" in html(steps[-1])
    assert sorted(p.pupil_id for p in Pupil.query(SLUG)) == sorted(good_numbers)
    assert invitation.headers["Location"] == "/staff/admin/staff?done=invited"
    assert [m.roles for m in StaffMember.query(SLUG)].count(["coordinator"]) == 1
    assert sent.status_code == 201
    assert listed.status_code == 200
    assert f"/staff/reports/{report.report_id}" in html(listed)
    assert report.report_id not in html(admin_home)
    assert report.description not in html(admin_home)


def test_the_invitation_mail_gives_the_address_and_a_one_time_password(
    staff_world, fake
):
    email = fake.unique.email(domain="wegwijzer.example")
    _operator(
        "create-school", "--slug", "obs-het-anker", "--name", "OBS Het Anker",
        "--type", "secondary",
    )  # fmt: skip

    _operator(
        "invite", "--slug", "obs-het-anker", "--email", email,
        "--name", fake.name(), "--roles", "coordinator", "--language", "en",
    )  # fmt: skip

    [mail] = mails_to(email)
    password = temporary_password(mail)
    assert "You have been invited to M5 Monitor for OBS Het Anker." in mail
    assert email in mail
    assert "/staff/login" in mail
    assert len(password) >= 12
    assert School.get("obs-het-anker").groups == []
