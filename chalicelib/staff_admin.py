"""Staff accounts of a school: invite, change roles and groups, deactivate.

Used by the school administrator's pages and by the operator's command line.
A person has one Cognito user (their e-mail address) and one StaffMember item
per school. The invitation mail is ours, sent through SES, because Cognito's own
mailer is capped at a few dozen mails a day. It carries the temporary password,
as Cognito's own invitation would; the password is never logged or stored by
us, and Cognito makes the person replace it at first sign-in.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from email_validator import EmailNotValidError, validate_email
from pynamodb.exceptions import UpdateError

from chalicelib import audit, auth, notify
from chalicelib.access import ADMINISTRATOR, SCHOOL_ROLES
from chalicelib.config import settings
from chalicelib.errors import Conflict, FieldError, NotFound, ValidationFailed
from chalicelib.i18n import both, normalise_language
from chalicelib.models import School, StaffMember
from chalicelib.obs import logger
from chalicelib.weeks import now_utc

# Cognito's pool asks for 12 characters (infra/stack.py); 16 from all four classes
# satisfy any stricter policy an operator may set.
TEMPORARY_PASSWORD_LENGTH = 16
MAX_NAME = 100
# Cognito keeps a temporary password valid this long (TemporaryPasswordValidityDays).
TEMPORARY_PASSWORD_DAYS = 7
# What SES can report about a staff address (StaffMember.mail_problem).
BOUNCE = "bounce"
COMPLAINT = "complaint"
MAIL_PROBLEMS = (BOUNCE, COMPLAINT)


@dataclass(frozen=True)
class Invitation:
    member: StaffMember
    new_login: bool  # False: the person already signs in for another school
    mailed: bool


def temporary_password() -> str:
    """A random password with a lower and upper case letter, a digit and a symbol."""
    classes = [string.ascii_lowercase, string.ascii_uppercase, string.digits, "!#%+-="]
    chars = [secrets.choice(c) for c in classes]
    alphabet = "".join(classes)
    chars += [
        secrets.choice(alphabet)
        for _ in range(TEMPORARY_PASSWORD_LENGTH - len(classes))
    ]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def staff_of(school_id: str) -> list[StaffMember]:
    """Every staff member of the school, by name (one Query on its partition)."""
    members = StaffMember.query(school_id, consistent_read=True)
    return sorted(members, key=lambda m: (not m.active, m.name.lower()))


def member_of(school_id: str, staff_id: str) -> StaffMember:
    """A staff member of this school; one of another school is 'not found'."""
    if not staff_id or len(staff_id) > 64:
        raise NotFound(both("This page does not exist."))
    try:
        return StaffMember.get(school_id, staff_id, consistent_read=True)
    except StaffMember.DoesNotExist as missing:
        raise NotFound(both("This page does not exist.")) from missing


def _invalid(field: str, msgid: str) -> ValidationFailed:
    return ValidationFailed([FieldError(field, "invalid", both(msgid))])


def _checked_roles(roles: Iterable[str]) -> list[str]:
    chosen = [r for r in SCHOOL_ROLES if r in set(roles)]
    if not chosen or set(roles) - set(SCHOOL_ROLES):
        raise _invalid("roles", "Choose at least one role.")
    return chosen


def _checked_groups(school: School, groups: Iterable[str]) -> list[str]:
    known = [g.id for g in school.groups]
    wanted = set(groups)
    if wanted - set(known):
        raise _invalid("groups", "Please choose one of the answers shown.")
    return [g for g in known if g in wanted]


def _checked_email(email: str) -> str:
    try:
        valid = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise _invalid("email", "This is not a valid e-mail address.") from error
    return valid.normalized.lower()


def _checked_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME:
        raise _invalid("name", "Please fill in a name of at most 100 characters.")
    return cleaned


def invite(
    school: School,
    email: str,
    name: str,
    roles: Iterable[str],
    groups: Iterable[str] = (),
    *,
    language: str = "nl",
    actor: str | None,
    actor_role: str = ADMINISTRATOR,
) -> Invitation:
    """Add a staff member to the school and mail them how to sign in."""
    address = _checked_email(email)
    member = StaffMember(
        school.school_id,
        f"staff-{secrets.token_hex(8)}",
        email=address,
        name=_checked_name(name),
        roles=_checked_roles(roles),
        groups=_checked_groups(school, groups),
        language=normalise_language(language),
        active=True,
    )
    existing = [
        m
        for m in StaffMember.by_email.query(address)
        if m.school_id == school.school_id
    ]
    if existing:
        raise Conflict(both("This e-mail address already has an account here."))

    password = temporary_password()
    new_login = auth.create_login(address, password)
    mailed_password: str | None = password
    if not new_login:
        # Known from another school: their password stays theirs. A user switched
        # off because their last membership ended is switched on again.
        auth.set_login_enabled(address, True)
        if auth.login_status(address) == "FORCE_CHANGE_PASSWORD":
            # Invited elsewhere but never signed in: this mail's password replaces
            # the earlier one, so the person needs only the newest mail.
            auth.set_temporary_password(address, password)
        else:
            mailed_password = None
    member.save(condition=StaffMember.staff_id.does_not_exist())

    mailed = _mail_invitation(school, member, mailed_password)
    _record(school.school_id, "staff_invited", actor, actor_role, member)
    logger.info(
        "staff invited",
        extra={
            "school": school.school_id,
            "staff_id": member.staff_id,
            "new_login": new_login,
            "mailed": mailed,
        },
    )
    return Invitation(member, new_login, mailed)


def resend_invitation(
    school: School, staff_id: str, *, actor: str | None, actor_role: str = ADMINISTRATOR
) -> bool:
    """A new temporary password and mail, for someone who never signed in.

    Refused once the person has chosen their own password: an administrator must
    not be able to reset a colleague's password (the forgotten-password page is
    for that, and its code goes to the person only).
    """
    member = member_of(school.school_id, staff_id)
    if not member.active or auth.login_status(member.email) != "FORCE_CHANGE_PASSWORD":
        raise Conflict(both("This colleague has already signed in."))
    password = temporary_password()
    auth.set_temporary_password(member.email, password)
    mailed = _mail_invitation(school, member, password)
    _record(school.school_id, "staff_invitation_resent", actor, actor_role, member)
    # The administrator has looked at the address; a new bounce flags it again.
    _clear_mail_problem(member)
    return mailed


def _mail_invitation(school: School, member: StaffMember, password: str | None) -> bool:
    return notify.send_to_staff(
        member.email,
        "invitation",
        member.language,
        school_name=school.name,
        name=member.name,
        roles=list(member.roles),
        email=member.email,
        temporary_password=password,
        days=TEMPORARY_PASSWORD_DAYS,
        link=f"{settings.public_base_url}/staff/login",
    )


def change(
    school: School,
    staff_id: str,
    roles: Iterable[str],
    groups: Iterable[str],
    *,
    actor: str | None,
    actor_role: str = ADMINISTRATOR,
) -> StaffMember:
    """New roles and groups. Nobody changes their own roles here."""
    member = member_of(school.school_id, staff_id)
    if staff_id == actor:
        raise _invalid("roles", "You cannot change your own account.")
    new_roles = _checked_roles(roles)
    new_groups = _checked_groups(school, groups)
    # PynamoDB types a list attribute's value as attributes, not strings.
    member.update(
        actions=[
            StaffMember.roles.set(cast(Any, new_roles)),
            StaffMember.groups.set(cast(Any, new_groups)),
        ]
    )
    _record(school.school_id, "staff_changed", actor, actor_role, member)
    return member


def set_active(
    school_id: str,
    staff_id: str,
    active: bool,
    *,
    actor: str | None,
    actor_role: str = ADMINISTRATOR,
) -> StaffMember:
    """Deactivate (access ends at once, sessions too) or reactivate a member.

    The Cognito user is switched off only when the person has no other active
    membership: a teacher who leaves one school keeps access at the other.
    """
    member = member_of(school_id, staff_id)
    if staff_id == actor:
        raise _invalid("active", "You cannot change your own account.")
    actions: list[Any] = [StaffMember.active.set(active)]
    if not active:
        actions.append(StaffMember.signed_out_at.set(int(time.time() * 1000)))
    member.update(actions=actions)

    others = [
        m
        for m in StaffMember.by_email.query(member.email)
        if m.active and m.school_id != school_id
    ]
    if active or not others:
        auth.set_login_enabled(member.email, active)
    action = "staff_reactivated" if active else "staff_deactivated"
    _record(school_id, action, actor, actor_role, member)
    return member


def flag_mail_problem(address: str, problem: str) -> int:
    """Flag every membership of an address SES reported; returns how many.

    One Query on the by-email index per address. A membership deleted after the
    index listed it is skipped, not written back as a bare item.
    """
    if problem not in MAIL_PROBLEMS:
        raise ValueError(f"unknown mail problem {problem!r}")
    flagged = 0
    for member in StaffMember.by_email.query(address.strip().lower()):
        try:
            member.update(
                actions=[
                    StaffMember.mail_problem.set(problem),
                    StaffMember.mail_problem_at.set(now_utc()),
                ],
                condition=StaffMember.staff_id.exists(),
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            continue
        _record(
            member.school_id,
            "staff_mail_problem",
            None,
            "system",
            member,
            problem=problem,
        )
        flagged += 1
    return flagged


def clear_mail_problem(
    school_id: str,
    staff_id: str,
    *,
    actor: str | None,
    actor_role: str = ADMINISTRATOR,
) -> StaffMember:
    """The administrator marks a reported address as fixed."""
    member = member_of(school_id, staff_id)
    if member.mail_problem:
        _clear_mail_problem(member)
        _record(school_id, "staff_mail_problem_cleared", actor, actor_role, member)
    return member


def _clear_mail_problem(member: StaffMember) -> None:
    if member.mail_problem:
        member.update(
            actions=[
                StaffMember.mail_problem.remove(),
                StaffMember.mail_problem_at.remove(),
            ]
        )


def _record(
    school_id: str,
    action: str,
    actor: str | None,
    actor_role: str,
    member: StaffMember,
    **extra: str,
) -> None:
    # Staff ids, roles and groups only: no names or addresses in the trail.
    detail = {
        "staff_id": member.staff_id,
        "roles": list(member.roles),
        "groups": list(member.groups),
        **extra,
    }
    audit.record(audit.school_trail(school_id), action, actor, actor_role, detail)


def remove_all(school_id: str) -> tuple[int, int]:
    """Delete every staff item of the school and the Cognito users nobody else
    needs; for removing a school. Returns (items, users) deleted."""
    members = list(StaffMember.query(school_id, consistent_read=True))
    users = 0
    for member in members:
        member.delete()
        elsewhere = [
            m
            for m in StaffMember.by_email.query(member.email)
            if m.school_id != school_id
        ]
        if not elsewhere and auth.delete_login(member.email):
            users += 1
    return len(members), users


def reset_two_step(email: str) -> int:
    """A lost authenticator app: the next sign-in sets one up again, and every
    session of the person ends now, at each school. Returns the memberships."""
    email = email.strip().lower()
    auth.reset_totp(email)
    now_ms = int(time.time() * 1000)
    members = list(StaffMember.by_email.query(email))
    for member in members:
        member.update(actions=[StaffMember.signed_out_at.set(now_ms)])
    logger.info("two-step sign-in reset", extra={"memberships": len(members)})
    return len(members)
