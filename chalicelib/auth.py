"""Staff sign-in through Cognito, and verification of Cognito's access tokens.

Trust boundary: a token is accepted only when its RS256 signature verifies against
the user pool's published keys, its issuer is our pool, it was issued to our app
client, it is an access token (not an ID token) and it has not expired. The
local emulator's signing key is public, so a deployed stage refuses to start
with it.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import jwt
from botocore.exceptions import ClientError, ParamValidationError

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.errors import M5Error
from chalicelib.i18n import both

# SHA-256 of the modulus of moto's built-in Cognito signing key (its private half
# ships inside moto): tokens signed with it prove nothing outside a laptop.
EMULATOR_KEY_FINGERPRINTS = frozenset(
    {"a546642aa4c7ab20f8c4f44630d64157359052f3b7ca6f75f2d3609d7b0aa150"}
)
# Clock skew tolerated between Cognito and Lambda.
LEEWAY_SECONDS = 30
# ID tokens are signed by the same pool; only access tokens authorise requests.
ACCESS_TOKEN_USE = "access"  # noqa: S105 (a claim value, not a secret)


class AuthError(M5Error):
    status = 401
    code = "not_signed_in"


class EmulatorKeyRefused(RuntimeError):
    """A deployed stage was pointed at the local emulator's public signing key."""


@dataclass(frozen=True)
class Identity:
    """Who a verified access token belongs to."""

    subject: str
    username: str
    token_id: str
    expires_at: int


@functools.cache
def _jwks_client() -> jwt.PyJWKClient:
    client = jwt.PyJWKClient(settings.cognito_jwks_url, cache_keys=True, lifespan=3600)
    if not settings.is_local:
        refuse_emulator_keys(client.get_jwk_set().keys)
    return client


def refuse_emulator_keys(keys: list[Any]) -> None:
    for key in keys:
        modulus = key._jwk_data.get("n", "")
        if hashlib.sha256(modulus.encode()).hexdigest() in EMULATOR_KEY_FINGERPRINTS:
            raise EmulatorKeyRefused(
                "The Cognito key set is the local emulator's public key; "
                "refusing to accept its tokens outside a local stage."
            )


def check_key_set_at_start_up() -> None:
    """Fetch the key set once so a misconfigured deployed stage fails loudly."""
    if settings.cognito_pool_id:
        _jwks_client()


def verify_access_token(token: str) -> Identity:
    """Verify a Cognito access token; any failure is 'not signed in'."""
    try:
        key = _jwks_client().get_signing_key_from_jwt(token).key
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            issuer=settings.cognito_issuer,
            leeway=LEEWAY_SECONDS,
            options={
                "require": ["exp", "iat", "iss", "sub", "token_use", "client_id"],
                "verify_aud": False,  # access tokens carry client_id, not aud
            },
        )
    except (jwt.PyJWTError, ValueError) as error:
        raise AuthError(both("Please sign in again."), cause=error) from error
    is_access_token = claims["token_use"] == ACCESS_TOKEN_USE
    if not is_access_token or claims["client_id"] != settings.cognito_client_id:
        raise AuthError(both("Please sign in again."))
    return Identity(
        subject=claims["sub"],
        username=claims.get("username", claims["sub"]),
        token_id=claims.get("jti", ""),
        expires_at=int(claims["exp"]),
    )


@dataclass(frozen=True)
class SignInResult:
    """Tokens on success, or the name of the challenge Cognito asks to answer."""

    access_token: str | None = None
    refresh_token: str | None = None
    challenge: str | None = None
    challenge_session: str | None = None


def _tokens(result: dict[str, Any]) -> SignInResult:
    tokens = result["AuthenticationResult"]
    return SignInResult(
        access_token=tokens["AccessToken"], refresh_token=tokens.get("RefreshToken")
    )


def sign_in(email: str, password: str) -> SignInResult:
    try:
        result = aws.client("cognito-idp").initiate_auth(
            ClientId=settings.cognito_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
    except ClientError as error:
        raise AuthError(
            both("E-mail address or password is not right."), cause=error
        ) from error
    if "ChallengeName" in result:
        return SignInResult(
            challenge=result["ChallengeName"], challenge_session=result.get("Session")
        )
    return _tokens(result)


def set_new_password(email: str, new_password: str, session: str) -> SignInResult:
    try:
        result = aws.client("cognito-idp").respond_to_auth_challenge(
            ClientId=settings.cognito_client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session,
            ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": new_password},
        )
    except (ClientError, ParamValidationError) as error:
        raise AuthError(
            both("This password cannot be used. Choose another one."), cause=error
        ) from error
    return _tokens(result)


def refresh(refresh_token: str) -> str:
    try:
        result = aws.client("cognito-idp").initiate_auth(
            ClientId=settings.cognito_client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
    except ClientError as error:
        raise AuthError(both("Please sign in again."), cause=error) from error
    return str(result["AuthenticationResult"]["AccessToken"])


def sign_out(access_token: str) -> None:
    """End every session of this user at Cognito (refresh tokens stop working)."""
    try:
        aws.client("cognito-idp").global_sign_out(AccessToken=access_token)
    except ClientError:
        return  # already signed out or expired: the cookies are cleared anyway


def start_password_reset(email: str) -> None:
    """Ask Cognito to mail a reset code. Unknown addresses look the same to callers."""
    try:
        aws.client("cognito-idp").forgot_password(
            ClientId=settings.cognito_client_id, Username=email
        )
    except ClientError:
        return


def finish_password_reset(email: str, code: str, new_password: str) -> None:
    try:
        aws.client("cognito-idp").confirm_forgot_password(
            ClientId=settings.cognito_client_id,
            Username=email,
            ConfirmationCode=code,
            Password=new_password,
        )
    except ClientError as error:
        raise AuthError(
            both("The code or the new password is not right. Please try again."),
            cause=error,
        ) from error


# Staff accounts, created and switched on and off by the school's administrator
# (chalicelib/staff_admin.py) or the operator. Cognito's own invitation mail is
# suppressed: it is capped at a few dozen a day, so we send our own through SES.


def create_login(email: str, temporary_password: str) -> bool:
    """A Cognito user that must choose a password at first sign-in.

    False when the user already exists (one person at two schools has one user).
    """
    try:
        aws.client("cognito-idp").admin_create_user(
            UserPoolId=settings.cognito_pool_id,
            Username=email,
            TemporaryPassword=temporary_password,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "UsernameExistsException":
            return False
        raise
    return True


def login_status(email: str) -> str | None:
    """Cognito's status of the user (e.g. FORCE_CHANGE_PASSWORD), None if absent."""
    try:
        user = aws.client("cognito-idp").admin_get_user(
            UserPoolId=settings.cognito_pool_id, Username=email
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "UserNotFoundException":
            return None
        raise
    return str(user["UserStatus"])


def set_temporary_password(email: str, temporary_password: str) -> None:
    aws.client("cognito-idp").admin_set_user_password(
        UserPoolId=settings.cognito_pool_id,
        Username=email,
        Password=temporary_password,
        Permanent=False,
    )


def set_login_enabled(email: str, enabled: bool) -> None:
    """Switch the user on or off; off also ends its sessions at Cognito."""
    cognito = aws.client("cognito-idp")
    if enabled:
        cognito.admin_enable_user(UserPoolId=settings.cognito_pool_id, Username=email)
        return
    cognito.admin_disable_user(UserPoolId=settings.cognito_pool_id, Username=email)
    cognito.admin_user_global_sign_out(
        UserPoolId=settings.cognito_pool_id, Username=email
    )


def delete_login(email: str) -> bool:
    """Remove the user (operator only); False when it did not exist."""
    try:
        aws.client("cognito-idp").admin_delete_user(
            UserPoolId=settings.cognito_pool_id, Username=email
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "UserNotFoundException":
            return False
        raise
    return True


# -- Two-step sign-in (TOTP) ------------------------------------------------------

TOTP_ISSUER = "M5 Monitor"


@dataclass(frozen=True)
class Account:
    """The Cognito account a token belongs to: never what a form claims."""

    email: str
    has_totp: bool  # signs in with an authenticator app


def account(access_token: str) -> Account:
    try:
        user = aws.client("cognito-idp").get_user(AccessToken=access_token)
    except ClientError as error:
        raise AuthError(both("Please sign in again."), cause=error) from error
    attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
    email = attributes.get("email") or str(user.get("Username", ""))
    return Account(
        email=email.strip().lower(),
        has_totp="SOFTWARE_TOKEN_MFA" in user.get("UserMFASettingList", []),
    )


def start_totp_setup(access_token: str) -> str:
    """A new authenticator secret for this user (shown once, never stored)."""
    try:
        result = aws.client("cognito-idp").associate_software_token(
            AccessToken=access_token
        )
    except ClientError as error:
        raise AuthError(both("Please sign in again."), cause=error) from error
    return str(result["SecretCode"])


def totp_uri(email: str, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    label = quote(f"{TOTP_ISSUER}:{email}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(TOTP_ISSUER)}"


def finish_totp_setup(access_token: str, code: str) -> None:
    """Check the first code from the app and make TOTP this user's sign-in step."""
    cognito = aws.client("cognito-idp")
    try:
        result = cognito.verify_software_token(
            AccessToken=access_token,
            UserCode=_code(code),
            FriendlyDeviceName=TOTP_ISSUER,
        )
        if result.get("Status") != "SUCCESS":
            raise AuthError(both("This code is not right. Try the newest code."))
        cognito.set_user_mfa_preference(
            AccessToken=access_token,
            SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
        )
    except ClientError as error:
        raise AuthError(
            both("This code is not right. Try the newest code."), cause=error
        ) from error


def answer_totp(email: str, code: str, session: str) -> SignInResult:
    """The second step of a sign-in: the code from the authenticator app."""
    try:
        result = aws.client("cognito-idp").respond_to_auth_challenge(
            ClientId=settings.cognito_client_id,
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=session,
            ChallengeResponses={
                "USERNAME": email,
                "SOFTWARE_TOKEN_MFA_CODE": _code(code),
            },
        )
    except (ClientError, ParamValidationError) as error:
        raise AuthError(
            both("This code is not right. Try the newest code."), cause=error
        ) from error
    if "AuthenticationResult" not in result:
        raise AuthError(both("This code is not right. Try the newest code."))
    return _tokens(result)


def reset_totp(email: str) -> None:
    """The operator's remedy for a lost phone: the next sign-in sets up the app
    again. Every session of the user ends."""
    cognito = aws.client("cognito-idp")
    cognito.admin_set_user_mfa_preference(
        UserPoolId=settings.cognito_pool_id,
        Username=email,
        SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False},
    )
    cognito.admin_user_global_sign_out(
        UserPoolId=settings.cognito_pool_id, Username=email
    )


def _code(code: str) -> str:
    """Six digits as typed, spaces allowed; anything else is refused here."""
    digits = code.replace(" ", "")
    if len(digits) != 6 or not digits.isdigit():
        raise AuthError(both("This code is not right. Try the newest code."))
    return digits
