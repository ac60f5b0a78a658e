"""The staff web UI end to end: a teacher's scope, a coordinator's case, the reporter.

One test walks the issue's whole acceptance flow, because each step needs the
state the previous one left: the report the reporter sends is the case the
coordinator handles and the one whose status the reporter reads afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LocalStack
from tests.browser.reporter import (
    SCHOOL,
    Answers,
    Person,
    ReportForm,
    newest_report,
    school_today,
)
from tests.browser.staff import (
    COORDINATOR,
    TEACHER,
    StaffUI,
    group_names,
    pupils_of_group,
    reports_of_school,
    staff_member,
)
from tests.browser.status_page import StatusPage

pytestmark = pytest.mark.browser

# Markup and template syntax a reporter may type; all of it must stay text.
IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = "<script>window.__pwned=1</script>"
TEMPLATE = "{{7*7}}"
# The list shows at most this many reports (chalicelib.cases.PAGE_SIZE).
PAGE_SIZE = 25


@pytest.fixture
def staff_page(browser: Browser, stack: LocalStack) -> Iterator[Page]:
    """A tablet-sized tab for staff, apart from the reporter's phone."""
    context = browser.new_context(
        base_url=stack.base_url,
        viewport={"width": 1024, "height": 768},
        locale="nl-NL",
        timezone_id="Europe/Amsterdam",
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    messages: list[str] = []
    tab.on("console", lambda message: messages.append(message.text))
    yield tab
    context.close()
    assert [m for m in messages if "Content Security Policy" in m] == []


def new_report_answers(hurt: Person, did_it: Person) -> Answers:
    return Answers(
        role="pupil",
        categories=["pesten", "uitschelden"],
        description=(
            f"Ze schreven {IMG} en {SCRIPT} op mijn tas.\nEn ook {TEMPLATE} erbij."
        ),
        hurt=[hurt],
        did_it=[did_it],
        location="plein",
        occurred_on=(school_today() - timedelta(days=1)).isoformat(),
        part_of_day="break",
        frequency="ongoing",
        told=["friend"],
        danger_now="yes",
    )


def test_teacher_sees_own_groups_coordinator_handles_case_reporter_follows_it(
    page: Page, staff_page: Page, stack: LocalStack
) -> None:
    db = stack.dynamodb()
    names = group_names(db)
    teacher_groups = set(staff_member(db, TEACHER)["groups"])
    own_names = {names[g] for g in teacher_groups}
    reports = reports_of_school(db)
    visible = [r for r in reports if teacher_groups & set(r.get("groups", []))]
    elsewhere = next(
        r for r in reports if r.get("groups") and not teacher_groups & set(r["groups"])
    )
    staff = StaffUI(staff_page)

    # A teacher sees the reports of their own groups, and nothing else.
    staff.sign_in(TEACHER)
    listed = staff.listed()
    assert listed
    for row in listed:
        assert own_names & set(row["groups"].split(", ")), row
    assert {row["report_id"] for row in listed} == {
        r["report_id"] for r in visible[:PAGE_SIZE]
    }
    response = staff.open_report(elsewhere["report_id"])
    assert response is not None
    assert response.status == 404
    expect(staff_page.locator("h1")).to_have_text("Niet gevonden")
    staff.sign_out()
    assert staff_page.goto("/staff/").url.endswith("/staff/login")

    # A pupil reports two pupils of the roster, with markup in a name and the text.
    hurt = pupils_of_group(db, "g-5")[0]
    did_it = pupils_of_group(db, "g-6")[0]
    marked_name = f"{did_it.name} {IMG} {TEMPLATE}"
    answers = new_report_answers(Person(hurt.name, "g-5"), Person(marked_name, "g-6"))
    form = ReportForm(page).open()
    form.complete(answers)
    code = form.send()
    status_link = page.locator("#status-link")
    expect(status_link).to_have_attribute("href", f"/s/{SCHOOL}/status")
    expect(status_link).to_have_text(f"{stack.base_url}/s/{SCHOOL}/status")
    report_id = newest_report(db)["report_id"]

    # The coordinator finds it at the top (urgent first) and sees text, not markup.
    staff.sign_in(COORDINATOR)
    listed = staff.listed()
    flags = [row["urgent"] for row in listed]
    assert flags == sorted(flags, reverse=True), "urgent reports come first"
    assert listed[0]["report_id"] == report_id
    staff.open_report(report_id)
    answers_box = staff_page.locator("dl.answers")
    expect(answers_box).to_contain_text(SCRIPT)
    expect(answers_box).to_contain_text(IMG)
    expect(answers_box).to_contain_text(marked_name)
    description = answers_box.locator("dd.text").first
    expect(description).to_contain_text(TEMPLATE)
    expect(description).not_to_contain_text("49")
    assert staff_page.locator("main img, main script").count() == 0
    assert staff_page.evaluate("typeof window.__pwned") == "undefined"

    # Triage and handling, each step one form on the case page.
    follow_up = (school_today() + timedelta(days=14)).isoformat()
    staff.submit("status", {"#status": "in_progress"})
    staff.submit("pupils", {"select[name=pupil_id]": hurt.pupil_id}, form_index=0)
    staff.submit("pupils", {"select[name=pupil_id]": did_it.pupil_id}, form_index=1)
    staff.submit("assign", {"#staff_id": "staff-ib"})
    staff.submit(
        "interventions",
        {
            "#kind": "talk_did_it",
            "#follow_up_on": follow_up,
            "#intervention-text": SCRIPT,
        },
    )
    staff.submit("effects", {"#effect-less": ""})
    school_message = "Dank je wel voor je melding. We hebben met de groep gepraat."
    staff.submit("messages", {"#message-text": school_message})
    staff.submit("status", {"#status": "closed", "#reason": "stopped"})
    staff.check("case after handling")

    timeline = staff.timeline()
    expected = [
        r"Status veranderd Nieuw → In behandeling",
        rf"Naam gekoppeld aan een leerling leerlingnummer {hurt.pupil_id}",
        rf"Naam gekoppeld aan een leerling leerlingnummer {did_it.pupil_id}",
        r"Toegewezen .+",
        rf"Interventie .+; nazorg op {follow_up}",
        r"Effect vastgelegd minder",
        rf"Bericht aan de melder {school_message}",
        r"Status veranderd Nazorg → Afgesloten \(het gedrag is gestopt\)",
    ]
    assert len(timeline) == len(expected), timeline
    for line, pattern in zip(timeline, expected, strict=True):
        assert re.search(pattern, line), (pattern, line)
    expect(staff_page.locator("ol.timeline")).to_contain_text(SCRIPT)
    assert staff_page.evaluate("typeof window.__pwned") == "undefined"

    # Every view and change is in the audit trail, newest first.
    staff.open(f"/staff/reports/{report_id}/audit", "audit trail")
    actions = staff_page.locator("table.reports tbody tr td:nth-child(4)")
    logged = [" ".join(a.split()) for a in actions.all_inner_texts()]
    for action in [
        "Melding bekeken",
        "Status veranderd",
        "Naam gekoppeld aan een leerling",
        "Toegewezen",
        "Interventie",
        "Effect vastgelegd",
        "Bericht aan de melder",
        "Logboek bekeken",
    ]:
        assert action in logged, (action, logged)
    assert logged[0] == "Logboek bekeken"
    who = staff_page.locator("table.reports tbody tr td:nth-child(2)")
    assert staff_member(db, COORDINATOR)["name"] in who.all_inner_texts()

    # The linked pupil's history lists this case.
    staff.open(f"/staff/pupils/{did_it.pupil_id}", "pupil history")
    expect(staff_page.locator(f'a[href="/staff/reports/{report_id}"]')).to_be_visible()

    # The reporter reads the outcome and the school's message, and answers.
    status = StatusPage(page).open()
    status.look_up(code)
    expect(page.locator("#status-text")).to_have_text("Afgerond")
    expect(status.messages().last).to_contain_text(school_message)
    status.check("status closed (nl)")
    reply = "Het is nu echt beter, dank jullie wel!"
    status.send_message(reply)
    expect(status.messages().last).to_contain_text(reply)

    # The coordinator sees the reporter's answer on the case page.
    staff.open_report(report_id)
    expect(staff_page.locator("ol.timeline > li").last).to_contain_text(
        f"Bericht van de melder {reply}"
    )
    assert {"login", "audit trail", "pupil history"} <= set(staff.checked)
