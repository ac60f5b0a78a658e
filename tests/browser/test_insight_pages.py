"""The overviews and the dashboard on a school year of data show what was planted
in it, and axe-core finds nothing to fault on any of them.

One local run for the module, started with `--year` (local/yeardata.py): over
2,000 reports for the two demo schools, with a playground hotspot at lunch, a
group whose reports rise and a few pupils involved again and again. The run
prints what it planted; the tests read the pages as the coordinator and
leadership of the primary school see them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from playwright.sync_api import Browser, Locator, expect

from chalicelib.i18n import gettext_for
from tests.browser.conftest import Console, LocalStack, local_run, new_tab
from tests.browser.reporter import SCHOOL, school_today
from tests.browser.staff import COORDINATOR, STAFF_DOMAIN, TABLE_PREFIX, StaffUI

pytestmark = pytest.mark.browser

LEADERSHIP = f"directie@{STAFF_DOMAIN}"
# Seeding the year takes a few minutes on a busy two-core machine, all of it
# before the run prints its next line.
YEAR_SEED_SECONDS = 600
# The dashboard and the interventions page make a Query per pupil for up to 200
# interventions: a few seconds locally, more while other tests load the machine.
SLOW_PAGE_MS = 60_000
MIN_REPORTS = 2000
RECENT_WEEKS = 8
PLANTED = re.compile(
    r"Planted (?P<school>\S+): hotspot (?P<place>\S+)/(?P<part>\S+), "
    r"rising group (?P<group>\S+), repeat pupils (?P<pupils>[\d ]+)"
)
SEEDED = re.compile(r"Seeded (\d+) reports")

_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class Planted:
    reports: int
    place: str
    part_of_day: str
    rising_group: str
    repeat_pupils: tuple[str, ...]


def nl(msgid: str) -> str:
    return gettext_for("nl", msgid)


@pytest.fixture(scope="module")
def year_stack() -> Iterator[LocalStack]:
    with local_run("--year", timeout=YEAR_SEED_SECONDS) as started:
        yield started


@pytest.fixture(scope="module")
def planted(year_stack: LocalStack) -> Planted:
    """What the run says it planted in the primary school."""
    output = "".join(year_stack.output)
    seeded = SEEDED.search(output)
    found = {m["school"]: m for m in PLANTED.finditer(output)}
    assert seeded and SCHOOL in found, output
    school = found[SCHOOL]
    return Planted(
        int(seeded.group(1)),
        school["place"],
        school["part"],
        school["group"],
        tuple(school["pupils"].split()),
    )


@pytest.fixture(scope="module")
def school(year_stack: LocalStack) -> dict[str, Any]:
    item = year_stack.dynamodb().get_item(
        TableName=f"{TABLE_PREFIX}schools", Key={"school_id": {"S": SCHOOL}}
    )["Item"]
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


@pytest.fixture
def ui(browser: Browser, year_stack: LocalStack, console: Console) -> Iterator[StaffUI]:
    with new_tab(browser, year_stack.base_url, console, phone=False) as tab:
        tab.set_default_navigation_timeout(SLOW_PAGE_MS)
        yield StaffUI(tab)


def pupil_name(stack: LocalStack, pupil_id: str) -> tuple[str, str]:
    """(full name, group id) of a roster pupil."""
    item = stack.dynamodb().get_item(
        TableName=f"{TABLE_PREFIX}pupils",
        Key={"school_id": {"S": SCHOOL}, "pupil_id": {"S": pupil_id}},
    )["Item"]
    return f"{item['first_name']['S']} {item['last_name']['S']}", item["group"]["S"]


def place_label(school: dict[str, Any], place: str) -> str:
    return next(p["label"]["nl"] for p in school["locations"] if p["id"] == place)


def group_label(school: dict[str, Any], group: str) -> str:
    return next(g["name"] for g in school["groups"] if g["id"] == group)


def body_rows(table: Locator) -> list[list[str]]:
    """The texts of each body row: its row header first, then its cells."""
    rows = []
    for row in table.locator("tbody").get_by_role("row").all():
        header = [" ".join(row.get_by_role("rowheader").all_inner_texts())]
        rows.append(
            header + [c.strip() for c in row.get_by_role("cell").all_inner_texts()]
        )
    return rows


def section(ui: StaffUI, heading: str) -> Locator:
    return ui.page.get_by_role("region", name=nl(heading))


def test_the_year_holds_over_two_thousand_reports(planted: Planted):
    assert planted.reports >= MIN_REPORTS


def test_coordinator_sees_the_playground_at_lunch_as_the_top_hotspot(
    ui: StaffUI, planted: Planted, school: dict[str, Any]
):
    ui.sign_in(COORDINATOR)

    ui.open("/staff/insights", "insights")

    hotspots = section(ui, "Hotspots: location and part of the day")
    top = body_rows(hotspots.get_by_role("table"))[0]
    assert top[0] == place_label(school, planted.place)
    assert planted.part_of_day == "lunch"
    assert top[1] == nl("at lunch")
    others = body_rows(section(ui, "By location").get_by_role("table"))
    assert others[0][0] == place_label(school, planted.place)


def test_coordinator_sees_the_rising_group_with_the_largest_rise(
    ui: StaffUI, planted: Planted, school: dict[str, Any]
):
    ui.sign_in(COORDINATOR)

    ui.open("/staff/insights", "insights")

    rows = body_rows(section(ui, "By group").get_by_role("table"))
    rises = {name: int(now) - int(before) for name, now, before, _ in rows}
    rising = group_label(school, planted.rising_group)
    assert rises[rising] > max(v for k, v in rises.items() if k != rising)
    change = next(row[3] for row in rows if row[0] == rising)
    assert change.startswith("+")


def test_coordinator_finds_exactly_the_planted_pupils_under_repeat_involvement(
    ui: StaffUI, planted: Planted, year_stack: LocalStack
):
    ui.sign_in(COORDINATOR)

    ui.open("/staff/insights/pupils", "repeat involvement")

    table = ui.page.get_by_role("table", name=nl("Pupils with repeat involvement"))
    listed = sorted(row[0] for row in body_rows(table))
    names = [pupil_name(year_stack, pupil)[0] for pupil in planted.repeat_pupils]
    assert listed == sorted(names)


def test_class_round_lists_the_planted_pupil_of_that_group(
    ui: StaffUI, planted: Planted, year_stack: LocalStack, school: dict[str, Any]
):
    name, group = pupil_name(year_stack, planted.repeat_pupils[0])
    since = school_today() - timedelta(weeks=RECENT_WEEKS - 1)
    ui.sign_in(COORDINATOR)

    ui.open(
        f"/staff/insights/class-round?group={group}&since={since.isoformat()}",
        "class round",
    )

    expect(ui.page.get_by_role("heading", level=1)).to_contain_text(
        group_label(school, group)
    )
    pupils = section(ui, "Pupils with repeat involvement in this group")
    expect(pupils.get_by_role("link", name=name)).to_be_visible()


def test_coordinator_sees_interventions_with_every_effect_and_overdue_follow_ups(
    ui: StaffUI,
):
    ui.sign_in(COORDINATOR)

    ui.open("/staff/insights/interventions", "effect of interventions")
    effects = body_rows(
        ui.page.get_by_role("table", name=nl("Effect of interventions"))
    )
    ui.open("/staff/insights/cases", "case handling")

    assert sum(int(row[1]) for row in effects) > 0
    assert all(sum(int(row[c]) for row in effects) > 0 for c in (2, 3, 4, 5))
    open_cases = body_rows(section(ui, "Open cases by age").get_by_role("table"))
    assert sum(int(row[-1]) for row in open_cases) > 0
    overdue = section(ui, "Overdue follow-ups").get_by_role("table")
    assert body_rows(overdue)


def test_leadership_dashboard_shows_the_weeks_rising(ui: StaffUI):
    ui.sign_in(LEADERSHIP)

    ui.open("/staff/dashboard", "dashboard")

    weeks = section(ui, "The school year week by week")
    weeks.get_by_text(nl("The numbers as a table")).click()
    trend = weeks.get_by_role("table")
    newest_first = [int(row[1]) for row in body_rows(trend)[:RECENT_WEEKS]]
    assert newest_first == sorted(newest_first, reverse=True)
    assert newest_first[0] > newest_first[-1]
    key_figures = dict(
        (row[0], row[1])
        for row in body_rows(section(ui, "This week").get_by_role("table"))
    )
    assert int(key_figures[nl("Open cases")]) > 0
    assert int(key_figures[nl("Overdue follow-ups")]) > 0


def test_leadership_sees_the_same_hotspot_on_the_overviews(
    ui: StaffUI, planted: Planted, school: dict[str, Any]
):
    ui.sign_in(LEADERSHIP)

    ui.open("/staff/insights", "insights for leadership")
    hotspots = section(ui, "Hotspots: location and part of the day")
    top = body_rows(hotspots.get_by_role("table"))[0]
    ui.open("/staff/insights/pupils", "repeat involvement for leadership")
    table = ui.page.get_by_role("table", name=nl("Pupils with repeat involvement"))

    assert top[:2] == [place_label(school, planted.place), nl("at lunch")]
    assert len(body_rows(table)) == len(planted.repeat_pupils)
