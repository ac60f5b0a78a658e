"""Intake cost does not grow with the table: the count half of the intake benchmark.

`python -m benchmarks.intake_bench` measures the same two paths against moto's
server and times them; this test seeds moto's in-process tables directly, which
is fast enough for every test run, and checks only what must not vary: the
requests per operation and the items returned and scanned.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.bulk_seed import ReportFactory, write_into_moto
from benchmarks.dynamo_meter import metered
from benchmarks.intake_cases import LIST_LIMIT, IntakeCases
from benchmarks.moto_tweaks import lean_transaction_snapshots
from chalicelib import aws
from chalicelib.models import Report, School
from local.seed import DEMO_SCHOOLS, create_school

SIZES = (10_000, 100_000)


@pytest.fixture
def lean_moto_transactions() -> Iterator[None]:
    with lean_transaction_snapshots():
        yield


@pytest.fixture
def school(fake_aws: None) -> School:
    return create_school(DEMO_SCHOOLS[1])


def test_meter_counts_requests_of_every_client_and_flags_scans(
    school: School,
) -> None:
    with metered() as meter:
        list(Report.scan())
        aws.client("dynamodb").get_item(
            TableName=School.Meta.table_name,
            Key={"school_id": {"S": school.school_id}},
        )

    assert meter.operations == {"Scan": 1, "GetItem": 1}
    assert meter.scans == 1
    assert meter.items_returned == 1


def test_submit_and_list_recent_cost_the_same_at_10k_and_100k_reports(
    school: School, lean_moto_transactions: None
) -> None:
    factory = ReportFactory(school)
    cases = IntakeCases(school)
    # Clients and Powertools' persistence are set up on first use: not compared.
    cases.submit()
    cases.list_recent()

    counts = {}
    seeded = 0
    for size in SIZES:
        seeded += write_into_moto(factory, size - seeded)
        counts[size] = {
            "submit": cases.submit().counts(),
            "list_recent": cases.list_recent().counts(),
        }

    small, large = counts[SIZES[0]], counts[SIZES[1]]
    assert large == small
    assert small["list_recent"]["operations"] == {"Query": 1}
    assert small["list_recent"]["items_returned"] == LIST_LIMIT
    assert small["list_recent"]["items_scanned"] == LIST_LIMIT
    assert small["submit"]["scans"] == small["list_recent"]["scans"] == 0
