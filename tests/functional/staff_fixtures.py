"""Fixtures for the staff side: a signed-in browser per staff member, over moto.

One fake AWS per test module (`staff_world`): both demo schools with their staff,
the staff as users of a moto Cognito user pool, a small roster and a few reports.
Staff sign in through the real `/staff/login` form and keep their cookies in a
`StaffBrowser`, so every request crosses the same session, token and role checks
as in production.

PyJWT fetches the pool's key set with urllib, which moto does not intercept (and
it refuses file:// addresses), so a loopback HTTP server publishes the key set:
moto's public key by default, or any other set a test puts there.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import pyotp
import pytest
from chalice.test import Client, HTTPResponse, TestHTTPClient
from faker import Faker
from moto import mock_aws

from app import app
from chalicelib import audit, auth, aws, reports, sessions
from chalicelib.cases import case_key
from chalicelib.config import settings
from chalicelib.models import (
    AuditEvent,
    CaseEvent,
    Pupil,
    Report,
    School,
    StaffMember,
    create_tables,
)
from chalicelib.receipts import receipt_code
from chalicelib.reports import store_report
from chalicelib.weeks import local_today
from local.seed import DEMO_PASSWORD, DEMO_SCHOOLS, create_school, create_staff

__all__ = [
    "key_set_server",
    "staff_world",
]

SCHOOL = "obs-de-regenboog"
OTHER_SCHOOL = "het-baken-college"
FORM_TYPE = "application/x-www-form-urlencoded"
# What a browser following a link asks for; Chalice answers a binary type (the
# accountability PDF) only to a request that accepts it, as */* does.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
MAIL_DOMAIN = "m5monitor.example"
# The demo staff member (local/seed.py) who holds each role at a school.
LOGIN_OF_ROLE = {
    "teacher": "leerkracht",  # teacher of one group (groups[4], "g-5" in primary)
    "deputy": "ib",  # deputy and teacher of the first group
    "coordinator": "coordinator",
    "leadership": "directie",
    "administrator": "beheer",
}


def _moto_key_set(name: str) -> dict[str, Any]:
    packed = resources.files("moto.cognitoidp").joinpath("resources", name)
    return dict(json.loads(gzip.decompress(packed.read_bytes())))


# moto signs every token with this key; its private half ships inside moto.
MOTO_PUBLIC_JWKS = _moto_key_set("jwks-public.json.gz")
MOTO_PRIVATE_JWK = _moto_key_set("jwks-private.json.gz")


class KeySetServer:
    """A loopback HTTP server answering every GET with `key_set` as JSON."""

    def __init__(self) -> None:
        self.key_set: dict[str, Any] = MOTO_PUBLIC_JWKS
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps(owner.key_set).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/jwks.json"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="session")
def key_set_server() -> Iterator[KeySetServer]:
    server = KeySetServer()
    yield server
    server.close()


def set_cookies(response: HTTPResponse) -> dict[str, str]:
    """The cookies a response sets, name -> value ("" for a cleared cookie)."""
    raw = response.headers.get("Set-Cookie") or []
    headers = raw if isinstance(raw, list) else [raw]
    cookies = {}
    for header in headers:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        cleared = "max-age=0" in attributes.lower().replace(" ", "")
        cookies[name] = "" if cleared else value
    return cookies


@dataclass
class StaffBrowser:
    """One staff member's browser: Chalice's test client plus a cookie jar.

    Every response's Set-Cookie headers update the jar, as a browser would, so the
    sliding session and refreshed tokens carry over to the next request.
    """

    http: TestHTTPClient
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        session = sessions.load_session(self.cookies)
        assert session is not None, "not signed in"
        return session.csrf

    def get(self, path: str, headers: dict[str, str] | None = None) -> HTTPResponse:
        return self.send(
            "GET", path, b"", {"Accept": BROWSER_ACCEPT, **(headers or {})}
        )

    def post(
        self,
        path: str,
        form: dict[str, str] | None = None,
        *,
        csrf: bool = True,
        headers: dict[str, str] | None = None,
    ) -> HTTPResponse:
        """Post a form as the staff pages do, with this session's CSRF token."""
        fields = dict(form or {})
        if csrf:
            fields.setdefault("csrf_token", self.csrf)
        sent = {"Content-Type": FORM_TYPE, **(headers or {})}
        return self.send("POST", path, urlencode(fields).encode(), sent)

    def send(
        self,
        method: str,
        path: str,
        body: bytes,
        headers: dict[str, str] | None = None,
    ) -> HTTPResponse:
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.http.request(method, path, headers=sent, body=body)
        for name, value in set_cookies(response).items():
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response


def case_events(report: Report) -> list[CaseEvent]:
    """The case's timeline as stored, oldest first."""
    return list(CaseEvent.query(case_key(report.school_id, report.report_id)))


def audit_actions(report: Report) -> list[str]:
    """The actions in the report's audit trail, oldest first."""
    trail = audit.report_trail(report.school_id, report.report_id)
    return [entry.action for entry in AuditEvent.query(trail)]


def html(response: HTTPResponse) -> str:
    # "replace": a PDF download is no UTF-8, and the checks on it are "not in".
    return response.body.decode("utf-8", "replace")


def redirects_to_login(response: HTTPResponse) -> bool:
    return response.status_code == 303 and response.headers["Location"] == (
        "/staff/login"
    )


@dataclass
class StaffWorld:
    """The seeded state of one module's fake AWS, and ways to act on it."""

    http: TestHTTPClient
    schools: dict[str, School]
    staff: dict[str, dict[str, StaffMember]]  # school -> staff id -> member
    pool_id: str
    client_id: str
    fake: Faker
    receipts: dict[str, str] = field(default_factory=dict)  # report id -> code
    # The authenticator secret each e-mail set up (two-step sign-in).
    totp_secrets: dict[str, str] = field(default_factory=dict)

    def member(self, role: str, school: str = SCHOOL) -> StaffMember:
        return self.staff[school][f"staff-{LOGIN_OF_ROLE[role]}"]

    def browser(self) -> StaffBrowser:
        return StaffBrowser(self.http)

    def sign_in(self, role: str, school: str = SCHOOL) -> StaffBrowser:
        """A browser signed in as the demo staff member holding this role."""
        browser = self.browser()
        email = self.member(role, school).email
        response = browser.post(
            "/staff/login", {"email": email, "password": DEMO_PASSWORD}, csrf=False
        )
        response = self.second_step(browser, email, response)
        assert response.status_code == 303, response.body
        assert response.headers["Location"] == "/staff/"
        return browser

    def second_step(
        self, browser: StaffBrowser, email: str, response: HTTPResponse
    ) -> HTTPResponse:
        """Answer the two-step sign-in as a person with an authenticator app
        would: set it up from the key shown the first time, type a code after."""
        body = html(response)
        setup = re.search(r'<code id="totp-secret">([^<]+)</code>', body)
        if response.status_code == 200 and setup:
            self.totp_secrets[email] = setup.group(1)
            code = pyotp.TOTP(setup.group(1)).now()
            return browser.post("/staff/mfa-setup", {"code": code}, csrf=False)
        if response.status_code == 200 and 'action="/staff/mfa"' in body:
            code = pyotp.TOTP(self.totp_secrets[email]).now()
            return browser.post("/staff/mfa", {"code": code}, csrf=False)
        return response

    def tokens(self, role: str, school: str = SCHOOL) -> dict[str, str]:
        """Cognito's own answer to a sign-in: AccessToken, IdToken, RefreshToken."""
        email = self.member(role, school).email
        cognito = aws.client("cognito-idp")
        result = cognito.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": DEMO_PASSWORD},
        )
        if result.get("ChallengeName") == "SOFTWARE_TOKEN_MFA":
            result = cognito.respond_to_auth_challenge(
                ClientId=self.client_id,
                ChallengeName="SOFTWARE_TOKEN_MFA",
                Session=result["Session"],
                ChallengeResponses={
                    "USERNAME": email,
                    "SOFTWARE_TOKEN_MFA_CODE": pyotp.TOTP(
                        self.totp_secrets[email]
                    ).now(),
                },
            )
        return dict(result["AuthenticationResult"])

    def enrol(self, school: str, group: str, pupil_id: str) -> Pupil:
        """Add one pupil with a Dutch name to a school's roster."""
        pupil = Pupil(
            school,
            pupil_id,
            first_name=self.fake.first_name(),
            last_name=self.fake.unique.last_name(),
            group=group,
            school_group=f"{school}#{group}",
        )
        pupil.save()
        return pupil

    def report(
        self, school: str = SCHOOL, group: str = "g-5", **answers: Any
    ) -> Report:
        """Store a report as intake does, about a pupil of `group`.

        Answers are the validated form (see chalicelib/validation.py); any given
        here replace the defaults unchecked, so stored text can be anything.
        """
        fake = self.fake
        fields: dict[str, Any] = {
            "language": "nl",
            "reporter_role": "parent",
            "anonymous": False,
            "contact": {
                "name": fake.name(),
                "email": fake.email(domain=MAIL_DOMAIN),
                "phone": None,
            },
            "categories": ["pesten"],
            "description": (
                f"{fake.first_name()} wordt uitgelachen in de pauze "
                f"(melding {uuid.uuid4().hex[:10]})."
            ),
            "hurt_self": False,
            "did_it_unknown": False,
            "persons": [
                {"role": "hurt", "name": fake.first_name(), "group": group},
                {"role": "did_it", "name": fake.name(), "group": group},
            ],
            "groups": [group],
            "location": "plein",
            "location_note": None,
            "occurred_on": (local_today() - timedelta(days=1)).isoformat(),
            "part_of_day": "break",
            "frequency": "several",
            "told": ["teacher"],
            "witnesses": None,
            "danger_now": "no",
            **answers,
        }
        key = uuid.uuid4().hex
        stored = store_report(self.schools[school], key, fields)
        self.receipts[stored.report_id] = receipt_code(school, key)
        return stored


def _user_pool() -> tuple[str, str]:
    cognito = aws.client("cognito-idp")
    pool = cognito.create_user_pool(
        PoolName="m5-test-staff", Policies={"PasswordPolicy": {"MinimumLength": 12}}
    )["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool,
        ClientName="m5-test-web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return pool, client


def add_login(pool_id: str, email: str) -> None:
    """A confirmed Cognito user with the demo password."""
    cognito = aws.client("cognito-idp")
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=email, Password=DEMO_PASSWORD, Permanent=True
    )


@pytest.fixture(scope="module")
def staff_world(
    request: pytest.FixtureRequest, key_set_server: KeySetServer
) -> Iterator[StaffWorld]:
    """A fresh fake AWS for this module, with schools, staff and their logins."""
    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        reports._persistence.cache_clear()
        create_tables()
        aws.client("ses").verify_domain_identity(Domain=MAIL_DOMAIN)
        pool_id, client_id = _user_pool()
        # Only auth.py reads the Cognito settings.
        patch.setattr(
            auth,
            "settings",
            replace(
                settings,
                cognito_pool_id=pool_id,
                cognito_client_id=client_id,
                cognito_jwks_url=key_set_server.url,
            ),
        )
        auth._jwks_client.cache_clear()

        fake = Faker("nl_NL")
        fake.seed_instance(request.node.nodeid)
        schools = {demo.slug: create_school(demo) for demo in DEMO_SCHOOLS}
        staff = {
            slug: {m.staff_id: m for m in create_staff(school, fake)}
            for slug, school in schools.items()
        }
        for members in staff.values():
            for member in members.values():
                add_login(pool_id, member.email)

        with Client(app) as client:
            yield StaffWorld(client.http, schools, staff, pool_id, client_id, fake)
        auth._jwks_client.cache_clear()
    reports._persistence.cache_clear()
