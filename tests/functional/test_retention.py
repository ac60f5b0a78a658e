"""The retention job: a case's personal data go the school's retention period
after its last activity; the anonymous remainder stays counted; a legal hold
keeps the case; the job may stop anywhere or run twice at once.

Reports are stored as intake stores them (receipt and intake pointers, counters),
backdated where the test needs a case that expired; the job's `now` is moved
forward where every case should have expired.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from botocore.client import BaseClient
from faker import Faker

from app import retention_job
from benchmarks.dynamo_meter import metered
from chalicelib import audit, auth, casework, followup, retention, sessions
from chalicelib.access import StaffContext
from chalicelib.cases import case_key
from chalicelib.models import (
    AuditEvent,
    CaseEvent,
    Pupil,
    ReplyAlert,
    Report,
    ReportIndex,
    School,
    StaffMember,
)
from chalicelib.reports import expiry_scope, store_report
from chalicelib.validation import validate_report
from chalicelib.weeks import now_utc
from infra import onboarding, ops
from tests.functional.helpers import SCHOOL, new_key, valid_report
from tests.functional.test_aggregates import _recount, _stored

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

LATER = timedelta(days=3 * 366)  # past the default two years, leap days included


class Killed(Exception):
    """The Lambda ended mid-run (a timeout): nothing in the job catches this."""


@pytest.fixture
def school(demo_schools: Any) -> School:
    return School.get(SCHOOL)


@pytest.fixture
def coordinator(demo_schools: Any) -> StaffContext:
    member = StaffMember.get(SCHOOL, "staff-coordinator")
    session = sessions.new_session(member.email, "subject").for_school(
        SCHOOL, member.staff_id
    )
    return StaffContext(member, session, auth.Identity("subject", "user", "jti", 0))


def _store(school: School, fake: Faker, received: Any = None) -> Report:
    answers = validate_report(valid_report(fake), school)
    return store_report(school, new_key(), answers, received=received)


def _handled(school: School, fake: Faker, context: StaffContext) -> Report:
    """A case with everything retention must remove: contact, names, a linked
    pupil, notes, a message from the reporter and a reply address."""
    report = _store(school, fake)
    pupil = Pupil(
        SCHOOL,
        fake.unique.numerify("6#####"),
        first_name=fake.first_name(),
        last_name=fake.last_name(),
        group="g-5",
        school_group=f"{SCHOOL}#g-5",
    )
    pupil.save()
    casework.apply(context, report, casework.link_pupil(report, 0, pupil.pupil_id))
    report.refresh()
    casework.apply(context, report, casework.note(fake.sentence()))
    report.refresh()
    followup.add_message(school, report, fake.sentence())
    followup.set_reply_alert(report, fake.email())
    return Report.get(SCHOOL, report.report_id)


def _pointers(report: Report) -> list[ReportIndex]:
    """Every pointer to the report except its groups' (those stay)."""
    scopes = [
        f"{SCHOOL}#receipt#{report.receipt_hash}",
        f"{SCHOOL}#intake#{report.intake_hash}",
        *(f"{SCHOOL}#pupil#{p.pupil_id}" for p in report.persons if p.pupil_id),
    ]
    found = [p for scope in scopes for p in ReportIndex.query(scope)]
    found += [
        p
        for p in ReportIndex.query(expiry_scope(SCHOOL))
        if p.report_id == report.report_id
    ]
    return found


def _school_entries(action: str) -> list[AuditEvent]:
    return [
        e for e in AuditEvent.query(audit.school_trail(SCHOOL)) if e.action == action
    ]


def _anonymised_events(report: Report) -> list[CaseEvent]:
    key = case_key(SCHOOL, report.report_id)
    return [e for e in CaseEvent.query(key) if e.kind == "anonymised"]


def test_expired_case_loses_its_personal_data_and_keeps_its_counts(
    school, coordinator, fake
):
    report = _handled(school, fake, coordinator)
    assert len(_pointers(report)) == 4  # receipt, intake, pupil, expiry

    outcome = retention.run_school(school, now=now_utc() + LATER)

    stored = Report.get(SCHOOL, report.report_id)
    assert outcome.anonymised == [report.report_id]
    assert stored.anonymised_at is not None
    assert stored.description == ""
    assert stored.contact is None and stored.persons == []
    assert stored.categories == report.categories
    assert stored.groups == report.groups
    assert all(
        e.text is None for e in CaseEvent.query(case_key(SCHOOL, report.report_id))
    )
    assert _pointers(report) == []
    with pytest.raises(ReplyAlert.DoesNotExist):
        ReplyAlert.get(SCHOOL, report.report_id)
    assert _stored(SCHOOL) == _recount(SCHOOL)


def test_removal_is_in_the_school_trail_without_content(school, coordinator, fake):
    report = _handled(school, fake, coordinator)

    retention.run_school(school, now=now_utc() + LATER)

    [entry] = _school_entries("anonymised")
    assert (entry.actor, entry.actor_role) == ("retention-job", "system")
    detail = entry.detail.as_dict()
    assert detail["report_id"] == report.report_id
    assert detail["reason"] == "retention"
    assert report.description not in str(detail)
    assert report.contact.email not in str(detail)


def test_case_within_its_period_is_kept(school, coordinator, fake):
    recent = _store(school, fake)
    handled_long_ago = _store(school, fake, received=now_utc() - LATER)
    casework.apply(coordinator, handled_long_ago, casework.note(fake.sentence()))

    outcome = retention.run_school(school)

    assert outcome.expired == []
    for report in (recent, handled_long_ago):
        assert Report.get(SCHOOL, report.report_id).description == report.description


def test_closed_case_expires_its_retention_years_after_closing(
    school, coordinator, fake
):
    report = _store(school, fake, received=now_utc() - 2 * LATER)
    casework.apply(
        coordinator, report, casework.set_status(report, "closed", "stopped")
    )
    school.update(actions=[School.retention_years.set(5)])

    after_four_years = retention.run_school(school, now=now_utc() + 4 * LATER / 3)
    after_six_years = retention.run_school(school, now=now_utc() + 2 * LATER)

    assert after_four_years.expired == []
    assert after_six_years.anonymised == [report.report_id]


def test_second_run_skips_what_the_first_anonymised(school, coordinator, fake):
    reports = [_handled(school, fake, coordinator) for _ in range(3)]
    later = now_utc() + LATER

    first = retention.run_school(school, now=later)
    with metered() as meter:
        second = retention.run_school(school, now=later)

    assert sorted(first.anonymised) == sorted(r.report_id for r in reports)
    assert second.expired == [] and second.anonymised == []
    assert meter.operations == {"Query": 1}
    assert all(len(_anonymised_events(r)) == 1 for r in reports)


def test_legal_hold_keeps_the_case_until_it_is_lifted(school, coordinator, fake):
    report = _handled(school, fake, coordinator)
    later = now_utc() + LATER
    casework.apply(coordinator, report, casework.legal_hold(report, "Politieonderzoek"))

    held = retention.run_school(school, now=later)
    kept = Report.get(SCHOOL, report.report_id)
    casework.apply(coordinator, kept, casework.legal_hold(kept, None))
    lifted = retention.run_school(school, now=later)

    assert held.expired == [] and kept.description == report.description
    assert kept.legal_hold == "Politieonderzoek"
    assert lifted.anonymised == [report.report_id]
    assert _stored(SCHOOL) == _recount(SCHOOL)


def test_hold_does_not_extend_retention(school, coordinator, fake):
    report = _store(school, fake, received=now_utc() - LATER)
    casework.apply(coordinator, report, casework.legal_hold(report, "Rechtszaak"))
    report.refresh()
    casework.apply(coordinator, report, casework.legal_hold(report, None))

    outcome = retention.run_school(school)

    assert outcome.anonymised == [report.report_id]


def test_dry_run_lists_and_changes_nothing(school, fake):
    report = _store(school, fake, received=now_utc() - LATER)

    outcome = retention.run_school(school, dry_run=True)

    assert outcome.expired == [report.report_id] and outcome.anonymised == []
    assert Report.get(SCHOOL, report.report_id).description == report.description


# -- Interrupted and restarted; two runs at once ---------------------------------


@pytest.fixture
def crash(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """End the run right after the n-th call of an operation went through
    ({"TransactWriteItems": 2}), as a Lambda timeout would."""
    plan: dict[str, int] = {}
    make_api_call = BaseClient._make_api_call

    def call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        result = make_api_call(client, operation, params)
        if operation in plan:
            plan[operation] -= 1
            if plan[operation] == 0:
                raise Killed(operation)
        return result

    monkeypatch.setattr(BaseClient, "_make_api_call", call)
    return plan


@pytest.mark.parametrize(
    "crash_at",
    [
        # (operation, its n-th call, cases done before the stop)
        ("UpdateItem", 1, 0),  # the first case's timeline half cleared
        ("DeleteItem", 1, 0),  # its reply address gone, not yet anonymised
        ("TransactWriteItems", 1, 1),  # anonymised, the message check not run
        ("TransactWriteItems", 2, 2),  # the second case done, the third not begun
    ],
    ids=["timeline", "reply-address", "after-transaction", "between-cases"],
)
def test_interrupted_run_is_completed_by_the_next(
    school, coordinator, fake, crash, crash_at
):
    operation, calls, done_before = crash_at
    reports = [_handled(school, fake, coordinator) for _ in range(3)]
    later = now_utc() + LATER
    crash[operation] = calls

    with pytest.raises(Killed):
        retention.run_school(school, now=later)
    crash.clear()
    again = retention.run_school(school, now=later)

    for report in reports:
        stored = Report.get(SCHOOL, report.report_id)
        assert stored.description == "" and stored.persons == []
        assert len(_anonymised_events(report)) == 1
        assert _pointers(report) == []
        key = case_key(SCHOOL, report.report_id)
        assert all(e.text is None for e in CaseEvent.query(key))
    assert len(again.anonymised) == 3 - done_before
    assert len(_school_entries("anonymised")) == 3
    assert _stored(SCHOOL) == _recount(SCHOOL)


@pytest.fixture
def side_by_side(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Once set: hold each thread's first transaction until the other thread
    reaches its own, so both runs have read the same cases before either writes.

    Requests are interleaved, each one whole: moto applies a request without a
    lock (a failed transaction even restores whole tables from a copy taken at
    its start), where DynamoDB makes every request atomic.
    """
    armed = threading.Event()
    barrier = threading.Barrier(2, timeout=20)
    one_request = threading.Lock()
    waited: set[int] = set()
    make_api_call = BaseClient._make_api_call

    def call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        thread = threading.get_ident()
        if (
            armed.is_set()
            and operation == "TransactWriteItems"
            and thread not in waited
        ):
            waited.add(thread)
            barrier.wait()
        with one_request:
            return make_api_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", call)
    return armed


def test_two_runs_at_once_anonymise_each_case_once(
    school, coordinator, fake, side_by_side
):
    reports = [_handled(school, fake, coordinator) for _ in range(4)]
    later = now_utc() + LATER
    outcomes: list[retention.Outcome] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            outcomes.append(retention.run_school(School.get(SCHOOL), now=later))
        except BaseException as failure:  # reported below, not lost in the thread
            failures.append(failure)

    threads = [threading.Thread(target=run) for _ in range(2)]
    side_by_side.set()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    done = [r for outcome in outcomes for r in outcome.anonymised]
    assert sorted(done) == sorted(r.report_id for r in reports)
    assert sum(outcome.skipped for outcome in outcomes) >= 1  # they did collide
    assert all(len(_anonymised_events(r)) == 1 for r in reports)
    assert len(_school_entries("anonymised")) == 4
    assert _stored(SCHOOL) == _recount(SCHOOL)


# -- Cost -------------------------------------------------------------------------


def test_run_reads_the_same_whatever_the_unexpired_and_anonymised_history(school, fake):
    def expired_batch() -> None:
        for _ in range(3):
            _store(school, fake, received=now_utc() - LATER)

    expired_batch()
    with metered() as small:
        first = retention.run_school(school)
    for _ in range(40):
        _store(
            school, fake, received=now_utc() - timedelta(days=fake.random_int(0, 700))
        )
    expired_batch()
    with metered() as large:
        second = retention.run_school(school)

    assert len(first.anonymised) == len(second.anonymised) == 3
    assert large.counts() == small.counts()
    assert large.scans == 0


# -- The scheduled function and the operator's command ----------------------------


def test_daily_job_covers_every_school_and_reports_counts_only(demo_schools, fake):
    here = _store(School.get(SCHOOL), fake, received=now_utc() - LATER)

    counts = retention_job({}, None)

    assert counts["schools"] == len(demo_schools)
    assert (counts["expired"], counts["anonymised"]) == (1, 1)
    assert counts["failed_schools"] == []
    assert here.description not in str(counts)
    assert Report.get(SCHOOL, here.report_id).description == ""


def _operator(*arguments: str) -> int:
    return onboarding.run(ops.parse_args(["--stage", "dev", *arguments]))


def test_operator_indexes_cases_stored_before_retention_then_runs_it(
    school, fake, capsys
):
    report = _store(school, fake, received=now_utc() - LATER)
    for pointer in ReportIndex.query(expiry_scope(SCHOOL)):
        pointer.delete()  # as stored before this job existed

    unindexed = _operator("retention", "--school", SCHOOL, "--dry-run")
    unindexed_output = capsys.readouterr().out
    indexed = _operator(
        "retention", "--school", SCHOOL, "--index-existing", "--dry-run"
    )
    indexed_output = capsys.readouterr().out
    done = _operator("retention", "--school", SCHOOL)

    assert unindexed == indexed == done == 0
    assert report.report_id not in unindexed_output
    assert f"would anonymise {report.report_id}" in indexed_output
    assert "anonymised 1" in capsys.readouterr().out
    assert Report.get(SCHOOL, report.report_id).description == ""


def test_audit_entries_carry_the_trails_own_expiry(school, coordinator, fake):
    report = _handled(school, fake, coordinator)

    retention.run_school(school, now=now_utc() + LATER)

    trails = (audit.school_trail(SCHOOL), audit.report_trail(SCHOOL, report.report_id))
    entries = [entry for trail in trails for entry in AuditEvent.query(trail)]
    assert entries
    for entry in entries:
        kept = entry.expires - entry.at
        assert timedelta(days=7 * 365) <= kept <= timedelta(days=7 * 366)
