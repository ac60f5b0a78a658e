"""The school administrator's pages in Chromium, under the staff pages' CSP.

A roster larger than one import step is uploaded: the preview lists the bad
lines, and the page's script then carries the import on step after step without
a click, each step one short request, until it is done.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from faker import Faker
from playwright.sync_api import Browser, expect

from chalicelib.roster import CHUNK_SIZE
from local.seed import DEMO_PASSWORD
from tests.browser.conftest import Console, LocalStack, new_tab
from tests.browser.reporter import SCHOOL, assert_accessible
from tests.browser.staff import STAFF_DOMAIN, TABLE_PREFIX

pytestmark = pytest.mark.browser

ADMINISTRATOR = f"beheer@{STAFF_DOMAIN}"
HEADER = "Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Groep"


def _roster(path: Path, lines: int) -> Path:
    """A partial export of `lines` new pupils and one line without a last name."""
    fake = Faker("nl_NL")
    fake.seed_instance(6)
    rows = [
        f"{600000 + n};{fake.first_name()};;{fake.last_name()};Groep {3 + n % 6}"
        for n in range(lines)
    ]
    rows.append(f"699999;{fake.first_name()};;;Groep 4")
    path.write_text("\r\n".join([HEADER, *rows]) + "\r\n", encoding="cp1252")
    return path


def _imported(stack: LocalStack) -> int:
    found = stack.dynamodb().query(
        TableName=f"{TABLE_PREFIX}pupils",
        KeyConditionExpression="school_id = :school AND begins_with(pupil_id, :six)",
        ExpressionAttributeValues={":school": {"S": SCHOOL}, ":six": {"S": "6"}},
        Select="COUNT",
    )
    return int(found["Count"])


def test_administrator_imports_a_roster_in_steps_and_invites_a_colleague(
    browser: Browser, stack: LocalStack, console: Console, tmp_path: Path
):
    lines = 2 * CHUNK_SIZE + 100  # three import steps
    csv_file = _roster(tmp_path / "leerlingen.csv", lines)
    steps: list[str] = []

    with new_tab(browser, stack.base_url, console, phone=False) as page:
        page.on(
            "request",
            lambda r: (
                steps.append(r.url)
                if r.method == "POST" and r.url.endswith("/roster/import")
                else None
            ),
        )
        page.goto("/staff/login")
        page.fill("#email", ADMINISTRATOR)
        page.fill("#password", DEMO_PASSWORD)
        page.click("form.stack button[type=submit]")
        page.get_by_role("link", name="Leerlingenlijst inlezen").first.click()
        assert_accessible(page, "roster upload")

        page.set_input_files("#roster-pupils", str(csv_file))
        page.check("input[name=partial]")
        page.get_by_role("button", name="Laat zien wat er verandert").click()
        expect(
            page.get_by_role("heading", name="Wat er zou veranderen")
        ).to_be_visible()
        assert_accessible(page, "roster preview")
        preview_errors = page.locator("table.reports tbody tr").all_inner_texts()

        page.get_by_role("button", name="Wijzigingen inlezen").click()
        expect(page.get_by_text("Het inlezen is klaar.")).to_be_visible(timeout=60_000)
        assert_accessible(page, "roster import done")

        page.get_by_role("link", name="Accounts").first.click()
        assert_accessible(page, "staff accounts")
        page.fill("#invite-name", "Sanne de Boer")
        page.fill("#invite-email", f"sanne@{STAFF_DOMAIN}")
        page.locator('form[action="/staff/admin/staff"] input[value=teacher]').check()
        page.select_option("#invite-groups", label="Groep 4")
        page.get_by_role("button", name="Uitnodiging versturen").click()
        expect(page.get_by_role("status")).to_contain_text("verstuurd")
        listed = page.locator("table.reports").inner_text()

    assert len(preview_errors) == 1 and str(lines + 2) in preview_errors[0]
    assert len(steps) == 3
    assert _imported(stack) == lines
    assert "Sanne de Boer" in listed
