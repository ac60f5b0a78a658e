"""The local outbox: the mails moto's SES accepted, readable as in a mail client.

Local only: moto's server runs in the same process as the local front, so its
SES backend can be read directly. Nothing here is part of the deployment.

A mail's HTML part is served on its own address with a policy that allows no
scripts, no requests and no forms, and is shown in a sandboxed frame: mail HTML
is rendered as a mail client would, and cannot act on the local site.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import message_from_string, policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

from chalicelib.config import settings
from chalicelib.weeks import SCHOOL_TZ

TEMPLATES = Path(__file__).resolve().parent / "templates"

# The HTML part may only style itself and show inline images: no scripts, no
# requests to anywhere, no forms, and (sandbox) no same-origin access.
HTML_PART_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "form-action 'none'; base-uri 'none'; frame-ancestors 'self'; sandbox"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; "
        "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class OutboxMail:
    message_id: str
    subject: str
    to: list[str]
    sent_at: datetime | None  # the Date header; SendEmail mails have none
    html: str | None
    text: str | None


def _ses_backend() -> Any:
    return get_backend("ses")[DEFAULT_ACCOUNT_ID][settings.region]


def mails() -> list[OutboxMail]:
    """Every mail SES accepted, newest first."""
    found = [_read(m) for m in list(_ses_backend().sent_messages)]
    return [m for m in reversed(found) if m is not None]


def mail(message_id: str) -> OutboxMail | None:
    return next((m for m in mails() if m.message_id == message_id), None)


def _read(message: Any) -> OutboxMail | None:
    raw = getattr(message, "raw_data", None)
    if raw is not None:  # SendRawEmail: the whole MIME message
        return _from_mime(message.id, raw)
    if hasattr(message, "body"):  # SendEmail: moto keeps the HTML or else the text
        body = str(message.body)
        is_html = body.lstrip().lower().startswith(("<!doctype", "<html"))
        return OutboxMail(
            message_id=message.id,
            subject=str(message.subject),
            to=[a for addresses in message.destinations.values() for a in addresses],
            sent_at=None,
            html=body if is_html else None,
            text=None if is_html else body,
        )
    return None  # templated mails: this product sends none


def _from_mime(message_id: str, raw: str) -> OutboxMail:
    parsed = message_from_string(raw, policy=policy.default)
    html = parsed.get_body(preferencelist=("html",))
    text = parsed.get_body(preferencelist=("plain",))
    date = parsed["Date"]
    return OutboxMail(
        message_id=message_id,
        subject=str(parsed["Subject"] or ""),
        to=[str(a.addr_spec) for a in parsed["To"].addresses] if parsed["To"] else [],
        sent_at=parsedate_to_datetime(str(date)) if date else None,
        html=str(html.get_content()) if html is not None else None,
        text=str(text.get_content()) if text is not None else None,
    )


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.globals["tz"] = SCHOOL_TZ


def render(template: str, **context: object) -> str:
    return _environment.get_template(template).render(**context)
