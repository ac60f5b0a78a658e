"""A pupil's AVG rights and the legal hold, through the staff pages.

The coordinator sets and lifts a legal hold on a case, exports everything stored
about one pupil (never another pupil or the reporter) and erases a pupil's data
on request; a held case keeps them and is listed. Each leaves ids, never names,
in the audit trail, and the weekly counters stay exact.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib import audit, retention
from chalicelib.cases import case_key
from chalicelib.models import (
    AuditEvent,
    CaseEvent,
    Pupil,
    Report,
    ReportIndex,
    School,
    StaffMember,
)
from chalicelib.weeks import now_utc
from local.seed import DEMO_PASSWORD
from tests.functional.test_aggregates import _recount, _stored

from .staff_fixtures import SCHOOL, StaffWorld, add_login, audit_actions, html

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")


@pytest.fixture(scope="module")
def coordinator(staff_world: StaffWorld):
    return staff_world.sign_in("coordinator")


def _fresh(report: Report) -> Report:
    return Report.get(report.school_id, report.report_id)


def _school_entries(action: str) -> list[AuditEvent]:
    trail = audit.school_trail(SCHOOL)
    return [e for e in AuditEvent.query(trail) if e.action == action]


def _case(world: StaffWorld, coordinator, hurt: Pupil, did_it: Pupil) -> Report:
    """A report naming two pupils of the roster, both linked by the coordinator,
    with the reporter's name in the description and a note naming both."""
    contact_name = world.fake.name()
    report = world.report(
        SCHOOL,
        "g-5",
        contact={
            "name": contact_name,
            "email": world.fake.email(domain="ouders.example"),
            "phone": "06-12345678",
        },
        persons=[
            {"role": "hurt", "name": hurt.first_name, "group": "g-5"},
            {
                "role": "did_it",
                "name": f"{did_it.first_name} {did_it.last_name}",
                "group": "g-5",
            },
        ],
        description=(
            f"{did_it.first_name} {did_it.last_name} duwt {hurt.first_name} "
            f"elke pauze. Groet, {contact_name}."
        ),
        witnesses=world.fake.name(),
    )
    for index, pupil in enumerate((hurt, did_it)):
        linked = coordinator.post(
            f"/staff/reports/{report.report_id}/pupils",
            {"person": str(index), "pupil_id": pupil.pupil_id},
        )
        assert linked.status_code == 303
    note = f"Gesprek met {hurt.first_name} en met {did_it.first_name} gevoerd."
    assert (
        coordinator.post(f"/staff/reports/{report.report_id}/notes", {"text": note})
    ).status_code == 303
    return _fresh(report)


def _pupils(world: StaffWorld, first: str) -> tuple[Pupil, Pupil]:
    return world.enrol(SCHOOL, "g-5", f"{first}1"), world.enrol(
        SCHOOL, "g-5", f"{first}2"
    )


# -- Legal hold -----------------------------------------------------------------


def test_coordinator_sets_a_legal_hold_with_its_reason(staff_world, coordinator):
    report = staff_world.report(SCHOOL, "g-5")

    response = coordinator.post(
        f"/staff/reports/{report.report_id}/legal-hold",
        {"hold": "set", "reason": "Vordering politie, zaak 2026-114"},
    )
    page = html(coordinator.get(f"/staff/reports/{report.report_id}"))

    assert response.status_code == 303
    assert _fresh(report).legal_hold == "Vordering politie, zaak 2026-114"
    assert "Vordering politie, zaak 2026-114" in page
    assert "legal_hold" in audit_actions(report)
    [entry] = [
        e
        for e in _school_entries("legal_hold")
        if e.detail.as_dict()["report_id"] == report.report_id
    ]
    assert entry.actor == "staff-coordinator"


def test_legal_hold_needs_a_reason(staff_world, coordinator):
    report = staff_world.report(SCHOOL, "g-5")

    response = coordinator.post(
        f"/staff/reports/{report.report_id}/legal-hold", {"hold": "set", "reason": " "}
    )

    assert response.status_code == 422
    assert _fresh(report).legal_hold is None


@pytest.mark.parametrize("role", ["deputy", "leadership", "teacher"])
def test_only_the_coordinator_sets_a_legal_hold(staff_world, role):
    report = staff_world.report(SCHOOL, "g-5")
    browser = staff_world.sign_in(role)

    response = browser.post(
        f"/staff/reports/{report.report_id}/legal-hold",
        {"hold": "set", "reason": "Rechtszaak"},
    )

    assert response.status_code == 404
    assert _fresh(report).legal_hold is None


def test_retention_passes_a_held_case_by_until_the_hold_is_lifted(
    staff_world, coordinator
):
    report = staff_world.report(SCHOOL, "g-5")
    path = f"/staff/reports/{report.report_id}/legal-hold"
    coordinator.post(path, {"hold": "set", "reason": "Rechtszaak"})
    school = School.get(SCHOOL)
    later = now_utc() + timedelta(days=3 * 366)

    held = retention.run_school(school, now=later)
    lifted = coordinator.post(path, {"hold": "lift"})
    after = retention.run_school(school, now=later)

    assert report.report_id not in held.expired
    assert lifted.status_code == 303
    assert report.report_id in after.anonymised
    assert _fresh(report).description == ""
    assert _stored(SCHOOL) == _recount(SCHOOL)


# -- Subject access ---------------------------------------------------------------


def test_export_holds_the_pupils_reports_and_no_one_else(staff_world, coordinator):
    pupil, other = _pupils(staff_world, "71000")
    report = _case(staff_world, coordinator, pupil, other)

    response = coordinator.get(f"/staff/pupils/{pupil.pupil_id}/export")

    body = html(response)
    data = json.loads(body)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert data["pupil"]["first_name"] == pupil.first_name
    assert data["pupil"]["last_name"] == pupil.last_name
    assert [r["report_id"] for r in data["reports"]] == [report.report_id]
    assert pupil.first_name in data["reports"][0]["description"]
    for hidden in (
        other.first_name,
        other.last_name,
        *(part for part in report.contact.name.split() if not part.islower()),
        report.contact.email,
        "12345678",
        report.witnesses,
    ):
        assert hidden not in body
    [entry] = [
        e
        for e in _school_entries("export_pupil")
        if e.detail.as_dict()["pupil_id"] == pupil.pupil_id
    ]
    assert entry.actor == "staff-coordinator"


@pytest.mark.parametrize("role", ["deputy", "leadership", "teacher", "administrator"])
def test_only_the_coordinator_exports_a_pupil(staff_world, coordinator, role):
    pupil, other = _pupils(staff_world, f"72{len(role)}0")
    _case(staff_world, coordinator, pupil, other)

    response = staff_world.sign_in(role).get(f"/staff/pupils/{pupil.pupil_id}/export")

    assert response.status_code == 404
    assert pupil.last_name not in html(response)


# -- Erasure ----------------------------------------------------------------------


def _erase(coordinator, pupil: Pupil, confirm: str = "yes"):
    return coordinator.post(
        f"/staff/pupils/{pupil.pupil_id}/erase", {"confirm": confirm}
    )


def test_erasure_removes_the_pupil_from_every_report_and_the_roster(
    staff_world, coordinator
):
    pupil, other = _pupils(staff_world, "73000")
    first = _case(staff_world, coordinator, pupil, other)
    second = _case(staff_world, coordinator, pupil, other)

    response = _erase(coordinator, pupil)

    assert response.status_code == 303
    for report in (first, second):
        stored = _fresh(report)
        assert [p.pupil_id for p in stored.persons] == [None, other.pupil_id]
        assert stored.persons[0].name == ""
        assert pupil.first_name not in stored.description
        assert other.first_name in stored.description
        texts = [
            e.text or "" for e in CaseEvent.query(case_key(SCHOOL, report.report_id))
        ]
        assert not any(pupil.first_name in text for text in texts)
        assert all(
            (e.data.as_dict() if e.data else {}).get("pupil_id") != pupil.pupil_id
            for e in CaseEvent.query(case_key(SCHOOL, report.report_id))
        )
        assert "pupil_erased" in audit_actions(report)
    assert list(ReportIndex.query(f"{SCHOOL}#pupil#{pupil.pupil_id}")) == []
    erased = Pupil.get(SCHOOL, pupil.pupil_id)
    assert erased.erased_at is not None
    assert pupil.last_name not in (erased.first_name, erased.last_name)
    [entry] = [
        e
        for e in _school_entries("erase_pupil")
        if e.detail.as_dict()["pupil_id"] == pupil.pupil_id
    ]
    assert pupil.first_name not in str(entry.detail.as_dict())
    assert _stored(SCHOOL) == _recount(SCHOOL)


def test_erasure_skips_a_held_case_and_lists_it(staff_world, coordinator):
    pupil, other = _pupils(staff_world, "74000")
    free = _case(staff_world, coordinator, pupil, other)
    held = _case(staff_world, coordinator, pupil, other)
    coordinator.post(
        f"/staff/reports/{held.report_id}/legal-hold",
        {"hold": "set", "reason": "Onderzoek Veilig Thuis"},
    )

    _erase(coordinator, pupil)
    page = html(coordinator.get(f"/staff/pupils/{pupil.pupil_id}"))

    assert _fresh(free).persons[0].pupil_id is None
    kept = _fresh(held)
    assert kept.persons[0].pupil_id == pupil.pupil_id
    assert kept.description == held.description
    assert held.report_id in page and "Onderzoek Veilig Thuis" in page
    assert Pupil.get(SCHOOL, pupil.pupil_id).last_name == pupil.last_name
    assert _stored(SCHOOL) == _recount(SCHOOL)


def test_erasure_needs_the_confirmation(staff_world, coordinator):
    pupil, other = _pupils(staff_world, "75000")
    report = _case(staff_world, coordinator, pupil, other)

    response = _erase(coordinator, pupil, confirm="")

    assert response.status_code == 303
    assert _fresh(report).persons[0].pupil_id == pupil.pupil_id
    assert Pupil.get(SCHOOL, pupil.pupil_id).erased_at is None


@pytest.mark.parametrize("role", ["deputy", "leadership", "teacher"])
def test_only_the_coordinator_erases_a_pupil(staff_world, coordinator, role):
    pupil, other = _pupils(staff_world, f"76{len(role)}0")
    report = _case(staff_world, coordinator, pupil, other)

    response = _erase(staff_world.sign_in(role), pupil)

    assert response.status_code == 404
    assert _fresh(report).persons[0].pupil_id == pupil.pupil_id


# -- The data protection officer ----------------------------------------------------


@pytest.fixture(scope="module")
def privacy_officer(staff_world: StaffWorld):
    """The school's data protection officer, invited as staff with only that role."""
    email = staff_world.fake.unique.email(domain="m5monitor.example")
    StaffMember(
        SCHOOL,
        "staff-fg",
        email=email,
        name=staff_world.fake.name(),
        roles=["privacy_officer"],
    ).save()
    add_login(staff_world.pool_id, email)
    browser = staff_world.browser()
    response = staff_world.second_step(
        browser,
        email,
        browser.post(
            "/staff/login", {"email": email, "password": DEMO_PASSWORD}, csrf=False
        ),
    )
    assert response.status_code == 303
    return browser


def test_privacy_officer_reads_the_trails_and_no_report(
    staff_world, coordinator, privacy_officer
):
    pupil, other = _pupils(staff_world, "77000")
    report = _case(staff_world, coordinator, pupil, other)
    _erase(coordinator, pupil)

    home = privacy_officer.get("/staff/")
    school_trail = privacy_officer.get("/staff/audit")
    case_trail = privacy_officer.get(f"/staff/reports/{report.report_id}/audit")
    refused = [
        privacy_officer.get(path)
        for path in (
            f"/staff/reports/{report.report_id}",
            f"/staff/pupils/{other.pupil_id}",
            f"/staff/pupils/{other.pupil_id}/export",
            "/staff/insights",
        )
    ]

    assert home.headers["Location"] == "/staff/audit"
    assert school_trail.status_code == 200
    assert pupil.pupil_id in html(school_trail)
    assert case_trail.status_code == 200
    assert report.report_id in html(case_trail)
    for page in (school_trail, case_trail):
        assert report.description not in html(page)
        assert other.last_name not in html(page)
    assert [r.status_code for r in refused] == [404, 404, 404, 404]
    assert "view_audit" in audit_actions(report)


@pytest.mark.parametrize("role", ["deputy", "leadership", "teacher", "administrator"])
def test_school_trail_is_for_the_coordinator_and_privacy_officer(staff_world, role):
    response = staff_world.sign_in(role).get("/staff/audit")

    assert response.status_code == 404
