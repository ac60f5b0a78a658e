"""Helpers for the onboarding and administration tests: invitation mails, the
first sign-in with a temporary password, multipart uploads and hidden fields."""

from __future__ import annotations

import html as html_text
import re

from chalice.test import HTTPResponse
from urllib3 import encode_multipart_formdata

from .helpers import sent_mails
from .staff_fixtures import StaffBrowser, StaffWorld, html

FIRST_PASSWORD = "Mijn-eigen-wachtwoord-2026"
HEADER = "Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Groep"


def mails_to(address: str) -> list[str]:
    """The HTML bodies of the mails moto's SES accepted for this address."""
    return [
        m.body for m in sent_mails() if address in m.destinations.get("ToAddresses", [])
    ]


def temporary_password(mail_body: str) -> str:
    found = re.search(r'<code style="font-size:18px;">([^<]+)</code>', mail_body)
    assert found, "no temporary password in the mail"
    return html_text.unescape(found.group(1))


def first_sign_in(world: StaffWorld, email: str) -> StaffBrowser:
    """Sign in with the mailed temporary password and choose one's own password."""
    browser = world.browser()
    password = temporary_password(mails_to(email)[-1])
    challenge = browser.post(
        "/staff/login", {"email": email, "password": password}, csrf=False
    )
    assert 'action="/staff/new-password"' in html(challenge)
    session = hidden_value(html(challenge), "challenge_session")
    done = browser.post(
        "/staff/new-password",
        {
            "email": email,
            "challenge_session": session,
            "password": FIRST_PASSWORD,
            "password_again": FIRST_PASSWORD,
        },
        csrf=False,
    )
    done = world.second_step(browser, email, done)
    assert done.status_code == 303, html(done)
    return browser


def hidden_value(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no field {name}"
    return html_text.unescape(found.group(1))


def textarea(page: str, name: str) -> str:
    found = re.search(rf'<textarea name="{name}" hidden>(.*?)</textarea>', page, re.S)
    assert found, f"no textarea {name}"
    return html_text.unescape(found.group(1))


def upload(
    browser: StaffBrowser,
    path: str,
    fields: dict[str, str | tuple[str, bytes]],
    *,
    csrf: bool = True,
) -> HTTPResponse:
    """POST a multipart form as a browser does for a form with a file input."""
    sent = dict(fields)
    if csrf:
        sent.setdefault("csrf_token", browser.csrf)
    body, content_type = encode_multipart_formdata(sent)
    return browser.send("POST", path, body, {"Content-Type": content_type})


def carried_fields(page: str) -> dict[str, str | tuple[str, bytes]]:
    """The hidden fields of an import step's form, as the browser posts them."""
    fields: dict[str, str | tuple[str, bytes]] = {
        "pupils_text": textarea(page, "pupils_text"),
        "teachers_text": textarea(page, "teachers_text"),
        "offset": hidden_value(page, "offset"),
        "error_count": hidden_value(page, "error_count"),
    }
    for option in ("partial", "create_groups"):
        if f'name="{option}" value="1"' in page:
            fields[option] = "1"
    return fields


def import_roster(browser: StaffBrowser, preview_page: str) -> list[HTTPResponse]:
    """Press "Import" and then follow each step's Continue form to the end."""
    steps = []
    page = preview_page
    while 'action="/staff/admin/roster/import"' in page:
        response = upload(browser, "/staff/admin/roster/import", carried_fields(page))
        assert response.status_code == 200, html(response)
        steps.append(response)
        page = html(response)
    return steps
