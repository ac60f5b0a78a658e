"""The Monday snapshot for leadership: last week's dashboard, frozen and mailed.

For each active school: the week's snapshot is stored once (chalicelib/
snapshots.py), then every active staff member with the leadership role gets it
in their language, HTML with bars, plain text and a PDF. Delivery is the
teacher mail's (functions/delivery.py), under its own job key, so a teacher
who is also leadership gets both mails, each once.

Only the leadership role gets the snapshot, as DOMAIN.md gives the weekly
dashboard to leadership. The coordinator works in the staff pages every day
and has the same dashboard live; a weekly copy would only add mail. A
coordinator who also holds the leadership role gets it.

A holiday week of the school (chalicelib/holidays.py) is skipped like in the
teacher mail: no snapshot, no mail, the school listed under holiday_schools.
"""

from __future__ import annotations

from chalicelib import digests, holidays, snapshots
from chalicelib.access import LEADERSHIP
from chalicelib.models import School, StaffMember, WeekSnapshot
from chalicelib.obs import logger
from functions import delivery
from functions.delivery import Summary

JOB = "leadership"


def run_leadership_snapshot(
    week: str, school_ids: list[str] | None = None, dry_run: bool = False
) -> Summary:
    """Freeze `week` for every active school and mail it to leadership, once.

    A dry run stores nothing: it renders the mails from the stored snapshot,
    or from the figures as they are now when there is none yet.
    """
    return delivery.run_job(JOB, week, school_ids, dry_run, _snapshot_school)


def leadership(school_id: str) -> list[StaffMember]:
    """Active staff members with the leadership role: the ones who get the mail."""
    return [
        member
        for member in StaffMember.query(school_id)
        if member.active and LEADERSHIP in member.roles
    ]


def _snapshot_school(
    school: School, week: str, summary: Summary, dry_run: bool
) -> None:
    summary.schools += 1
    if holidays.is_holiday_week(school, week):
        logger.info("holiday week", extra={"school": school.school_id, "week": week})
        summary.holiday_schools.append(school.school_id)
        return
    snapshot = _snapshot(school, week, dry_run)
    recipients = leadership(school.school_id)
    if not recipients:
        return
    key = delivery.delivery_key(school.school_id, week, JOB)
    previous = delivery.earlier_deliveries(key)
    mails: dict[str, digests.Mail] = {}  # one rendering (and PDF) per language

    for member in recipients:
        summary.recipients += 1
        language = str(member.language or "nl")
        if language not in mails:
            mails[language] = snapshots.leadership_mail(school, snapshot, language)
        mail = mails[language]
        if dry_run:
            summary.previews.append((school.school_id, member.staff_id, mail))
            continue
        delivery.deliver_to(summary, key, member, mail, previous.get(member.staff_id))


def _snapshot(school: School, week: str, dry_run: bool) -> WeekSnapshot:
    if not dry_run:
        return snapshots.freeze(school, week)
    return snapshots.stored(school.school_id, week) or snapshots.figures(school, week)
