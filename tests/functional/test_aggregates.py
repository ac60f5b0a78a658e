"""The weekly counters equal a recount from the raw reports, after any sequence
of submissions, status changes, interventions and their effects, pupil links,
merges, removals as spam, anonymising, erasure of a pupil and retention runs.

The recount below is written independently of chalicelib.aggregates: it reads
every report and counts its fields itself.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import date, timedelta

import boto3
import pytest
from faker import Faker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from chalicelib import auth, aws, cases, casework, reports, retention, sessions
from chalicelib.access import StaffContext
from chalicelib.models import Report, StaffMember, create_tables
from chalicelib.validation import validate_report
from chalicelib.weeks import now_utc
from local.seed import (
    DEMO_SCHOOLS,
    create_pupils,
    create_school,
    create_staff,
    random_report,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")


@pytest.fixture(scope="module")
def school_world():
    """One fake AWS for the whole property run: the invariant holds at all times."""
    with mock_aws():
        aws.reset_clients()
        reports._persistence.cache_clear()
        create_tables()
        fake = Faker("nl_NL")
        fake.seed_instance(7)
        school = create_school(DEMO_SCHOOLS[0])
        staff = create_staff(school, fake)
        roster = create_pupils(school, fake, per_group=4)
        coordinator = next(m for m in staff if "coordinator" in m.roles)
        yield school, roster, _context(coordinator), fake
    aws.reset_clients()
    reports._persistence.cache_clear()


def _context(member: StaffMember) -> StaffContext:
    session = sessions.new_session(member.email, "subject").for_school(
        member.school_id, member.staff_id
    )
    return StaffContext(member, session, auth.Identity("subject", "user", "jti", 0))


def _recount(school_id: str) -> dict[tuple[str, str], Counter[str]]:
    """Counters per (scope, week), counted from the reports themselves."""
    counted: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for report in Report.query(school_id):
        if report.removed_reason is not None:
            continue  # spam and tests count nowhere
        week = report.received_week
        weekday = date.fromisoformat(report.occurred_on).weekday()
        fields = ["total"]
        fields += [f"cat:{c}" for c in report.categories]
        fields += [
            f"loc:{report.location}",
            f"dow:{weekday}",
            f"pod:{report.part_of_day}",
            f"lp:{report.location}:{report.part_of_day}",
            f"ld:{report.location}:{weekday}",
            f"freq:{report.frequency}",
            f"role:{report.reporter_role}",
            f"status:{report.status}",
        ]
        if report.urgent:
            fields.append("urgent")
        hurt = {p.pupil_id for p in report.persons if p.pupil_id and p.role == "hurt"}
        did = {p.pupil_id for p in report.persons if p.pupil_id and p.role == "did_it"}
        fields += [f"ph:{pupil}" for pupil in hurt]
        fields += [f"pd:{pupil}" for pupil in did]
        fields += [f"iv:{kind}" for kind in report.intervention_kinds]
        fields += [f"eff:{entry}" for entry in report.effects]
        if report.first_action_at is not None:
            waited = report.first_action_at - report.received_at
            fields += ["acted", f"tfa:{min(int(waited.total_seconds()) // 3600, 720)}"]
        open_case = [f"w:{week}"] if report.status != "closed" else []
        counted[(school_id, week)].update(fields)
        counted[(school_id, week)].update(f"grp:{g}" for g in report.groups)
        counted[(school_id, "open")].update(open_case)
        for group in report.groups:
            counted[(f"{school_id}#group#{group}", week)].update(fields)
            counted[(f"{school_id}#group#{group}", "open")].update(open_case)
    return {key: +counter for key, counter in counted.items() if +counter}


def _stored(school_id: str) -> dict[tuple[str, str], Counter[str]]:
    """Every aggregate item as stored, zero counters left out (tests may Scan)."""
    table = boto3.resource("dynamodb", region_name="eu-central-1").Table(
        "m5-test-aggregates"
    )
    stored = {}
    for item in table.scan()["Items"]:
        if item["scope"].split("#")[0] != school_id:
            continue
        counters = Counter(
            {k: int(v) for k, v in item.items() if k not in ("scope", "week")}
        )
        if +counters:
            stored[(item["scope"], item["week"])] = +counters
    return stored


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("submit"), st.integers(0, 60)),
        st.tuples(
            st.just("status"),
            st.integers(0, 10**6),
            st.sampled_from(["new", "in_progress", "follow_up", "closed"]),
        ),
        st.tuples(st.just("intervention"), st.integers(0, 10**6), st.booleans()),
        st.tuples(st.just("link"), st.integers(0, 10**6), st.integers(0, 10**6)),
        st.tuples(st.just("merge"), st.integers(0, 10**6), st.integers(0, 10**6)),
        st.tuples(
            st.just("effect"),
            st.integers(0, 10**6),
            st.sampled_from(["stopped", "less", "unchanged", "worse"]),
        ),
        st.tuples(
            st.just("remove"), st.integers(0, 10**6), st.sampled_from(["spam", "test"])
        ),
        st.tuples(st.just("anonymise"), st.integers(0, 10**6)),
        st.tuples(st.just("erase"), st.integers(0, 10**6)),
        st.tuples(st.just("retention"), st.integers(0, 10**6)),
    ),
    min_size=1,
    max_size=12,
)


def _apply(operation, school, roster, context, fake) -> None:
    if operation[0] in ("erase", "retention"):
        _lifecycle(operation, school, context)
    else:
        _case_change(operation, school, roster, context, fake)


def _lifecycle(operation, school, context) -> None:
    """Erasure of a pupil linked to one report, or a retention run in which
    every case's period has run out."""
    if operation[0] == "retention":
        retention.run_school(school, now=now_utc() + timedelta(days=3 * 366))
        return
    linked = [
        report
        for report in Report.query(school.school_id)
        if any(p.pupil_id for p in report.persons)
    ]
    if linked:
        report = linked[operation[1] % len(linked)]
        pupil_id = next(p.pupil_id for p in report.persons if p.pupil_id)
        change = casework.erase_pupil(report, pupil_id, ["Naam"])
        casework.apply(context, report, change)


def _case_change(operation, school, roster, context, fake) -> None:
    existing = list(Report.query(school.school_id))
    kind = operation[0]
    if kind == "submit" or not existing:
        rng = fake.random
        answers = random_report(
            school,
            fake,
            rng,
            day_offset=operation[1] if kind == "submit" else 1,
            roster=roster,
        )
        reports.store_report(
            school, str(uuid.uuid4()), validate_report(answers, school)
        )
        return
    report = existing[operation[1] % len(existing)]
    if kind == "status":
        reason = "stopped" if operation[2] == "closed" else None
        change = casework.set_status(report, operation[2], reason)
    elif kind == "intervention":
        follow_up = "2099-01-01" if operation[2] else None
        change = casework.intervention(
            school,
            report,
            kind="talk_hurt",
            on="2026-01-05",
            follow_up_on=follow_up,
            text=None,
        )
    elif kind == "link":
        pupils = [p for group in roster.values() for p in group]
        pupil = pupils[operation[2] % len(pupils)]
        if not report.persons:
            return  # removed or anonymised: nobody left to link
        change = casework.link_pupil(report, 0, pupil.pupil_id)
    elif kind == "effect":
        pending = cases.pending_interventions(cases.timeline(report))
        if not pending:
            return
        change = casework.effect(report, pending[0], operation[2])
    elif kind == "remove":
        if report.removed_reason:
            return
        change = casework.remove(report, operation[2], cases.timeline(report))
    elif kind == "anonymise":
        change = casework.anonymise(report)
    else:
        target = existing[operation[2] % len(existing)]
        if target.report_id == report.report_id or target.merged_into:
            return
        change = casework.merge_into(report, target)
    casework.apply(context, report, change)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_weekly_counters_equal_a_recount_after_any_sequence_of_changes(
    school_world, operations
):
    school, roster, context, fake = school_world

    for operation in operations:
        _apply(operation, school, roster, context, fake)

    assert _stored(school.school_id) == _recount(school.school_id)
