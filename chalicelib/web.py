"""Server-rendered staff pages: HTML responses, form posts, the staff_view guard."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chalice.app import Blueprint, Request, Response

from chalicelib import auth, sessions
from chalicelib.access import RULES, Rule, StaffContext
from chalicelib.config import settings
from chalicelib.errors import NotFound, PayloadTooLarge
from chalicelib.i18n import both
from chalicelib.models import StaffMember
from chalicelib.obs import logger
from chalicelib.templating import render

FORM_TYPES = ["application/x-www-form-urlencoded"]
# A staff form is small; anything larger is refused before parsing.
MAX_FORM_BYTES = 32 * 1024
# A form with a file (the roster upload): the file's own limit is roster.MAX_BYTES;
# this bounds the whole body before it is parsed. API Gateway passes these bodies
# as binary (app.api.binary_types), so a Windows-1252 file arrives byte for byte.
# Lambda's 6 MB request limit counts the base64 form: about 4.4 MB of file, some
# 50,000 roster lines, far beyond any school's export.
UPLOAD_TYPES = ["multipart/form-data"]
MAX_UPLOAD_BYTES = 6 * 1024 * 1024

PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # same-origin: links to other sites carry no referrer, while our own form
    # posts keep their Origin header (with no-referrer Chromium sends "null").
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}


def page(
    template: str,
    language: str,
    status: int = 200,
    cookies: Iterable[str] = (),
    **context: Any,
) -> Response:
    headers: dict[str, Any] = dict(PAGE_HEADERS)
    cookie_list = list(cookies)
    if cookie_list:
        headers["Set-Cookie"] = cookie_list
    html = render(template, language, **context)
    return Response(body=html, status_code=status, headers=headers)


def redirect(location: str, cookies: Iterable[str] = ()) -> Response:
    headers: dict[str, Any] = {"Location": location, "Cache-Control": "no-store"}
    cookie_list = list(cookies)
    if cookie_list:
        headers["Set-Cookie"] = cookie_list
    return Response(body="", status_code=303, headers=headers)


def form_data(request: Request) -> dict[str, str]:
    """A posted urlencoded form; the last value wins for repeated names."""
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode()
    if len(raw) > MAX_FORM_BYTES:
        raise PayloadTooLarge(both("This form is too large."))
    fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}


def _raw_body(request: Request) -> bytes:
    raw = request.raw_body or b""
    return raw.encode() if isinstance(raw, str) else raw


def is_upload(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.split(";")[0].strip().lower() == UPLOAD_TYPES[0]


def upload_data(request: Request) -> dict[str, bytes]:
    """A posted multipart form: each field's bytes (files and text alike)."""
    raw = _raw_body(request)
    if len(raw) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(both("This form is too large."))
    header = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(
        header.encode("latin-1", "replace") + raw
    )
    if not message.is_multipart():
        return {}
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str) and name not in fields:
            payload = part.get_payload(decode=True)
            fields[name] = payload if isinstance(payload, bytes) else b""
    return fields


def _posted_csrf(request: Request) -> str | None:
    if is_upload(request):
        token = upload_data(request).get("csrf_token")
        return token.decode("utf-8", "replace") if token is not None else None
    return form_data(request).get("csrf_token")


def form_lists(request: Request) -> dict[str, list[str]]:
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode()
    return parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)


def same_origin(request: Request) -> bool:
    """A state-changing request must come from our own pages (no Origin: old client)."""
    origin = request.headers.get("origin")
    if not origin:
        return True
    expected = urlsplit(settings.public_base_url)
    actual = urlsplit(origin)
    return (actual.scheme, actual.netloc) == (expected.scheme, expected.netloc)


def _login_redirect(clear: bool = True) -> Response:
    return redirect("/staff/login", sessions.cleared_cookies() if clear else ())


def staff_context(request: Request) -> StaffContext | None:
    """The signed-in staff member of this request, or None.

    Checked on every request: the session cookie (signature and inactivity), the
    Cognito access token (refreshed when expired), and the staff record itself,
    so a deactivated member loses access at once even with a valid token.
    """
    cookies = sessions.read_cookies(request.headers)
    session = sessions.load_session(cookies)
    if session is None or not session.school_id or not session.staff_id:
        return None
    verified = _verified_identity(cookies, session)
    if verified is None:
        return None
    identity, set_cookies = verified
    try:
        member = StaffMember.get(session.school_id, session.staff_id)
    except StaffMember.DoesNotExist:
        return None
    same_user = identity.subject == session.subject and member.email == session.email
    signed_out = member.signed_out_at is not None and session.issued_at <= int(
        member.signed_out_at
    )
    if not member.active or not same_user or signed_out:
        return None
    return StaffContext(member, session, identity, set_cookies)


def _verified_identity(
    cookies: dict[str, str], session: sessions.Session
) -> tuple[auth.Identity, list[str]] | None:
    """The access token's identity, refreshing an expired token once."""
    try:
        identity = auth.verify_access_token(cookies.get(sessions.ACCESS_COOKIE, ""))
    except auth.AuthError:
        refresh_token = cookies.get(sessions.REFRESH_COOKIE)
        if not refresh_token:
            return None
        try:
            access_token = auth.refresh(refresh_token)
            identity = auth.verify_access_token(access_token)
        except auth.AuthError:
            return None
        return identity, sessions.session_cookies(session, access_token=access_token)
    return identity, sessions.session_cookies(session)


def staff_view(
    blueprint: Blueprint, roles: Iterable[str]
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Guard a staff route: signed in, role admitted, CSRF checked on POST."""
    rule = Rule(frozenset(roles))

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        RULES[view.__name__] = rule

        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Response:
            request = blueprint.current_request
            if request is None:
                raise RuntimeError("no current request")
            context = staff_context(request)
            if context is None:
                return _login_redirect()
            try:
                if not context.roles & rule.roles:
                    raise NotFound(both("This page does not exist."))
                if request.method == "POST":
                    submitted = _posted_csrf(request)
                    if not same_origin(request) or not sessions.csrf_valid(
                        context.session, submitted
                    ):
                        return error_page(context, 403, "forbidden")
                response = view(context, *args, **kwargs)
            except NotFound:
                return error_page(context, 404, "not_found")
            except PayloadTooLarge:
                return error_page(context, 413, "too_large")
            except Exception:
                logger.exception("staff page failed")
                return error_page(context, 500, "internal_error")
            existing = response.headers.get("Set-Cookie")
            cookies = list(context.set_cookies)
            if existing:
                cookies.extend(existing if isinstance(existing, list) else [existing])
            response.headers["Set-Cookie"] = cookies
            return response

        return guarded

    return decorate


def error_page(context: StaffContext | None, status: int, kind: str) -> Response:
    logger.info("staff request refused", extra={"status": status, "error": kind})
    language = context.language if context else "nl"
    return page(
        "staff/error.html",
        language,
        status=status,
        kind=kind,
        staff=context,
        cookies=context.set_cookies if context else (),
    )
