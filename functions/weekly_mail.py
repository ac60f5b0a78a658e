"""The Monday mail to every teacher: the figures of their groups for one week.

Delivery (claimed, sent, marked; never twice, nobody skipped, an unknowable SES
outcome listed as unconfirmed) is functions/delivery.py, shared with the
leadership snapshot.

A week in which every school day is a holiday of the school (its region's
national calendar changed by its own holidays, see chalicelib/holidays.py) gets
no mail at all: the summary lists the school under holiday_schools.
"""

from __future__ import annotations

from chalicelib import digests, holidays
from chalicelib.models import School, StaffMember
from chalicelib.obs import logger
from functions import delivery
from functions.delivery import Summary, checked_week, last_week

__all__ = ["JOB", "Summary", "checked_week", "last_week", "run_teacher_mail"]

JOB = "teacher"


def run_teacher_mail(
    week: str, school_ids: list[str] | None = None, dry_run: bool = False
) -> Summary:
    """Mail every active teacher with groups the figures of `week`; never twice."""
    return delivery.run_job(JOB, week, school_ids, dry_run, _mail_school)


def teachers(school_id: str) -> list[StaffMember]:
    """Active teachers with at least one group: the ones who get the mail."""
    return [
        member
        for member in StaffMember.query(school_id)
        if member.active and "teacher" in member.roles and member.groups
    ]


def _mail_school(school: School, week: str, summary: Summary, dry_run: bool) -> None:
    summary.schools += 1
    if holidays.is_holiday_week(school, week):
        logger.info("holiday week", extra={"school": school.school_id, "week": week})
        summary.holiday_schools.append(school.school_id)
        return
    recipients = teachers(school.school_id)
    if not recipients:
        return
    loaded = digests.load_school_week(school, week)
    key = delivery.delivery_key(school.school_id, week, JOB)
    previous = delivery.earlier_deliveries(key)

    for member in recipients:
        figures = digests.teacher_figures(school, member, week, loaded)
        if not figures.groups:  # groups the school no longer has
            continue
        summary.recipients += 1
        mail = digests.teacher_mail(school, member, figures)
        if dry_run:
            summary.previews.append((school.school_id, member.staff_id, mail))
            continue
        delivery.deliver_to(summary, key, member, mail, previous.get(member.staff_id))
