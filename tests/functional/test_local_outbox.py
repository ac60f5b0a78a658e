"""The local outbox lists what moto's SES accepted and shows each mail's HTML part
without letting it run anything, and its text part as text."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_string, policy
from email.message import EmailMessage
from typing import Any

import pytest
from markupsafe import escape
from werkzeug.test import Client

from app import app
from chalicelib import aws
from chalicelib.config import settings
from chalicelib.models import StaffMember
from chalicelib.weeks import iso_week, now_utc
from functions import weekly_mail
from local.front import Front
from local.seed import DEMO_SCHOOLS
from tests.functional.helpers import sent_mails

WEEK = iso_week(now_utc() - timedelta(days=7))
SCHOOL = DEMO_SCHOOLS[0].slug


@pytest.fixture
def front(demo_schools: dict[str, list[StaffMember]]) -> Client:
    return Client(Front(app, list(demo_schools), "http://127.0.0.1:8000"))


def send_raw(to: str, subject: str, text: str, html: str) -> str:
    """One mail straight through SES, as any sender in the product could."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.mail_from
    message["To"] = to
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    response = aws.client("ses").send_raw_email(
        Source=settings.mail_from, RawMessage={"Data": message.as_bytes()}
    )
    return str(response["MessageId"])


def message_ids_listed(page: str) -> list[str]:
    return re.findall(r'href="/outbox/([^"/]+)"', page)


def test_outbox_lists_every_weekly_mail_newest_first(
    front: Client, demo_schools: dict[str, list[StaffMember]]
) -> None:
    teachers = [m for m in demo_schools[SCHOOL] if "teacher" in m.roles and m.groups]

    summary = weekly_mail.run_teacher_mail(WEEK, [SCHOOL])
    response = front.get("/outbox")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert summary.sent == len(teachers) > 1
    accepted = [m.id for m in sent_mails()]
    assert message_ids_listed(page) == list(reversed(accepted))
    for member in teachers:
        assert member.email in page
    subjects = {
        str(message_from_string(m.raw_data, policy=policy.default)["Subject"])
        for m in sent_mails()
    }
    assert subjects and all(escape(s) in page for s in subjects)


def test_outbox_is_empty_before_any_mail(front: Client) -> None:
    response = front.get("/outbox")

    assert response.status_code == 200
    assert message_ids_listed(response.get_data(as_text=True)) == []
    assert "nog geen mails" in response.get_data(as_text=True)


def test_mail_page_shows_the_text_part_and_frames_the_html_part(
    front: Client, demo_schools: dict[str, list[StaffMember]]
) -> None:
    weekly_mail.run_teacher_mail(WEEK, [SCHOOL])
    [*_, last] = sent_mails()

    page = front.get(f"/outbox/{last.id}").get_data(as_text=True)
    part = front.get(f"/outbox/{last.id}/html")

    sent = message_from_string(last.raw_data, policy=policy.default)
    text = sent.get_body(preferencelist=("plain",))
    assert text is not None
    assert f"<pre>{escape(text.get_content())}</pre>" in page
    assert re.search(rf'<iframe[^>]* sandbox src="/outbox/{last.id}/html"', page)
    assert part.status_code == 200
    assert part.get_data(as_text=True).lstrip().startswith("<!DOCTYPE html>")
    assert part.mimetype == "text/html"


def test_html_part_may_not_run_scripts_or_load_anything(front: Client) -> None:
    message_id = send_raw(
        "leerkracht@m5monitor.example",
        "Proef",
        "a < b & <script>tekst</script>",
        '<p>hoi</p><script>alert(1)</script><img src="https://example.org/x.png">',
    )

    page = front.get(f"/outbox/{message_id}")
    part = front.get(f"/outbox/{message_id}/html")

    csp = part.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "sandbox" in csp.split("; ")
    assert "script-src" not in csp
    assert part.headers["X-Content-Type-Options"] == "nosniff"
    text = page.get_data(as_text=True)
    assert "a &lt; b &amp; &lt;script&gt;tekst&lt;/script&gt;" in text
    assert "<script" not in text
    assert "frame-src 'self'" in page.headers["Content-Security-Policy"]


def test_unknown_mail_is_not_found(front: Client) -> None:
    assert front.get("/outbox/not-a-message").status_code == 404
    assert front.get("/outbox/not-a-message/html").status_code == 404


def test_send_email_mails_show_the_part_moto_kept(front: Client) -> None:
    aws.client("ses").send_email(
        Source=settings.mail_from,
        Destination={"ToAddresses": ["coordinator@m5monitor.example"]},
        Message={
            "Subject": {"Data": "Alleen tekst"},
            "Body": {"Text": {"Data": "Regel een"}},
        },
    )
    [message] = sent_mails()

    listed: Any = front.get("/outbox").get_data(as_text=True)
    page = front.get(f"/outbox/{message.id}").get_data(as_text=True)

    assert message_ids_listed(listed) == [message.id]
    assert "<pre>Regel een</pre>" in page
    assert "geen HTML-deel" in page
    assert front.get(f"/outbox/{message.id}/html").status_code == 404
