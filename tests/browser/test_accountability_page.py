"""The accountability report in a real browser: reached from the insights page,
accessible, and both downloads arrive whole through the local front."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from tests.browser.conftest import LocalStack
from tests.browser.staff import STAFF_DOMAIN, StaffUI

pytestmark = pytest.mark.browser

LEADERSHIP = f"directie@{STAFF_DOMAIN}"
# Chromium's Accept header for a top-level navigation.
NAVIGATION_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
    "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)


@pytest.fixture
def leadership_page(browser: Browser, stack: LocalStack) -> Iterator[Page]:
    context = browser.new_context(
        base_url=stack.base_url,
        viewport={"width": 1024, "height": 768},
        locale="nl-NL",
        timezone_id="Europe/Amsterdam",
        accept_downloads=True,
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    messages: list[str] = []
    tab.on("console", lambda message: messages.append(message.text))
    yield tab
    context.close()
    assert [m for m in messages if "Content Security Policy" in m] == []


def _download(page: Page, link_text: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_text).click()
    path = info.value.path()
    return Path(path).read_bytes()


def _fetch(page: Page, link_text: str) -> bytes:
    """The link's target as the browser would ask for it, with its cookies.

    Headless Chromium cancels PDF downloads (its PDF viewer takes the response,
    microsoft/playwright-python#2169), so the PDF is fetched by the page's own
    request context instead of a click.
    """
    href = page.get_by_role("link", name=link_text).get_attribute("href")
    assert href
    response = page.request.get(href, headers={"Accept": NAVIGATION_ACCEPT})
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    return response.body()


def test_leadership_downloads_the_report_as_csv_and_pdf(leadership_page: Page):
    ui = StaffUI(leadership_page)
    ui.sign_in(LEADERSHIP)
    ui.open("/staff/insights", "insights")

    leadership_page.get_by_role(
        "link", name="Verantwoordingsrapportage voor de MR en de inspectie"
    ).click()
    expect(leadership_page.locator("h1")).to_have_text("Verantwoordingsrapportage")
    ui.check("accountability report")
    total = leadership_page.locator("#totals tfoot td").inner_text()
    csv_file = _download(leadership_page, "Download als CSV (spreadsheet)")
    pdf_file = _fetch(leadership_page, "Download als PDF")

    text = csv_file.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    pdf_text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(pdf_file)).pages
    )
    assert text.startswith("\ufeffVerantwoordingsrapportage")
    assert ["Ontvangen meldingen", "Totaal", total] in rows
    assert pdf_file.startswith(b"%PDF-") and pdf_file.rstrip().endswith(b"%%EOF")
    assert f"Totaal {total}" in pdf_text
