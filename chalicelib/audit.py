"""The audit trail: every view, change, export and sign-in, append-only.

Entries are only ever added, each with a condition that it does not exist yet;
this module offers no update or delete, and the stack's IAM policy grants the
functions PutItem and Query on the audit table, nothing more.

The trail has its own retention: each entry carries an expiry time set when it
is written, and DynamoDB's time to live deletes it after that (within a few days
of it; no function has the right to).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from chalicelib.models import AuditEvent
from chalicelib.weeks import now_utc

# Longer than a case is kept under the default setting (two years after its
# last activity) plus the years it was handled, so every read and change of a
# case can be accounted for while the case exists. A case kept longer (a longer
# school setting, a legal hold) loses its oldest entries first.
AUDIT_RETENTION_YEARS = 7
AUDIT_RETENTION = timedelta(days=round(365.25 * AUDIT_RETENTION_YEARS))


def report_trail(school_id: str, report_id: str) -> str:
    return f"{school_id}#report#{report_id}"


def school_trail(school_id: str) -> str:
    return f"{school_id}#school"


def new_entry(
    trail: str,
    action: str,
    actor: str | None,
    actor_role: str | None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """An entry to add, alone (record) or in the transaction of a change."""
    at = now_utc()
    return AuditEvent(
        trail,
        f"{at:%Y%m%d%H%M%S%f}#{secrets.token_hex(4)}",
        at=at,
        action=action,
        actor=actor,
        actor_role=actor_role,
        detail=detail,
        expires=at + AUDIT_RETENTION,
    )


# The condition for adding an entry: it never overwrites an existing one.
APPEND_ONLY = AuditEvent.trail.does_not_exist()


def record(
    trail: str,
    action: str,
    actor: str | None,
    actor_role: str | None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    entry = new_entry(trail, action, actor, actor_role, detail)
    entry.save(condition=APPEND_ONLY)
    return entry


def trail_of(trail: str, limit: int = 200) -> list[AuditEvent]:
    """The newest entries of one trail, newest first."""
    return list(AuditEvent.query(trail, scan_index_forward=False, limit=limit))
