"""Cognito access tokens: only a genuine, current access token of our own user pool
and app client signs a staff member in.

Each forged token is refused twice: by `verify_access_token` directly, and at the
door, sent as the access cookie of an otherwise valid session (without a refresh
token, which would otherwise fetch a genuine token instead).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib import auth, aws, sessions
from chalicelib.auth import AuthError, EmulatorKeyRefused, verify_access_token
from local.seed import DEMO_PASSWORD

from .staff_fixtures import (
    MOTO_PRIVATE_JWK,
    MOTO_PUBLIC_JWKS,
    KeySetServer,
    StaffWorld,
    add_login,
    redirects_to_login,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

REPO = Path(__file__).resolve().parents[2]
# The emulator's signing key: anyone holding moto can sign with it.
MOTO_KEY = jwt.PyJWK(MOTO_PRIVATE_JWK).key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    _, payload, signature = token.split(".")
    pad = "=" * (-len(payload) % 4)
    claims = json.loads(base64.urlsafe_b64decode(payload + pad))
    return jwt.get_unverified_header(token), claims, signature


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode())
        for part in (header, claims)
    )


def _own_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Tokens:
    """Genuine tokens from moto's Cognito, and the world they belong to."""

    world: StaffWorld
    access: str
    id_token: str
    other_client: str  # access token of another app client of the same pool
    other_pool: str  # access token of the same person in another user pool


@pytest.fixture(scope="module")
def tokens(staff_world: StaffWorld) -> Tokens:
    world = staff_world
    cognito = aws.client("cognito-idp")
    email = world.member("coordinator").email
    other_client = cognito.create_user_pool_client(
        UserPoolId=world.pool_id,
        ClientName="another-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    other_pool = cognito.create_user_pool(PoolName="another-pool")["UserPool"]["Id"]
    other_pool_client = cognito.create_user_pool_client(
        UserPoolId=other_pool,
        ClientName="another-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    add_login(other_pool, email)
    own = world.tokens("coordinator")

    def access_token_of(client_id: str) -> str:
        result = cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": DEMO_PASSWORD},
        )
        return str(result["AuthenticationResult"]["AccessToken"])

    return Tokens(
        world,
        access=own["AccessToken"],
        id_token=own["IdToken"],
        other_client=access_token_of(other_client),
        other_pool=access_token_of(other_pool_client),
    )


def _edited_claims(t: Tokens) -> str:
    header, claims, signature = _segments(t.access)
    claims["exp"] = int(time.time()) + 30 * 24 * 3600
    return f"{_unsigned(header, claims)}.{signature}"


def _other_subject(t: Tokens) -> str:
    header, claims, signature = _segments(t.access)
    claims["sub"] = "00000000-0000-0000-0000-000000000000"
    return f"{_unsigned(header, claims)}.{signature}"


def _own_key_with_kid_dummy(t: Tokens) -> str:
    _, claims, _ = _segments(t.access)
    return jwt.encode(claims, _own_key(), algorithm="RS256", headers={"kid": "dummy"})


def _expired(t: Tokens) -> str:
    _, claims, _ = _segments(t.access)
    claims["exp"] = int(time.time()) - auth.LEEWAY_SECONDS - 60
    return jwt.encode(claims, MOTO_KEY, algorithm="RS256", headers={"kid": "dummy"})


def _wrong_client_id_claim(t: Tokens) -> str:
    _, claims, _ = _segments(t.access)
    claims["client_id"] = "someone-elses-app"
    return jwt.encode(claims, MOTO_KEY, algorithm="RS256", headers={"kid": "dummy"})


def _without_token_use(t: Tokens) -> str:
    _, claims, _ = _segments(t.access)
    del claims["token_use"]
    return jwt.encode(claims, MOTO_KEY, algorithm="RS256", headers={"kid": "dummy"})


def _alg_none(t: Tokens) -> str:
    _, claims, _ = _segments(t.access)
    return f"{_unsigned({'alg': 'none', 'kid': 'dummy', 'typ': 'JWT'}, claims)}."


def _hs256_with_public_key(t: Tokens) -> str:
    # The classic confusion attack: the public key, which anyone can fetch, used
    # as an HMAC secret. PyJWT refuses to sign like that, so it is signed by hand.
    _, claims, _ = _segments(t.access)
    public = jwt.PyJWK(MOTO_PUBLIC_JWKS["keys"][0]).key
    secret = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = _unsigned({"alg": "HS256", "kid": "dummy", "typ": "JWT"}, claims)
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def _rs512(t: Tokens) -> str:
    _, claims, _ = _segments(t.access)
    return jwt.encode(claims, MOTO_KEY, algorithm="RS512", headers={"kid": "dummy"})


def _unknown_kid(t: Tokens) -> str:
    _, claims, _ = _segments(t.access)
    return jwt.encode(claims, _own_key(), algorithm="RS256", headers={"kid": "mine"})


def _kid_not_a_string(t: Tokens) -> str:
    header, claims, signature = _segments(t.access)
    return f"{_unsigned({**header, 'kid': ['dummy']}, claims)}.{signature}"


FORGERIES: dict[str, Callable[[Tokens], str]] = {
    "claims-edited-signature-kept": _edited_claims,
    "subject-edited-signature-kept": _other_subject,
    "signed-with-another-key-kid-dummy": _own_key_with_kid_dummy,
    "expired": _expired,
    "wrong-client-id-claim": _wrong_client_id_claim,
    "access-token-of-another-app-client": lambda t: t.other_client,
    "id-token-instead-of-access-token": lambda t: t.id_token,
    "token-of-another-user-pool": lambda t: t.other_pool,
    "no-token-use-claim": _without_token_use,
    "alg-none": _alg_none,
    "hs256-with-public-key-as-secret": _hs256_with_public_key,
    "rs512-not-the-agreed-algorithm": _rs512,
    "unknown-kid": _unknown_kid,
    "kid-not-a-string": _kid_not_a_string,
    "empty": lambda t: "",
    "not-a-jwt": lambda t: "eyJhbGciOi.bm90LWpzb24.c2ln",
    "two-segments": lambda t: ".".join(t.access.split(".")[:2]),
}


def test_genuine_access_token_is_accepted(tokens):
    identity = verify_access_token(tokens.access)

    _, claims, _ = _segments(tokens.access)
    assert identity.subject == claims["sub"]


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_forged_token_is_refused(tokens, forge):
    token = forge(tokens)

    with pytest.raises(AuthError):
        verify_access_token(token)


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_forged_access_cookie_signs_nobody_in(tokens, forge):
    browser = tokens.world.sign_in("coordinator")
    browser.cookies.pop(sessions.REFRESH_COOKIE)
    browser.cookies[sessions.ACCESS_COOKIE] = forge(tokens)

    response = browser.get("/staff/")

    assert redirects_to_login(response)
    assert sessions.SESSION_COOKIE not in browser.cookies  # cleared by the answer


def test_genuine_token_of_another_staff_member_does_not_fit_my_session(tokens):
    browser = tokens.world.sign_in("teacher")
    browser.cookies.pop(sessions.REFRESH_COOKIE)
    browser.cookies[sessions.ACCESS_COOKIE] = tokens.access  # the coordinator's

    response = browser.get("/staff/")

    assert redirects_to_login(response)


def test_forged_access_cookie_with_refresh_token_gets_a_genuine_token(tokens):
    browser = tokens.world.sign_in("coordinator")
    forged = _edited_claims(tokens)
    browser.cookies[sessions.ACCESS_COOKIE] = forged

    response = browser.get("/staff/")

    assert response.status_code == 200
    assert browser.cookies[sessions.ACCESS_COOKIE] != forged
    verify_access_token(browser.cookies[sessions.ACCESS_COOKIE])


def test_expired_access_token_is_renewed_with_the_refresh_token(tokens):
    browser = tokens.world.sign_in("coordinator")
    browser.cookies[sessions.ACCESS_COOKIE] = _expired(tokens)

    response = browser.get("/staff/")

    assert response.status_code == 200
    assert verify_access_token(browser.cookies[sessions.ACCESS_COOKIE])


def test_invalid_refresh_token_signs_nobody_in(tokens):
    browser = tokens.world.sign_in("coordinator")
    browser.cookies[sessions.ACCESS_COOKIE] = _expired(tokens)
    browser.cookies[sessions.REFRESH_COOKIE] = "not-a-refresh-token"

    response = browser.get("/staff/")

    assert redirects_to_login(response)


# -- The emulator's public key outside a laptop ------------------------------


@pytest.fixture
def deployed_stage(
    monkeypatch: pytest.MonkeyPatch, key_set_server: KeySetServer
) -> Iterator[KeySetServer]:
    """auth.py as a deployed stage sees it; the served key set is the test's to set."""
    monkeypatch.setattr(auth, "settings", replace(auth.settings, stage="production"))
    auth._jwks_client.cache_clear()
    yield key_set_server
    key_set_server.key_set = MOTO_PUBLIC_JWKS
    auth._jwks_client.cache_clear()


def _key_set_of(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**public, "kid": "dummy", "alg": "RS256", "use": "sig"}]}


def test_emulator_key_set_is_refused_as_such():
    keys = jwt.PyJWKSet.from_dict(MOTO_PUBLIC_JWKS).keys

    with pytest.raises(EmulatorKeyRefused):
        auth.refuse_emulator_keys(keys)


def test_deployed_stage_refuses_the_emulator_key_set(tokens, deployed_stage):
    deployed_stage.key_set = MOTO_PUBLIC_JWKS

    with pytest.raises(EmulatorKeyRefused):
        auth.check_key_set_at_start_up()


def test_deployed_stage_accepts_its_own_key_set(tokens, deployed_stage):
    key = _own_key()
    deployed_stage.key_set = _key_set_of(key)
    _, claims, _ = _segments(tokens.access)
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})

    auth.check_key_set_at_start_up()

    assert verify_access_token(token).subject == claims["sub"]


def _import_app(jwks_url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "M5_STAGE": "production",
        "M5_SECRET_KEY": "a-deployed-secret",
        "M5_COGNITO_POOL_ID": "eu-central-1_Deployed",
        "M5_COGNITO_CLIENT_ID": "deployed-client",
        "M5_COGNITO_JWKS_URL": jwks_url,
    }
    return subprocess.run(
        [sys.executable, "-c", "import app"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_deployed_app_does_not_start_with_the_emulator_key(key_set_server):
    key_set_server.key_set = MOTO_PUBLIC_JWKS

    started = _import_app(key_set_server.url)

    assert started.returncode != 0
    assert "EmulatorKeyRefused" in started.stderr


def test_deployed_app_starts_with_a_real_key_set(key_set_server):
    key_set_server.key_set = _key_set_of(_own_key())
    try:
        started = _import_app(key_set_server.url)
    finally:
        key_set_server.key_set = MOTO_PUBLIC_JWKS

    assert started.returncode == 0, started.stderr
