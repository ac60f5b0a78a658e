"""Staff sessions in cookies: Cognito's tokens plus a signed, sliding session.

The session cookie is signed with the server secret and carries the chosen
school, the staff id, the sign-in name and a CSRF token. Its signature holds a
timestamp: a session unused for INACTIVITY_SECONDS is over, whatever the tokens
say. Every cookie is Secure, HttpOnly and SameSite=Strict, scoped to /staff.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, replace
from http.cookies import CookieError, SimpleCookie
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from chalicelib.config import settings

# A tablet left on a desk in the staff room must not stay signed in for long.
INACTIVITY_SECONDS = 30 * 60
# The refresh token lets a working session outlive the 1-hour access token.
REFRESH_COOKIE_SECONDS = 12 * 3600

SESSION_COOKIE = "m5_session"
ACCESS_COOKIE = "m5_access"
REFRESH_COOKIE = "m5_refresh"
COOKIE_PATH = "/staff"


@dataclass(frozen=True)
class Session:
    email: str
    subject: str  # Cognito's user id: the session belongs to this user's tokens
    csrf: str
    issued_at: int = 0  # sign-in time (epoch ms): signing out ends older sessions
    school_id: str | None = None
    staff_id: str | None = None

    def for_school(self, school_id: str, staff_id: str) -> Session:
        return replace(self, school_id=school_id, staff_id=staff_id)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="m5-staff-session")


def new_session(email: str, subject: str) -> Session:
    return Session(
        email=email,
        subject=subject,
        csrf=secrets.token_urlsafe(32),
        issued_at=int(time.time() * 1000),
    )


def read_cookies(headers: Any) -> dict[str, str]:
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie") or "")
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in cookie.items()}


def load_session(cookies: dict[str, str]) -> Session | None:
    """The session, or None when absent, tampered with or inactive too long."""
    raw = cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=INACTIVITY_SECONDS)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("email"), str):
        return None
    return Session(
        email=data["email"],
        subject=str(data.get("subject", "")),
        csrf=str(data.get("csrf", "")),
        issued_at=int(data.get("issued_at") or 0),
        school_id=data.get("school_id"),
        staff_id=data.get("staff_id"),
    )


def csrf_valid(session: Session, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(session.csrf, submitted or "")


def _cookie(name: str, value: str, max_age: int) -> str:
    # Browsers accept Secure cookies on http://127.0.0.1 too, so local runs match.
    return (
        f"{name}={value}; Path={COOKIE_PATH}; Max-Age={max_age}; Secure; HttpOnly;"
        " SameSite=Strict"
    )


def session_cookies(
    session: Session, access_token: str | None = None, refresh_token: str | None = None
) -> list[str]:
    """Set-Cookie values that (re)start the inactivity clock."""
    payload = {
        "email": session.email,
        "subject": session.subject,
        "csrf": session.csrf,
        "issued_at": session.issued_at,
        "school_id": session.school_id,
        "staff_id": session.staff_id,
    }
    cookies = [
        _cookie(SESSION_COOKIE, _serializer().dumps(payload), INACTIVITY_SECONDS)
    ]
    if access_token:
        cookies.append(_cookie(ACCESS_COOKIE, access_token, REFRESH_COOKIE_SECONDS))
    if refresh_token:
        cookies.append(_cookie(REFRESH_COOKIE, refresh_token, REFRESH_COOKIE_SECONDS))
    return cookies


def cleared_cookies() -> list[str]:
    return [
        _cookie(name, "", 0) for name in (SESSION_COOKIE, ACCESS_COOKIE, REFRESH_COOKIE)
    ]


# Between a correct password and a working authenticator app: who signed in,
# with Cognito's tokens, for at most MFA_SETUP_SECONDS. No staff page accepts
# this cookie; only the authenticator set-up does.
MFA_SETUP_COOKIE = "m5_mfa_setup"
MFA_SETUP_SECONDS = 10 * 60


def _setup_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="m5-mfa-setup")


def mfa_setup_cookie(
    email: str, access_token: str, refresh_token: str | None, secret: str
) -> str:
    value = _setup_serializer().dumps(
        {
            "email": email,
            "access": access_token,
            "refresh": refresh_token,
            "secret": secret,
        }
    )
    return _cookie(MFA_SETUP_COOKIE, value, MFA_SETUP_SECONDS)


def load_mfa_setup(
    cookies: dict[str, str],
) -> tuple[str, str, str | None, str] | None:
    """(email, access token, refresh token, secret) of a pending set-up, or None."""
    raw = cookies.get(MFA_SETUP_COOKIE)
    if not raw:
        return None
    try:
        data = _setup_serializer().loads(raw, max_age=MFA_SETUP_SECONDS)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("email"), str):
        return None
    return (
        data["email"],
        str(data.get("access") or ""),
        data.get("refresh"),
        str(data.get("secret") or ""),
    )


def cleared_mfa_setup() -> str:
    return _cookie(MFA_SETUP_COOKIE, "", 0)


# Between a right password and the authenticator's code: whose sign-in this is
# and Cognito's challenge session, signed, so the code page cannot be turned
# into someone else's sign-in by editing the form.
MFA_CHALLENGE_COOKIE = "m5_mfa_challenge"
MFA_CHALLENGE_SECONDS = 3 * 60  # Cognito's challenge session lasts three minutes


def _challenge_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="m5-mfa-challenge")


def mfa_challenge_cookie(email: str, challenge_session: str) -> str:
    value = _challenge_serializer().dumps(
        {"email": email, "session": challenge_session}
    )
    return _cookie(MFA_CHALLENGE_COOKIE, value, MFA_CHALLENGE_SECONDS)


def load_mfa_challenge(cookies: dict[str, str]) -> tuple[str, str] | None:
    """(email, Cognito challenge session) of a sign-in waiting for its code."""
    raw = cookies.get(MFA_CHALLENGE_COOKIE)
    if not raw:
        return None
    try:
        data = _challenge_serializer().loads(raw, max_age=MFA_CHALLENGE_SECONDS)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("email"), str):
        return None
    return data["email"], str(data.get("session") or "")


def cleared_mfa_challenge() -> str:
    return _cookie(MFA_CHALLENGE_COOKIE, "", 0)
