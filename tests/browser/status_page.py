"""The reporter's status page as a reporter uses it: code in, status and messages out."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.browser.reporter import RECEIPT_CODE, SCHOOL, assert_accessible, school_today

STATUS_PATH = f"/s/{SCHOOL}/status"


def report_by_api(page: Page, description: str) -> str:
    """Send a small report straight to the API (the form has its own tests); its code."""
    response = page.request.post(
        f"/api/schools/{SCHOOL}/reports",
        headers={"Idempotency-Key": str(uuid.uuid4())},
        data={
            "language": "nl",
            "reporter": {"role": "pupil", "anonymous": True},
            "categories": ["buitensluiten"],
            "description": description,
            "hurt": {"self": True, "persons": []},
            "did_it": {"unknown": True, "persons": []},
            "location": "gang",
            "occurred_on": (school_today() - timedelta(days=1)).isoformat(),
            "part_of_day": "lunch",
            "frequency": "once",
            "told": ["nobody"],
            "danger_now": "no",
        },
    )
    assert response.status == 201, response.text()
    code = str(response.json()["receipt_code"])
    assert RECEIPT_CODE.match(code)
    return code


class StatusPage:
    """Drives static_form/status.html through its own controls."""

    def __init__(self, page: Page):
        self.page = page

    def open(self, path: str = STATUS_PATH) -> StatusPage:
        self.page.goto(path)
        expect(self.page.locator("#lookup")).to_be_visible()
        return self

    def check(self, where: str) -> None:
        assert_accessible(self.page, where)

    def look_up(self, code: str) -> None:
        self.page.fill("#code", code)
        self.page.click("#lookup-button")
        expect(self.page.locator("#report-title")).to_be_focused()

    def messages(self) -> Locator:
        return self.page.locator("#messages > li")

    def send_message(self, text: str) -> None:
        count = self.messages().count()
        self.page.fill("#message-text", text)
        self.page.click("#message-send")
        expect(self.messages()).to_have_count(count + 1)
        expect(self.page.locator("#message-status")).not_to_be_empty()

    def field_error(self, control: str) -> Locator:
        """The error message the control names in its aria-describedby."""
        field = self.page.locator(control)
        expect(field).to_have_attribute("aria-describedby", re.compile(r"-error\b"))
        ids = field.get_attribute("aria-describedby") or ""
        errors = [i for i in ids.split() if i.endswith("-error")]
        assert len(errors) == 1, ids
        return self.page.locator(f"#{errors[0]}")


def traces(page: Page) -> dict[str, Any]:
    """Everywhere a code could linger once typed: address, history, storage, cookies."""
    return page.evaluate(
        """() => ({
            url: location.href,
            history: history.length,
            state: JSON.stringify(history.state),
            session: JSON.stringify(Object.entries(sessionStorage)),
            local: JSON.stringify(Object.entries(localStorage)),
            cookies: document.cookie,
        })"""
    )
