"""Who may see and do what. Every rule is enforced here, on the server.

A request for something outside one's scope answers 404, exactly like something
that does not exist, so scope cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.auth import Identity
from chalicelib.errors import NotFound
from chalicelib.i18n import both
from chalicelib.models import Report, StaffMember
from chalicelib.sessions import Session

TEACHER = "teacher"
COORDINATOR = "coordinator"
DEPUTY = "deputy"
LEADERSHIP = "leadership"
ADMINISTRATOR = "administrator"
# The school's data protection officer (functionaris gegevensbescherming): reads
# the audit trails, never a report's contents.
PRIVACY_OFFICER = "privacy_officer"
SCHOOL_ROLES = (
    TEACHER,
    COORDINATOR,
    DEPUTY,
    LEADERSHIP,
    ADMINISTRATOR,
    PRIVACY_OFFICER,
)

# Roles that handle cases: triage, assign, intervene, close.
HANDLERS = frozenset({COORDINATOR, DEPUTY})
# Roles that read every report of their school.
READ_ALL = frozenset({COORDINATOR, DEPUTY, LEADERSHIP})
# Roles that sign in with a second step (an authenticator app's code): they
# read every report of their school, or (the privacy officer) its audit trails.
MFA_ROLES = READ_ALL | {PRIVACY_OFFICER}
# Roles that see report contents at all (administrators never do).
REPORT_READERS = READ_ALL | {TEACHER}


@dataclass(frozen=True)
class Rule:
    """The roles a staff route admits; anyone else gets 404."""

    roles: frozenset[str]


# Filled by the staff_view decorator: view name -> rule. The isolation tests
# require a rule for every staff route in the application's route table.
RULES: dict[str, Rule] = {}


@dataclass
class StaffContext:
    member: StaffMember
    session: Session
    identity: Identity
    set_cookies: list[str] = field(default_factory=list)

    @property
    def school_id(self) -> str:
        return str(self.member.school_id)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(str(role) for role in self.member.roles)

    @property
    def role(self) -> str:
        """The strongest role, recorded in the audit trail."""
        for role in (
            COORDINATOR,
            DEPUTY,
            LEADERSHIP,
            TEACHER,
            ADMINISTRATOR,
            PRIVACY_OFFICER,
        ):
            if role in self.roles:
                return role
        return "none"

    @property
    def language(self) -> str:
        return str(self.member.language or "nl")

    @property
    def handles_cases(self) -> bool:
        return bool(self.roles & HANDLERS)

    @property
    def reads_all(self) -> bool:
        return bool(self.roles & READ_ALL)

    def may_read(self, report: Report) -> bool:
        if report.school_id != self.school_id:
            return False
        if self.reads_all:
            return True
        if TEACHER in self.roles:
            return bool(set(report.groups) & set(self.member.groups))
        return False


def readable_report(context: StaffContext, report_id: str) -> Report:
    """The report if this staff member may read it; otherwise 'not found'."""
    not_found = NotFound(both("This report does not exist or is not yours to see."))
    if not report_id or len(report_id) > 64:
        raise not_found
    try:
        report = Report.get(context.school_id, report_id)
    except Report.DoesNotExist as error:
        raise not_found from error
    if not context.may_read(report):
        raise not_found
    return report
