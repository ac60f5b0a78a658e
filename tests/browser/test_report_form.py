"""The Stopknop form in a real browser, against the running local stack."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from faker import Faker
from playwright.sync_api import Page, Request, Route, expect

from tests.browser.conftest import QUICK_EXIT_URL, LocalStack
from tests.browser.reporter import (
    FORM_PATH,
    SCHOOL,
    Answers,
    Person,
    ReportForm,
    answers_of,
    as_stored,
    assert_accessible,
    assert_big_tap_targets,
    newest_report,
    rich_answers,
    school_today,
    step_heading,
    storage_dump,
    stored_reports,
    unicode_name,
)

pytestmark = pytest.mark.browser

REPORTS_API = "**/api/schools/*/reports"


def draft_in_storage(page: Page) -> dict[str, Any] | None:
    raw = page.evaluate(f"sessionStorage.getItem('m5-draft:{SCHOOL}')")
    return json.loads(raw) if raw else None


def test_pupil_reports_in_dutch_from_the_school_site_and_every_answer_is_stored(
    page: Page, stack: LocalStack
) -> None:
    answers = rich_answers(seed=11)
    page.goto(f"/demo/{SCHOOL}/")
    page.get_by_role("link", name=re.compile("Stopknop")).first.click()
    form = ReportForm(page, check=lambda where: assert_accessible(page, where)).ready()
    history_length = page.evaluate("history.length")

    assert page.url.endswith(FORM_PATH)
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.locator("#progress-text")).to_have_text("Stap 1 van 7")
    form.complete(answers)
    review = page.locator("#review-list")
    for text in [answers.description, answers.hurt[0].name, answers.did_it[1].name]:
        expect(review).to_contain_text(text)
    expect(review).to_contain_text("Op het schoolplein")
    assert_accessible(page, "review")
    code = form.send()
    assert_accessible(page, "confirmation")

    assert code not in page.url
    assert "#" not in page.url
    assert code not in storage_dump(page)
    assert draft_in_storage(page) is None
    assert page.evaluate("history.length") == history_length
    stored = newest_report(stack.dynamodb())
    assert answers_of(stored) == as_stored(answers, "nl")
    assert stored["urgent"] is False


def test_parent_reports_in_english_with_contact_details(
    page: Page, stack: LocalStack
) -> None:
    answers = rich_answers(seed=12)
    answers.role = "parent"
    answers.contact = {
        "name": "Anouk de Vries-Ĳzerman 👩‍👧 نور",
        "email": "anouk.devries@example.nl",
        "phone": "06 12345678",
    }
    answers.hurt_self = False
    answers.hurt = [Person(answers.hurt[0].name, "g-5"), Person("Sem 😊 דוד", None)]
    answers.did_it_unknown = True
    answers.told = ["nobody"]
    answers.danger_now = "unsure"
    form = ReportForm(page, check=lambda where: assert_accessible(page, where)).open()

    form.switch_language()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(step_heading(page, 1)).to_have_text("Who are you?")
    expect(page.locator("#progress-text")).to_have_text("Step 1 of 7")
    form.complete(answers)
    expect(page.locator("#review-title")).to_have_text("Is everything right?")
    page.click('[data-change="5"]')
    expect(step_heading(page, 5)).to_be_focused()
    expect(page.locator("#next")).to_have_text("Done, back to the summary")
    answers.location_note = "Near the gate, دروازه 🚪"
    page.fill("#location-note", answers.location_note)
    form.next()
    expect(page.locator("#review-title")).to_be_focused()
    expect(page.locator("#review-list")).to_contain_text(answers.location_note)
    expect(page.locator("#review-list")).to_contain_text("In the playground")
    assert_accessible(page, "review (en)")
    code = form.send()
    assert_accessible(page, "confirmation (en)")

    expect(page.locator("#done-title")).to_have_text(
        "Thank you! Your report has been sent."
    )
    expect(page.locator("#done-danger")).to_be_visible()
    assert code not in page.url
    assert code not in storage_dump(page)
    stored = newest_report(stack.dynamodb())
    assert answers_of(stored) == as_stored(answers, "en")
    assert stored["contact"]["name"] == answers.contact["name"]


@pytest.mark.parametrize(
    ("language", "summary_title"),
    [("nl", "Er ontbreekt nog iets"), ("en", "Something is missing")],
    ids=["dutch", "english"],
)
def test_missing_answers_are_tied_to_their_fields_and_focus_the_first(
    page: Page, language: str, summary_title: str
) -> None:
    form = ReportForm(page).open()
    if language == "en":
        form.switch_language()

    form.next()

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("h2")).to_have_text(summary_title)
    expect(summary.locator("a")).to_have_count(2)
    expect(page.locator("#role-pupil")).to_be_focused()
    role = page.locator('fieldset[data-field="reporter.role"]')
    error_id = role.locator(".field-error").get_attribute("id")
    assert error_id in role.get_attribute("aria-describedby")
    expect(page.locator("#role-pupil")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, f"step 1 with errors ({language})")

    page.check("#role-pupil")
    page.check("#anonymous-no")
    page.fill("#contact-email", "niet-een-adres")
    form.next()
    expect(summary.locator("a")).to_have_count(2)
    expect(page.locator("#contact-name")).to_be_focused()
    email_error = page.locator('[data-field="reporter.email"] .field-error')
    expect(email_error).to_be_visible()
    describedby = page.locator("#contact-email").get_attribute("aria-describedby")
    assert email_error.get_attribute("id") in describedby
    summary.locator("a").nth(1).click()
    expect(page.locator("#contact-email")).to_be_focused()
    assert "#" not in page.url
    assert_accessible(page, f"contact errors ({language})")


def test_server_errors_are_shown_on_their_own_step_and_field(
    page: Page, stack: LocalStack
) -> None:
    answers = rich_answers(seed=13)
    tomorrow = (school_today() + timedelta(days=1)).isoformat()

    def break_two_answers(route: Route, request: Request) -> None:
        body = request.post_data_json
        body["did_it"]["persons"][0]["name"] = " "
        body["occurred_on"] = tomorrow
        route.continue_(post_data=json.dumps(body))

    form = ReportForm(page).open()
    form.complete(answers)
    page.route(REPORTS_API, break_two_answers, times=1)
    page.click("#send")

    expect(page.locator("#did-it-0-name")).to_be_focused()
    expect(page.locator("#progress-text")).to_have_text("Stap 4 van 7")
    name_error = page.locator('[data-field="did_it.persons.0.name"] .field-error')
    expect(name_error).to_contain_text("Vul dit in")
    assert_accessible(page, "step 4 with a server error")
    expect(page.locator("#next")).to_have_text("Klaar, naar het overzicht")
    page.click("#next")
    expect(page.locator("#occurred-on")).to_be_focused()
    expect(page.locator('[data-field="occurred_on"] .field-error')).to_contain_text(
        "toekomst"
    )
    page.click("#next")
    expect(page.locator("#review-title")).to_be_focused()
    form.send()
    assert answers_of(newest_report(stack.dynamodb())) == as_stored(answers, "nl")


def test_quick_exit_wipes_the_draft_and_leaves_no_form_in_history(
    page: Page,
) -> None:
    page.goto(f"/demo/{SCHOOL}/")
    page.get_by_role("link", name=re.compile("Stopknop")).first.click()
    form = ReportForm(page).ready()
    form.fill_step(1, rich_answers(seed=14))
    form.next(2)
    page.fill("#description", "Dit mag niemand anders zien.")
    assert draft_in_storage(page)["answers"]["description"]
    history_length = page.evaluate("history.length")

    page.click("#quick-exit")

    page.wait_for_url(QUICK_EXIT_URL)
    assert page.evaluate("history.length") == history_length
    page.go_back()
    page.wait_for_url(f"**/demo/{SCHOOL}/")
    assert page.evaluate("sessionStorage.length") == 0
    ReportForm(page).open()
    expect(step_heading(page, 1)).to_be_visible()
    expect(page.locator("#role-pupil")).not_to_be_checked()
    assert draft_in_storage(page) is None


def test_escape_pressed_three_times_leaves_like_the_quick_exit(page: Page) -> None:
    form = ReportForm(page).open()
    form.fill_step(1, rich_answers(seed=15))

    for _ in range(3):
        page.keyboard.press("Escape")

    page.wait_for_url(QUICK_EXIT_URL)
    page.go_back()
    assert "/s/" not in page.url


def test_unknown_school_shows_a_friendly_page(page: Page) -> None:
    page.goto("/s/deze-school-bestaat-niet/")

    expect(page.locator("#not-found-title")).to_have_text("Dit formulier bestaat niet")
    expect(page.locator("#quick-exit")).to_be_visible()
    assert_accessible(page, "not found (nl)")
    page.click("#lang-switch")
    expect(page.locator("#not-found-title")).to_have_text("This form does not exist")
    assert_accessible(page, "not found (en)")
    expect(page.locator("#report")).to_be_hidden()


def test_draft_survives_a_reload_in_sessionstorage_only(page: Page) -> None:
    answers = rich_answers(seed=16)
    form = ReportForm(page).open()
    form.switch_language()
    form.complete(answers, until=2)
    page.fill("#hurt-0-name", answers.hurt[0].name)
    key = draft_in_storage(page)["key"]

    page.reload()

    form.ready()
    expect(step_heading(page, 3)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#hurt-0-name")).to_have_value(answers.hurt[0].name)
    page.click("#back")
    expect(page.locator("#description")).to_have_value(answers.description)
    page.click("#back")
    expect(page.locator("#role-pupil")).to_be_checked()
    assert draft_in_storage(page)["key"] == key
    assert page.evaluate("localStorage.length") == 0


def test_failed_sends_keep_the_draft_and_the_retry_stores_one_report(
    page: Page, stack: LocalStack
) -> None:
    answers = rich_answers(seed=17)
    keys: list[str] = []
    lost: list[dict[str, Any]] = []

    def lose_the_answer(route: Route, request: Request) -> None:
        # The report reaches the API and is stored, but the answer never arrives.
        keys.append(request.headers["idempotency-key"])
        lost.append(route.fetch().json())
        route.abort("connectionreset")

    def unavailable(route: Route, request: Request) -> None:
        keys.append(request.headers["idempotency-key"])
        message = {"nl": "Opslaan lukte niet.", "en": "Saving failed."}
        body = {"error": "service_unavailable", "message": message}
        route.fulfill(status=503, json=body)

    def passes(route: Route, request: Request) -> None:
        keys.append(request.headers["idempotency-key"])
        route.continue_()

    form = ReportForm(page).open()
    form.complete(answers)
    page.route(REPORTS_API, lose_the_answer, times=1)
    page.click("#send")
    error = page.locator("#send-error")
    expect(error).to_contain_text("Je melding is nog niet verstuurd")
    expect(error).to_contain_text("Je antwoorden zijn bewaard")
    assert_accessible(page, "send failed")

    page.reload()
    expect(page.locator("#review-title")).to_be_visible()
    expect(page.locator("#review-list")).to_contain_text(answers.description)
    page.route(REPORTS_API, unavailable, times=1)
    page.click("#send")
    expect(error).to_contain_text("Opslaan lukte niet.")
    page.click("#lang-switch")
    expect(error).to_contain_text("Saving failed.")
    page.route(REPORTS_API, passes, times=1)
    page.click("#send-retry")
    code = page.locator("#receipt-code")
    expect(code).to_have_text(lost[0]["receipt_code"])

    assert len(keys) == 3
    assert len(set(keys)) == 1
    same = [
        r
        for r in stored_reports(stack.dynamodb())
        if r["description"] == answers.description
    ]
    assert len(same) == 1


@pytest.mark.parametrize("answer", ["yes", "unsure"])
def test_danger_answer_shows_112_and_kindertelefoon_at_once(
    page: Page, answer: str
) -> None:
    form = ReportForm(page).open()
    form.complete(rich_answers(seed=18), until=6)
    alert = page.locator("#danger-alert")
    expect(alert).to_be_hidden()

    page.check(f"#danger-{answer}")

    expect(alert).to_be_visible()
    expect(alert.locator('a[href="tel:112"]')).to_contain_text("112")
    expect(alert.locator('a[href="tel:08000432"]')).to_contain_text("0800-0432")
    assert page.locator(".danger-live").get_attribute("role") == "alert"
    assert_accessible(page, "danger alert")
    page.check("#danger-no")
    expect(alert).to_be_hidden()


def test_urgent_report_is_flagged_and_confirmation_repeats_the_numbers(
    page: Page, stack: LocalStack
) -> None:
    answers = rich_answers(seed=19)
    answers.danger_now = "yes"
    answers.did_it_unknown = True
    form = ReportForm(page).open()

    form.complete(answers)
    form.send()

    expect(page.locator('#done-danger a[href="tel:112"]')).to_be_visible()
    stored = newest_report(stack.dynamodb())
    assert stored["urgent"] is True
    assert answers_of(stored) == as_stored(answers, "nl")


def test_keyboard_alone_answers_a_step_and_moves_focus_to_the_next_heading(
    page: Page,
) -> None:
    ReportForm(page).open()

    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "role":
            break
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    expect(step_heading(page, 2)).to_be_focused()
    expect(page.locator("#progress-text")).to_have_text("Stap 2 van 7")


def test_people_rows_can_be_added_and_removed(page: Page) -> None:
    fake = Faker("nl_NL")
    fake.seed_instance(20)
    names = [unicode_name(fake, i) for i in range(3)]
    answers: Answers = rich_answers(seed=20)
    form = ReportForm(page).open()
    form.complete(answers, until=2)

    form.persons("hurt", [Person(n) for n in names])
    page.click("text=Haal persoon 2 weg")

    expect(page.locator("#hurt-persons li")).to_have_count(2)
    expect(page.locator("#hurt-1-name")).to_have_value(names[2])
    expect(page.locator("#hurt-1-name")).to_be_focused()
    assert [p["name"] for p in draft_in_storage(page)["answers"]["hurt"]] == [
        names[0],
        names[2],
    ]


def test_every_tap_target_is_big_enough_for_a_finger(page: Page) -> None:
    answers = rich_answers(seed=21)
    answers.danger_now = "yes"
    answers.contact = {"name": "Ayşe", "email": "ayse@example.nl"}
    form = ReportForm(page, check=lambda where: assert_big_tap_targets(page, where))
    form.open()
    form.next()
    assert_big_tap_targets(page, "step 1 with errors")

    form.complete(answers)
    assert_big_tap_targets(page, "review")
    form.send()

    assert_big_tap_targets(page, "confirmation")
