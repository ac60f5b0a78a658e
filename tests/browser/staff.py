"""The staff web UI as school staff use it, and the demo data behind it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pyotp
from boto3.dynamodb.types import TypeDeserializer
from playwright.sync_api import Page, Response, expect

from local.seed import DEMO_PASSWORD
from tests.browser.reporter import SCHOOL, assert_accessible

STAFF_DOMAIN = "obsderegenboog.example"
TEACHER = f"leerkracht@{STAFF_DOMAIN}"
COORDINATOR = f"coordinator@{STAFF_DOMAIN}"
TABLE_PREFIX = "m5-local-"
REPORT_LINK = re.compile(r"^/staff/reports/([^/?#]+)$")

_deserializer = TypeDeserializer()


# The authenticator key each e-mail set up, for the life of the local run.
# Per local run (its address) and staff e-mail: each run has its own user pool.
TOTP_SECRETS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Pupil:
    pupil_id: str
    first_name: str
    last_name: str
    group: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _query(client: Any, **arguments: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        found = client.query(**arguments)
        items += [_plain(item) for item in found["Items"]]
        if "LastEvaluatedKey" not in found:
            return items
        arguments["ExclusiveStartKey"] = found["LastEvaluatedKey"]


def staff_member(client: Any, email: str, school: str = SCHOOL) -> dict[str, Any]:
    members = _query(
        client,
        TableName=f"{TABLE_PREFIX}staff",
        KeyConditionExpression="school_id = :school",
        ExpressionAttributeValues={":school": {"S": school}},
    )
    return next(m for m in members if m["email"] == email)


def group_names(client: Any, school: str = SCHOOL) -> dict[str, str]:
    item = client.get_item(
        TableName=f"{TABLE_PREFIX}schools", Key={"school_id": {"S": school}}
    )["Item"]
    return {g["id"]: g["name"] for g in _plain(item)["groups"]}


def reports_of_school(client: Any, school: str = SCHOOL) -> list[dict[str, Any]]:
    """Every report of a school, newest first."""
    return _query(
        client,
        TableName=f"{TABLE_PREFIX}reports",
        KeyConditionExpression="school_id = :school",
        ExpressionAttributeValues={":school": {"S": school}},
        ScanIndexForward=False,
    )


def pupils_of_group(client: Any, group: str, school: str = SCHOOL) -> list[Pupil]:
    items = _query(
        client,
        TableName=f"{TABLE_PREFIX}pupils",
        IndexName="by-group",
        KeyConditionExpression="school_group = :group",
        ExpressionAttributeValues={":group": {"S": f"{school}#{group}"}},
    )
    return [
        Pupil(i["pupil_id"], i["first_name"], i["last_name"], i["group"]) for i in items
    ]


class StaffUI:
    """Drives the server-rendered staff pages; every page it opens is checked by axe."""

    def __init__(self, page: Page):
        self.page = page
        self.checked: list[str] = []

    def check(self, where: str) -> None:
        assert_accessible(self.page, where)
        self.checked.append(where)

    def open(self, path: str, where: str) -> Response | None:
        response = self.page.goto(path)
        self.check(where)
        return response

    def sign_in(self, email: str) -> None:
        self.open("/staff/login", "login")
        self.page.fill("#email", email)
        self.page.fill("#password", DEMO_PASSWORD)
        self.page.click("form.stack button[type=submit]")
        self.second_step(email)
        expect(self.page.locator("table.reports")).to_be_visible()
        self.check(f"report list of {email}")

    def second_step(self, email: str) -> None:
        """Coordinators, deputies and leadership: set up the authenticator app
        the first time (reading the key as a person would), type a code after."""
        self.page.wait_for_load_state()
        key = (urlsplit(self.page.url).netloc, email)
        if self.page.locator("#totp-secret").count():
            self.check(f"authenticator set-up of {email}")
            TOTP_SECRETS[key] = self.page.locator("#totp-secret").inner_text()
        elif not self.page.locator("form[action='/staff/mfa']").count():
            return
        self.page.fill("#code", pyotp.TOTP(TOTP_SECRETS[key]).now())
        self.page.click("form.stack button[type=submit]")

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Uitloggen").click()
        expect(self.page.locator("#password")).to_be_visible()

    def listed(self) -> list[dict[str, Any]]:
        """The rows of the report list: report id, urgent badge and group column."""
        rows = self.page.locator("table.reports tbody tr")
        listed = []
        for index in range(rows.count()):
            row = rows.nth(index)
            href = row.locator("a").first.get_attribute("href") or ""
            match = REPORT_LINK.match(href)
            assert match, href
            listed.append(
                {
                    "report_id": match.group(1),
                    "urgent": row.locator(".urgent-badge").count() == 1,
                    "groups": row.locator("td").nth(3).inner_text(),
                }
            )
        return listed

    def open_report(self, report_id: str) -> Response | None:
        return self.open(f"/staff/reports/{report_id}", f"case {report_id}")

    def submit(self, action: str, fields: dict[str, str], form_index: int = 0) -> None:
        """Fill one of the case page's forms and post it; the case page comes back."""
        form = self.page.locator(f'form[action$="/{action}"]').nth(form_index)
        for selector, value in fields.items():
            control = form.locator(selector)
            tag = control.evaluate("node => node.tagName")
            if tag == "SELECT":
                control.select_option(value)
            elif control.get_attribute("type") == "radio":
                control.check()
            else:
                control.fill(value)
        with self.page.expect_navigation():
            form.locator("button[type=submit]").click()
        expect(self.page.locator("#action-error")).to_have_count(0)

    def timeline(self) -> list[str]:
        return [
            " ".join(text.split())
            for text in self.page.locator("ol.timeline > li").all_inner_texts()
        ]
