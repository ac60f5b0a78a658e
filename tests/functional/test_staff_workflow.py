"""Case handling as the rules of DOMAIN.md state it.

Coordinators and deputies handle cases; a teacher adds observations to reports of
their own groups; leadership reads every report and changes none; an
administrator sees no report content. Every change is one transaction guarded
by the report's version, and every view and change lands in an append-only
audit trail.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import app
from chalicelib import auth, casework, sessions
from chalicelib.access import StaffContext
from chalicelib.audit import school_trail
from chalicelib.errors import Conflict
from chalicelib.models import AuditEvent, Pupil, Report, StaffMember
from chalicelib.weeks import local_today, now_utc

from .staff_fixtures import (
    OTHER_SCHOOL,
    SCHOOL,
    StaffWorld,
    audit_actions,
    case_events,
    html,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

REPO = Path(__file__).resolve().parents[2]
CASE_POSTS = sorted(
    path.rsplit("/", 1)[1]
    for path, methods in app.routes.items()
    if path.startswith("/staff/reports/{report_id}/") and "POST" in methods
)
TODAY = local_today().isoformat()


@pytest.fixture(scope="module")
def world(staff_world: StaffWorld) -> StaffWorld:
    for number, group in enumerate(("g-3", "g-5", "g-5", "g-6"), start=1):
        staff_world.enrol(SCHOOL, group, f"60000{number}")
    return staff_world


@pytest.fixture(scope="module")
def coordinator(world):
    return world.sign_in("coordinator")


def _path(report: Report, action: str = "") -> str:
    return f"/staff/reports/{report.report_id}" + (f"/{action}" if action else "")


def _fresh(report: Report) -> Report:
    return Report.get(report.school_id, report.report_id)


def _kinds(report: Report) -> list[str]:
    return [event.kind for event in case_events(report)]


# -- Closing ------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason", ["", "because", None], ids=["empty", "unknown", "none"]
)
def test_closing_a_case_needs_a_reason(world, coordinator, reason):
    report = world.report()
    form = {"status": "closed"} | ({} if reason is None else {"reason": reason})

    response = coordinator.post(_path(report, "status"), form)

    assert response.status_code == 422
    assert 'id="action-error"' in html(response)
    assert _fresh(report).status == "new"
    assert "status" not in _kinds(report)


def test_closing_with_a_reason_records_it(world, coordinator):
    report = world.report()

    response = coordinator.post(
        _path(report, "status"), {"status": "closed", "reason": "solved_together"}
    )

    assert response.status_code == 303
    stored = _fresh(report)
    assert (stored.status, stored.closed_reason) == ("closed", "solved_together")
    [event] = case_events(report)
    assert event.data.as_dict() == {
        "from": "new",
        "to": "closed",
        "reason": "solved_together",
    }


def test_reopening_a_case_forgets_the_close_reason(world, coordinator):
    report = world.report()
    coordinator.post(_path(report, "status"), {"status": "closed", "reason": "stopped"})

    coordinator.post(_path(report, "status"), {"status": "in_progress"})

    assert (_fresh(report).status, _fresh(report).closed_reason) == (
        "in_progress",
        None,
    )


def test_unknown_status_is_refused(world, coordinator):
    report = world.report()

    response = coordinator.post(_path(report, "status"), {"status": "archived"})

    assert response.status_code == 422
    assert _fresh(report).status == "new"


# -- Teachers -----------------------------------------------------------------


def test_teacher_adds_observation_to_report_of_own_group(world):
    report = world.report(SCHOOL, "g-5")
    teacher = world.sign_in("teacher")
    text = world.fake.sentence()

    response = teacher.post(_path(report, "observations"), {"text": text})

    assert response.status_code == 303
    [event] = case_events(report)
    assert (event.kind, event.text, event.actor) == (
        "observation",
        text,
        "staff-leerkracht",
    )
    assert text in html(teacher.get(_path(report)))


def test_teacher_cannot_observe_report_of_another_group(world):
    report = world.report(SCHOOL, "g-3")
    teacher = world.sign_in("teacher")

    response = teacher.post(_path(report, "observations"), {"text": "Gezien."})

    assert response.status_code == 404
    assert case_events(report) == []


@pytest.mark.parametrize("action", [a for a in CASE_POSTS if a != "observations"])
def test_teacher_cannot_handle_report_of_own_group(world, action):
    report = world.report(SCHOOL, "g-5")
    teacher = world.sign_in("teacher")

    response = teacher.post(
        _path(report, action), {"status": "closed", "reason": "stopped", "text": "x"}
    )

    assert response.status_code == 404
    assert case_events(report) == []
    assert _fresh(report).version == report.version


def test_teacher_does_not_see_internal_notes_or_messages(world, coordinator):
    report = world.report(SCHOOL, "g-5")
    note, message = world.fake.sentence(), world.fake.sentence()
    coordinator.post(_path(report, "notes"), {"text": note})
    coordinator.post(_path(report, "messages"), {"text": message})
    teacher = world.sign_in("teacher")

    page = html(teacher.get(_path(report)))

    assert report.description in page
    assert note not in page
    assert message not in page


def test_teacher_does_not_see_the_reporters_contact_details(world):
    report = world.report(SCHOOL, "g-5")
    teacher = world.sign_in("teacher")

    page = html(teacher.get(_path(report)))

    assert report.contact.email not in page
    assert report.contact.name not in page


# -- Leadership and administrators -------------------------------------------


@pytest.mark.parametrize("action", CASE_POSTS)
def test_leadership_reads_every_report_but_changes_none(world, action):
    report = world.report(SCHOOL, "g-3")
    leadership = world.sign_in("leadership")

    read = leadership.get(_path(report))
    changed = leadership.post(
        _path(report, action),
        {"status": "in_progress", "text": "x", "staff_id": "staff-coordinator"},
    )

    assert read.status_code == 200
    assert report.description in html(read)
    assert changed.status_code == 404
    assert case_events(report) == []
    assert _fresh(report).version == report.version


def test_administrator_sees_no_report_content(world):
    report = world.report(SCHOOL, "g-5")
    administrator = world.sign_in("administrator")

    listing = administrator.get("/staff/")
    detail = administrator.get(_path(report))
    trail = administrator.get(_path(report, "audit"))
    pupil = administrator.get("/staff/pupils/600002")

    assert listing.status_code == 200
    assert "Beheer" in html(listing) or "Administration" in html(listing)
    assert report.report_id not in html(listing)
    assert [detail.status_code, trail.status_code, pupil.status_code] == [404] * 3
    for response in (listing, detail, trail, pupil):
        assert report.description not in html(response)


# -- Concurrent changes -------------------------------------------------------


def _context(member: StaffMember) -> StaffContext:
    session = sessions.new_session(member.email, "subject").for_school(
        member.school_id, member.staff_id
    )
    return StaffContext(member, session, auth.Identity("subject", "user", "jti", 0))


def test_concurrent_edit_one_wins_the_other_gets_a_conflict(world):
    report = world.report()
    context = _context(StaffMember.get(SCHOOL, "staff-coordinator"))
    seen_by_one, seen_by_other = _fresh(report), _fresh(report)
    casework.apply(
        context, seen_by_one, casework.set_status(seen_by_one, "in_progress", None)
    )

    with pytest.raises(Conflict):
        casework.apply(context, seen_by_other, casework.note("Ouders gebeld."))

    assert _kinds(report) == ["status"]
    assert audit_actions(report) == ["status"]
    assert _fresh(report).status == "in_progress"


@pytest.fixture
def competing_edit(world) -> Iterator[dict[str, Any]]:
    """Just before the next case transaction, a colleague changes the same case."""
    client = Report._get_connection().connection.client
    state: dict[str, Any] = {"report": None, "done": False}

    def colleague_first(**_: Any) -> None:
        if state["report"] is not None and not state["done"]:
            state["done"] = True
            _fresh(state["report"]).update(
                actions=[Report.last_activity_at.set(now_utc())]
            )

    client.meta.events.register(
        "before-call.dynamodb.TransactWriteItems", colleague_first
    )
    yield state
    client.meta.events.unregister(
        "before-call.dynamodb.TransactWriteItems", colleague_first
    )


def test_case_changed_meanwhile_answers_conflict_and_stores_nothing(
    world, coordinator, competing_edit
):
    report = world.report()
    competing_edit["report"] = report

    response = coordinator.post(_path(report, "notes"), {"text": "Mijn notitie."})

    assert competing_edit["done"]
    assert response.status_code == 409
    assert 'id="action-error"' in html(response)
    assert case_events(report) == []
    assert "note" not in audit_actions(report)


# -- Pupils, merging and linking ---------------------------------------------


def test_linking_a_pupil_brings_the_report_to_that_groups_teacher(world, coordinator):
    report = world.report(SCHOOL, "g-3")  # the reporter named group 3 ...
    teacher = world.sign_in("teacher")  # ... the teacher of group 5 sees nothing yet
    assert teacher.get(_path(report)).status_code == 404

    linked = coordinator.post(
        _path(report, "pupils"),
        {"person": "0", "pupil_id": "600002"},  # in group 5
    )
    detail = teacher.get(_path(report))
    listing = teacher.get("/staff/")

    assert linked.status_code == 303
    assert sorted(_fresh(report).groups) == ["g-3", "g-5"]
    assert _fresh(report).persons[0].pupil_id == "600002"
    assert detail.status_code == 200
    assert report.report_id in html(listing)
    history = html(coordinator.get("/staff/pupils/600002"))
    assert report.report_id in history


def test_pupil_of_another_school_cannot_be_linked(world, coordinator):
    other_group = world.schools[OTHER_SCHOOL].groups[0].id
    world.enrol(OTHER_SCHOOL, other_group, "880001")
    report = world.report()

    response = coordinator.post(
        _path(report, "pupils"), {"person": "0", "pupil_id": "880001"}
    )

    assert response.status_code == 422
    assert _fresh(report).persons[0].pupil_id is None


def test_merge_keeps_the_original_and_points_to_the_case(world, coordinator):
    duplicate, case = world.report(), world.report()

    response = coordinator.post(_path(duplicate, "merge"), {"target": case.report_id})

    assert response.status_code == 303
    kept = _fresh(duplicate)
    assert kept.description == duplicate.description
    assert kept.persons[0].name == duplicate.persons[0].name
    assert kept.merged_into == case.report_id
    assert (kept.status, kept.closed_reason) == ("closed", "duplicate")
    assert duplicate.report_id in _fresh(case).linked_reports
    assert coordinator.get(_path(duplicate)).status_code == 200
    assert case.report_id in html(coordinator.get(_path(duplicate)))


@pytest.mark.parametrize("target", ["itself", "other_school", "merged", "unknown"])
def test_merge_into_an_impossible_case_is_refused(world, coordinator, target):
    report = world.report()
    merged = world.report()
    coordinator.post(_path(merged, "merge"), {"target": world.report().report_id})
    targets = {
        "itself": report.report_id,
        "other_school": world.report(
            OTHER_SCHOOL, world.schools[OTHER_SCHOOL].groups[0].id
        ).report_id,
        "merged": merged.report_id,
        "unknown": "20200101000000000000-00000000",
    }

    response = coordinator.post(_path(report, "merge"), {"target": targets[target]})

    assert response.status_code == 422
    assert _fresh(report).merged_into is None
    assert case_events(report) == []


def test_effect_of_another_reports_intervention_is_refused(world, coordinator):
    report, other = world.report(), world.report()
    coordinator.post(_path(other, "interventions"), {"kind": "talk_hurt", "on": TODAY})
    [intervention] = case_events(other)

    response = coordinator.post(
        _path(report, "effects"),
        {"intervention": intervention.event_id, "effect": "stopped"},
    )

    assert response.status_code == 422
    assert case_events(report) == []


@pytest.mark.parametrize(
    "staff_id",
    ["staff-directie", "staff-beheer", "staff-nobody"],
    ids=["leadership", "administrator", "unknown"],
)
def test_case_can_be_assigned_only_to_a_handler_or_teacher_of_the_school(
    world, coordinator, staff_id
):
    report = world.report()

    response = coordinator.post(_path(report, "assign"), {"staff_id": staff_id})

    assert response.status_code == 422
    assert _fresh(report).assigned_to is None


def test_case_page_reads_each_groups_roster_once(world, coordinator):
    fake = world.fake
    persons = [
        {"role": role, "name": fake.first_name(), "group": "g-5"}
        for role in ("hurt", "did_it") * 5
    ]
    report = world.report(SCHOOL, "g-5", persons=persons)
    client = Pupil._get_connection().connection.client
    queries: list[str] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        queries.append(params.get("IndexName", ""))

    client.meta.events.register("provide-client-params.dynamodb.Query", count)
    try:
        response = coordinator.get(_path(report))
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.Query", count)

    assert response.status_code == 200
    assert queries.count("by-group") == 1


# -- Audit trail --------------------------------------------------------------


def test_every_view_and_change_is_in_the_audit_trail(world, coordinator):
    report, other = world.report(SCHOOL, "g-5"), world.report()
    teacher = world.sign_in("teacher")
    steps = [
        (coordinator, "", None, "view_report"),
        (coordinator, "status", {"status": "in_progress"}, "status"),
        (coordinator, "assign", {"staff_id": "staff-ib"}, "assign"),
        (coordinator, "notes", {"text": "Notitie."}, "note"),
        (teacher, "observations", {"text": "Gezien."}, "observation"),
        (teacher, "", None, "view_report"),
        (coordinator, "messages", {"text": "Bericht."}, "message_out"),
        (
            coordinator,
            "interventions",
            {"kind": "talk_hurt", "on": TODAY},
            "intervention",
        ),
        (coordinator, "pupils", {"person": "0", "pupil_id": "600002"}, "link_pupil"),
        (coordinator, "links", {"other": other.report_id}, "linked"),
        (coordinator, "merge", {"target": other.report_id}, "merged"),
        (coordinator, "audit", None, "view_audit"),
    ]
    for browser, action, form, _ in steps:
        if form is None:
            assert browser.get(_path(report, action)).status_code == 200
        else:
            assert browser.post(_path(report, action), form).status_code == 303
    [intervention] = [e for e in case_events(report) if e.kind == "intervention"]
    coordinator.post(
        _path(report, "effects"),
        {"intervention": intervention.event_id, "effect": "less"},
    )

    entries = list(AuditEvent.query(f"{SCHOOL}#report#{report.report_id}"))

    assert [e.action for e in entries] == [step[3] for step in steps] + ["effect"]
    assert {(e.actor, e.actor_role) for e in entries} == {
        ("staff-coordinator", "coordinator"),
        ("staff-leerkracht", "teacher"),
    }
    changes = {e.detail.as_dict()["event_id"] for e in entries if e.detail}
    assert changes == {e.event_id for e in case_events(report)}


def test_pupil_history_sign_in_and_sign_out_are_in_the_school_trail(world):
    world.sign_in("deputy")  # a first sign-in sets up the authenticator app
    before = len(list(AuditEvent.query(school_trail(SCHOOL))))
    deputy = world.sign_in("deputy")
    deputy.get("/staff/pupils/600001")
    deputy.post("/staff/logout")
    failed = world.browser().post(
        "/staff/login",
        {"email": world.member("deputy").email, "password": "Fout-wachtwoord-1"},
        csrf=False,
    )

    entries = list(AuditEvent.query(school_trail(SCHOOL)))[before:]

    assert failed.status_code == 401
    assert [(e.action, e.actor) for e in entries] == [
        ("sign_in", "staff-ib"),
        ("view_pupil_history", "staff-ib"),
        ("sign_out", "staff-ib"),
        ("sign_in_failed", "staff-ib"),
    ]
    assert entries[1].detail.as_dict() == {"pupil_id": "600001"}


def test_reporter_reads_and_messages_are_in_the_audit_trail(world):
    report = world.report()
    code = world.receipts[report.report_id]
    json_headers = {"Content-Type": "application/json"}

    world.http.post(
        f"/schools/{SCHOOL}/status",
        headers=json_headers,
        body=f'{{"receipt_code": "{code}"}}'.encode(),
    )
    world.http.post(
        f"/schools/{SCHOOL}/messages",
        headers=json_headers,
        body=f'{{"receipt_code": "{code}", "text": "Het is weer gebeurd."}}'.encode(),
    )

    entries = list(AuditEvent.query(f"{SCHOOL}#report#{report.report_id}"))
    # Sending a message answers with the status, which is a read of its own.
    assert [(e.action, e.actor, e.actor_role) for e in entries] == [
        ("reporter_read_status", None, "reporter"),
        ("reporter_message", None, "reporter"),
        ("reporter_read_status", None, "reporter"),
    ]


def _sources() -> list[Path]:
    return [*sorted((REPO / "chalicelib").glob("*.py")), REPO / "app.py"]


def _audit_names(tree: ast.AST) -> set[str]:
    """Names bound to audit entries: AuditEvent(...), new_entry(...), record(...)."""
    producers = {"AuditEvent", "new_entry", "record", "trail_of"}
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            called = (
                func.attr
                if isinstance(func, ast.Attribute)
                else getattr(func, "id", "")
            )
            if called in producers:
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        if (
            isinstance(node, ast.For)
            and isinstance(node.target, ast.Name)
            and (
                "AuditEvent" in ast.unparse(node.iter)
                or "trail_of" in ast.unparse(node.iter)
            )
        ):
            names.add(node.target.id)
    return names


def _offences(text: str, name: str) -> list[str]:
    """Calls in a module's source that would change or remove an audit entry."""
    tree = ast.parse(text)
    entries = _audit_names(tree) | {"AuditEvent"}
    offences = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver = ast.unparse(node.func.value).split(".")[0]
        first_argument = ast.unparse(node.args[0]).split(".")[0] if node.args else ""
        method = node.func.attr
        on_entry = method in {"delete", "update", "batch_write"} and receiver in entries
        # tx.delete(entry) / tx.update(entry, ...) inside a transaction.
        in_transaction = method in {"delete", "update"} and first_argument in entries
        if on_entry or in_transaction:
            offences.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    # Update actions on audit attributes, e.g. AuditEvent.action.set(...).
    offences += [
        f"{name}: {m.group(0)}"
        for m in re.finditer(r"AuditEvent\.\w+\.(set|remove|add|delete)\(", text)
    ]
    return offences


@pytest.mark.parametrize(
    "source",
    [
        "entry = audit.record(t, 'x', None, None)\nentry.delete()",
        "entry = new_entry(t, 'x', None, None)\nentry.update(actions=[])",
        "for old in AuditEvent.query(t):\n    old.delete()",
        "with TransactWrite() as tx:\n    tx.delete(entry)\nentry = AuditEvent(t)",
        "AuditEvent(t, e).update(actions=[AuditEvent.action.set('y')])",
        "with AuditEvent.batch_write() as batch:\n    batch.delete(x)",
    ],
    ids=["record-delete", "entry-update", "query-delete", "tx-delete", "set", "batch"],
)
def test_audit_code_check_catches_changes(source):
    assert _offences(source, "sample.py")


def test_audit_entries_are_never_updated_or_deleted_in_the_code():
    offences = [
        offence
        for source in _sources()
        for offence in _offences(source.read_text(encoding="utf-8"), source.name)
    ]

    assert offences == []


def test_audit_module_offers_only_adding_and_reading():
    tree = ast.parse((REPO / "chalicelib" / "audit.py").read_text(encoding="utf-8"))

    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}

    assert functions == {
        "report_trail",
        "school_trail",
        "new_entry",
        "record",
        "trail_of",
    }


def test_oversized_form_is_refused_as_too_large_and_stores_nothing(world, coordinator):
    report = world.report()

    response = coordinator.post(_path(report, "notes"), {"text": "x" * 40_000})

    assert response.status_code == 413
    assert case_events(report) == []
    assert coordinator.get("/staff/").status_code == 200
