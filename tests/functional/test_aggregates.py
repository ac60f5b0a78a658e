"""The weekly counters equal a recount from the raw reports, after any sequence
of submissions, status changes, interventions, pupil links and merges.

The recount below is written independently of chalicelib.aggregates: it reads
every report and counts its fields itself.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import date

import boto3
import pytest
from faker import Faker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from chalicelib import auth, aws, casework, reports, sessions
from chalicelib.access import StaffContext
from chalicelib.models import Report, StaffMember, create_tables
from chalicelib.validation import validate_report
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
        counted[(school_id, report.received_week)].update(fields)
        counted[(school_id, report.received_week)].update(
            f"grp:{g}" for g in report.groups
        )
        for group in report.groups:
            counted[(f"{school_id}#group#{group}", report.received_week)].update(fields)
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
    ),
    min_size=1,
    max_size=12,
)


def _apply(operation, school, roster, context, fake) -> None:
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
            school, kind="talk_hurt", on="2026-01-05", follow_up_on=follow_up, text=None
        )
    elif kind == "link":
        pupils = [p for group in roster.values() for p in group]
        pupil = pupils[operation[2] % len(pupils)]
        change = casework.link_pupil(report, 0, pupil.pupil_id)
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
