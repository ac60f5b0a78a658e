"""Staff pages cost the same at 10,000 and 100,000 reports: the teacher's and the
coordinator's list and case page make the same DynamoDB requests and read the
same number of items whatever the size of the school's history."""

from __future__ import annotations

import pytest

from benchmarks.bulk_seed import ReportFactory, write_into_moto
from benchmarks.dynamo_meter import metered

from .staff_fixtures import SCHOOL, StaffWorld

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

SIZES = (10_000, 100_000)
ROLES = ("teacher", "coordinator")


def _page_counts(world: StaffWorld, role: str, report_id: str) -> dict[str, object]:
    browser = world.sign_in(role)
    counts = {}
    for name, path in (("list", "/staff/"), ("detail", f"/staff/reports/{report_id}")):
        with metered() as meter:
            response = browser.get(path)
        assert response.status_code == 200, (role, name)
        counts[name] = meter.counts()
    return counts


def test_staff_list_and_case_page_cost_the_same_at_10k_and_100k_reports(
    staff_world: StaffWorld,
) -> None:
    teacher_group = staff_world.member("teacher").groups[0]
    report = staff_world.report(group=teacher_group)
    factory = ReportFactory(staff_world.schools[SCHOOL])
    for role in ROLES:  # first requests set up clients and fetch the key set
        _page_counts(staff_world, role, report.report_id)

    counts: dict[int, dict[str, object]] = {}
    seeded = 0
    for size in SIZES:
        seeded += write_into_moto(factory, size - seeded)
        counts[size] = {
            role: _page_counts(staff_world, role, report.report_id) for role in ROLES
        }

    small, large = counts[SIZES[0]], counts[SIZES[1]]
    assert large == small
    for role in ROLES:
        for page in ("list", "detail"):
            assert small[role][page]["scans"] == 0, (role, page)
