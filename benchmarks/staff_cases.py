"""The staff views the benchmark measures: the report list and the case page of a
teacher and of the coordinator, each as its route loads them (without the
per-request sign-in checks, which are one GetItem of the staff record).

Import this only after the environment points at the emulator (see bulk_seed).
"""

from __future__ import annotations

from faker import Faker

from benchmarks.dynamo_meter import Meter, metered
from chalicelib import audit, auth, cases, schools, sessions
from chalicelib.access import StaffContext, readable_report
from chalicelib.models import Report, School, StaffMember
from chalicelib.staff_pages import _case_page
from local.seed import create_staff


def _context(member: StaffMember) -> StaffContext:
    session = sessions.new_session(member.email, "benchmark").for_school(
        member.school_id, member.staff_id
    )
    return StaffContext(member, session, auth.Identity("benchmark", "b", "jti", 0))


class StaffCases:
    def __init__(self, school: School) -> None:
        fake = Faker("nl_NL")
        fake.seed_instance(11)
        members = create_staff(school, fake)
        self.contexts = {
            "teacher": _context(next(m for m in members if m.roles == ["teacher"])),
            "coordinator": _context(
                next(m for m in members if "coordinator" in m.roles)
            ),
        }

    def report_of(self, role: str) -> Report:
        """A report this role may open: the newest in the role's own list."""
        context = self.contexts[role]
        page = cases.list_reports(context, cases.ListFilter.from_query({}))
        return page.reports[0]

    def list_page(self, role: str) -> Meter:
        context = self.contexts[role]
        with metered() as meter:
            schools.get_school(context.school_id)
            cases.list_reports(context, cases.ListFilter.from_query({}))
        return meter

    def case_page(self, role: str, report_id: str) -> Meter:
        context = self.contexts[role]
        with metered() as meter:
            report = readable_report(context, report_id)
            audit.record(
                audit.report_trail(context.school_id, report.report_id),
                "view_report",
                context.member.staff_id,
                context.role,
            )
            _case_page(context, report)
        return meter
