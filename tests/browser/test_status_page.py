"""The reporter's status page in a real browser, against the running local stack.

Each lookup counts against the API's limit of 20 per address per 15 minutes, and
the whole browser session comes from one address: tests look up sparingly.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, Request, Route, expect

from tests.browser.conftest import QUICK_EXIT_URL, LocalStack
from tests.browser.reporter import SCHOOL, assert_big_tap_targets
from tests.browser.staff import TABLE_PREFIX
from tests.browser.status_page import StatusPage, report_by_api, traces

pytestmark = pytest.mark.browser

STATUS_API = "**/api/schools/*/status"
MESSAGES_API = "**/api/schools/*/messages"


def test_unknown_code_says_no_report_has_this_code(page: Page) -> None:
    status = StatusPage(page).open()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)

    page.click("#lookup-button")
    expect(status.field_error("#code")).to_contain_text("Vul je code in")
    page.fill("#code", "ABCD-EFGH")
    page.click("#lookup-button")
    expect(status.field_error("#code")).to_contain_text("16 letters en cijfers")
    assert sent == [], "a code that cannot be right is not sent"
    page.fill("#code", "abcd efgh jklm npqr")
    page.click("#lookup-button")

    error = status.field_error("#code")
    expect(error).to_contain_text("We kunnen geen melding vinden met deze code")
    expect(page.locator("#code")).to_be_focused()
    expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#screen-report")).to_be_hidden()
    assert len(sent) == 1
    status.check("unknown code (nl)")
    page.click("#lang-switch")
    expect(error).to_contain_text("We cannot find a report with this code")
    status.check("unknown code (en)")


def test_too_many_tries_asks_to_wait_a_few_minutes(page: Page) -> None:
    def limited(route: Route) -> None:
        message = {"nl": "Te vaak.", "en": "Too often."}
        route.fulfill(
            status=429,
            headers={"Retry-After": "600"},
            json={"error": "too_many_requests", "message": message},
        )

    status = StatusPage(page).open()
    page.route(STATUS_API, limited)

    page.fill("#code", "ABCD-EFGH-JKLM-NPQR")
    page.click("#lookup-button")

    expect(status.field_error("#code")).to_contain_text(
        "Je hebt het te vaak geprobeerd. Wacht een paar minuten"
    )


def test_code_typed_in_lower_case_with_spaces_shows_the_status_and_leaves_no_trace(
    page: Page, stack: LocalStack
) -> None:
    code = report_by_api(page, "Niemand wil naast me zitten bij de lunch.")
    status = StatusPage(page).open()
    before = traces(page)
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if r.method == "POST" else None)
    typed = code.lower().replace("-", " ")

    page.focus("#code")
    page.keyboard.type(typed)
    page.keyboard.press("Enter")

    expect(page.locator("#report-title")).to_be_focused()
    expect(page.locator("#status-text")).to_have_text("Ontvangen")
    expect(page.locator("#messages-empty")).to_have_text("Er zijn nog geen berichten.")
    expect(page.locator(".status-steps li.current")).to_have_attribute(
        "aria-current", "step"
    )
    assert [(r.url, r.post_data_json) for r in sent] == [
        (f"{stack.base_url}/api/schools/{SCHOOL}/status", {"receipt_code": code})
    ]
    after = traces(page)
    assert after["history"] == before["history"]
    for variant in (code, typed, code.replace("-", "")):
        for where, value in after.items():
            assert variant.lower() not in str(value).lower(), where
    expect(page.locator("#code")).to_have_value("")
    status.check("status received (nl)")
    assert_big_tap_targets(page, "status received")
    page.click("#lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#status-text")).to_have_text("Received")
    status.check("status received (en)")

    page.click("#close-report")

    expect(page.locator("#lookup-title")).to_be_focused()
    expect(page.locator("#screen-report")).to_be_hidden()
    html = page.evaluate("document.documentElement.outerHTML")
    assert code.replace("-", "") not in html.replace("-", "")


def test_quick_exit_leaves_the_status_page_out_of_the_history(page: Page) -> None:
    code = report_by_api(page, "Ze pakken steeds mijn pet af.")
    page.goto(f"/demo/{SCHOOL}/")
    status = StatusPage(page).open()
    status.look_up(code)
    history_length = page.evaluate("history.length")

    page.click("#quick-exit")

    page.wait_for_url(QUICK_EXIT_URL)
    assert page.evaluate("history.length") == history_length
    page.go_back()
    page.wait_for_url(f"**/demo/{SCHOOL}/")


def test_message_errors_are_tied_to_the_message_field(page: Page) -> None:
    code = report_by_api(page, "In de gym werd ik uitgelachen.")
    status = StatusPage(page).open()
    status.look_up(code)

    page.click("#message-send")

    error = status.field_error("#message-text")
    expect(error).to_contain_text("Schrijf eerst je bericht")
    expect(page.locator("#message-text")).to_be_focused()
    expect(page.locator("#message-text")).to_have_attribute("aria-invalid", "true")
    status.check("empty message")

    def too_long(route: Route, request: Request) -> None:
        body = request.post_data_json
        route.continue_(post_data=json.dumps({**body, "text": "x" * 2001}))

    page.route(MESSAGES_API, too_long, times=1)
    page.fill("#message-text", "Het gebeurde vandaag weer.")
    page.click("#message-send")

    expect(status.field_error("#message-text")).to_contain_text("2000")
    expect(page.locator("#message-text")).to_be_focused()
    expect(page.locator("#message-text")).to_have_value("Het gebeurde vandaag weer.")
    expect(status.messages()).to_have_count(0)

    status.send_message("Het gebeurde vandaag weer.")

    expect(status.messages().last).to_contain_text("Jij")
    expect(page.locator("#message-text")).not_to_have_attribute("aria-invalid", "true")


def test_reply_alert_email_is_accepted_and_can_be_removed(
    page: Page, stack: LocalStack
) -> None:
    code = report_by_api(page, "Er worden nare dingen over mij gezegd in de app.")
    status = StatusPage(page).open()
    status.look_up(code)
    db = stack.dynamodb()

    page.fill("#alert-email", "geen-adres")
    page.click("#alert-save")
    expect(status.field_error("#alert-email")).to_contain_text("e-mailadres klopt niet")
    page.fill("#alert-email", "kind.thuis@example.nl")
    page.click("#alert-save")

    expect(page.locator("#alert-status")).to_contain_text("Je krijgt een mailtje")
    expect(page.locator("#alert-email")).not_to_have_attribute("aria-invalid", "true")
    alerts = db.scan(TableName=f"{TABLE_PREFIX}reply-alerts")["Items"]
    assert {"S": "kind.thuis@example.nl"} in [a["email"] for a in alerts]

    page.fill("#alert-email", "")
    page.click("#alert-save")

    expect(page.locator("#alert-status")).to_contain_text("geen mailtjes meer")
    alerts = db.scan(TableName=f"{TABLE_PREFIX}reply-alerts")["Items"]
    assert {"S": "kind.thuis@example.nl"} not in [a["email"] for a in alerts]


def test_status_page_of_an_unknown_school_says_so_and_offers_help(page: Page) -> None:
    page.goto("/s/deze-school-bestaat-niet/status")

    expect(page.locator("#not-found-title")).to_have_text("Deze pagina bestaat niet")
    expect(page.locator("#not-found-title")).to_be_focused()
    expect(page.locator("#lookup")).to_be_hidden()
    expect(page.locator('a[href="tel:112"]')).to_be_visible()
    expect(page.locator("#quick-exit")).to_be_visible()
