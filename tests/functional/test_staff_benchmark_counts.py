"""Staff pages cost the same at 10,000 and 100,000 reports: the teacher's and the
coordinator's list and case page, every overview and the leadership dashboard
make the same DynamoDB requests and read the same number of items whatever the
size of the school's history. Run with -s to see the figures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from benchmarks.bulk_seed import ReportFactory, write_into_moto
from benchmarks.dynamo_meter import metered
from benchmarks.moto_tweaks import partition_queries
from chalicelib.weeks import now_utc

from .staff_fixtures import SCHOOL, StaffWorld

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

SIZES = (10_000, 100_000)
ROLES = ("teacher", "coordinator")
OVERVIEWS = (
    ("coordinator", "/staff/insights"),
    ("coordinator", "/staff/insights/pupils"),
    ("coordinator", "/staff/insights/interventions"),
    ("coordinator", "/staff/insights/cases"),
    ("coordinator", "/staff/insights/class-round?group=g-5"),
    ("teacher", "/staff/insights"),
    ("teacher", "/staff/insights/pupils"),
    ("teacher", "/staff/insights/cases"),
    ("leadership", "/staff/dashboard"),
)


def _overview_counts(world: StaffWorld) -> dict[str, object]:
    counts = {}
    for role, path in OVERVIEWS:
        browser = world.sign_in(role)
        with metered() as meter:
            response = browser.get(path)
        assert response.status_code == 200, (role, path)
        counts[f"{role} {path}"] = meter.counts()
    return counts


def _page_counts(world: StaffWorld, role: str, report_id: str) -> dict[str, object]:
    browser = world.sign_in(role)
    counts = {}
    for name, path in (("list", "/staff/"), ("detail", f"/staff/reports/{report_id}")):
        with metered() as meter:
            response = browser.get(path)
        assert response.status_code == 200, (role, name)
        counts[name] = meter.counts()
    return counts


@pytest.fixture
def fast_moto_queries():
    """moto sorts the whole table for every Query; at 100,000 reports that is
    seconds per Query. Reading only the partition asked for gives the same
    answers (tests/functional/test_moto_tweaks.py) and counts."""
    with partition_queries():
        yield


@pytest.mark.usefixtures("fast_moto_queries")
def test_staff_list_and_case_page_cost_the_same_at_10k_and_100k_reports(
    staff_world: StaffWorld,
) -> None:
    teacher_group = staff_world.member("teacher").groups[0]
    report = staff_world.report(group=teacher_group)
    # The history ends five weeks ago: the class round reads the reports of its
    # four weeks (at most 200), which is the period's size, not the history's.
    factory = ReportFactory(
        staff_world.schools[SCHOOL], end=now_utc() - timedelta(weeks=5)
    )
    for role in ROLES:  # first requests set up clients and fetch the key set
        _page_counts(staff_world, role, report.report_id)

    _overview_counts(staff_world)

    counts: dict[int, dict[str, object]] = {}
    seeded = 0
    for size in SIZES:
        seeded += write_into_moto(factory, size - seeded)
        counts[size] = {
            role: _page_counts(staff_world, role, report.report_id) for role in ROLES
        }
        counts[size]["overviews"] = _overview_counts(staff_world)

    small, large = counts[SIZES[0]], counts[SIZES[1]]
    for name, figures in small["overviews"].items():
        print(
            f"{name}: requests {figures['operations']}, "
            f"items read {figures['items_returned']}, scanned {figures['items_scanned']}"
        )
    for name, figures in small["overviews"].items():
        assert large["overviews"][name] == figures, name
    assert large == small
    assert all(c["scans"] == 0 for c in small["overviews"].values())
    for role in ROLES:
        for page in ("list", "detail"):
            assert small[role][page]["scans"] == 0, (role, page)
