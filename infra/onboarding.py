"""The operator's work on schools: create, embed code, poster, first staff, remove.

Runs on the operator's machine with the operator's credentials (infra/ops.py is
its command line); the Lambda never imports it. It reads the tables, the user
pool and the mail sender from the same settings as the app (chalicelib/config).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import segno
from pynamodb.exceptions import PutError

from chalicelib import rollover, staff_admin
from chalicelib.cases import case_key
from chalicelib.casework import followup_scope, interventions_scope, pupil_scope
from chalicelib.config import settings
from chalicelib.defaults import new_school
from chalicelib.errors import Conflict, ValidationFailed
from chalicelib.models import (
    CaseEvent,
    Pupil,
    ReplyAlert,
    Report,
    ReportIndex,
    School,
    WeekAggregate,
    WeekSnapshot,
)
from chalicelib.obs import logger
from chalicelib.reports import expiry_scope, group_scope, receipt_scope
from chalicelib.retention import index_existing, run_school
from chalicelib.templating import render


class SchoolExists(Exception):
    """A school with this slug exists; its slug is in public links already."""


class UnknownSchool(Exception):
    pass


def create_school(
    slug: str,
    name: str,
    kind: str,
    *,
    languages: list[str] | None = None,
    holiday_region: str = "midden",
    groups: list[str] | None = None,
) -> School:
    """A new school with the Dutch defaults of its type, in this deployment's region.

    groups: the group names; default for primary "1/2a" … "8", for secondary
    none (they come with the roster import's --create-groups or the admin page).
    """
    school = new_school(
        slug,
        name,
        kind,
        region=settings.region,
        languages=languages,
        holiday_region=holiday_region,
        groups=groups,
    )
    try:
        school.save(condition=School.school_id.does_not_exist())
    except PutError as error:
        raise SchoolExists(slug) from error
    logger.info("school created", extra={"school": slug, "kind": kind})
    return school


def get_school(slug: str) -> School:
    try:
        return School.get(slug)
    except School.DoesNotExist as error:
        raise UnknownSchool(slug) from error


def form_url(slug: str) -> str:
    """The address the Stopknop links to: the school's own report form."""
    return f"{settings.public_base_url}/s/{slug}/"


def embed_snippet(slug: str) -> str:
    """The HTML a school pastes into its website (the same as /demo/<slug>/ shows)."""
    return str(render("site/stopknop.html", "nl", form_url=form_url(slug))).strip()


def qr_svg(slug: str) -> str:
    """The form's address as a QR code (error correction H survives a torn poster)."""
    return str(
        segno.make(form_url(slug), error="h").svg_inline(
            scale=10, border=4, omitsize=True
        )
    )


def poster_html(school: School) -> str:
    """A printable A4 poster: the Stopknop's message, a QR code and the address."""
    return str(
        render(
            "site/poster.html",
            "nl",
            school=school,
            form_url=form_url(school.school_id),
            qr=qr_svg(school.school_id),
        )
    )


@dataclass(frozen=True)
class Removed:
    staff: int
    logins: int
    pupils: int
    reports: int


def remove_school(slug: str) -> Removed:
    """Delete a school, its staff (and Cognito users nobody else needs), its roster
    and its reports with their timelines, pointers, reply addresses, counters and
    weekly dashboard snapshots.

    The audit trail stays: it records what happened, has its own retention and
    cannot be changed by the functions. Intake pointers keep only a keyed hash
    and a report id; the idempotency table's TTL clears the rest.
    """
    school = get_school(slug)
    staff, logins = staff_admin.remove_all(slug)

    pupils = list(Pupil.query(slug, consistent_read=True))
    with Pupil.batch_write() as batch:
        for pupil in pupils:
            batch.delete(pupil)

    reports = list(Report.query(slug, consistent_read=True))
    groups = {g.id for g in school.groups}
    for report in reports:
        _remove_report(report)
        groups.update(str(g) for g in report.groups)

    # School-wide pointers (follow-up dates, intervention lists) by their scope.
    with ReportIndex.batch_write() as batch:
        for scope in (
            followup_scope(slug),
            interventions_scope(slug),
            expiry_scope(slug),
        ):
            for pointer in ReportIndex.query(scope):
                batch.delete(pointer)

    scopes = [slug, *(group_scope(slug, g) for g in sorted(groups))]
    with WeekAggregate.batch_write() as batch:
        for scope in scopes:
            for item in WeekAggregate.query(scope):
                batch.delete(item)
    with WeekSnapshot.batch_write() as batch:
        for snapshot in WeekSnapshot.query(slug):
            batch.delete(snapshot)

    school.delete()
    logger.info(
        "school removed",
        extra={"school": slug, "reports": len(reports), "staff": staff},
    )
    return Removed(staff, logins, len(pupils), len(reports))


def _remove_report(report: Report) -> None:
    with CaseEvent.batch_write() as batch:
        for event in CaseEvent.query(case_key(report.school_id, report.report_id)):
            batch.delete(event)
    pointers = [
        ReportIndex(group_scope(report.school_id, g), report.report_id)
        for g in map(str, report.groups)
    ]
    pointers.append(
        ReportIndex(receipt_scope(report.school_id, report.receipt_hash), "receipt")
    )
    pointers += [
        ReportIndex(pupil_scope(report.school_id, person.pupil_id), report.report_id)
        for person in report.persons
        if person.pupil_id
    ]
    with ReportIndex.batch_write() as batch:
        for pointer in pointers:
            batch.delete(pointer)
    ReplyAlert(report.school_id, report.report_id).delete()
    report.delete()


# The commands of infra/ops.py: print what was done, exit status 0, 1 or 2.


def run(args: argparse.Namespace) -> int:
    """Carry out one parsed command against the configured deployment."""
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "create-school": _create_school,
        "retention": _retention,
        "show-embed": _show_embed,
        "poster": _poster,
        "invite": _invite,
        "remove-school": _remove_school,
        "rollover": _rollover,
        "reset-two-step": _reset_two_step,
    }
    try:
        return commands[args.command](args)
    except UnknownSchool as unknown:
        print(f"no school with slug {unknown}", file=sys.stderr)
        return 2
    except rollover.RolloverRefused as refused:
        print(refused, file=sys.stderr)
        return 2


def _reset_two_step(args: argparse.Namespace) -> int:
    email = args.email.strip().lower()
    memberships = staff_admin.reset_two_step(email)
    print(
        f"two-step sign-in reset for {email} ({memberships} school(s)):"
        " set up again at the next sign-in"
    )
    return 0


def _create_school(args: argparse.Namespace) -> int:
    try:
        school = create_school(
            args.slug,
            args.name,
            args.type,
            languages=args.languages,
            holiday_region=args.holiday_region,
            groups=args.groups,
        )
    except ValueError as invalid:
        print(invalid, file=sys.stderr)
        return 2
    except SchoolExists:
        print(f"a school with slug {args.slug} exists already", file=sys.stderr)
        return 2
    print(f"created {school.school_id} ({school.kind}, {school.region})")
    print(f"  groups: {', '.join(g.id for g in school.groups) or '(none yet)'}")
    print(f"  form  : {form_url(school.school_id)}")
    print("next: invite an administrator and a coordinator, then import the roster")
    return 0


def _show_embed(args: argparse.Namespace) -> int:
    get_school(args.slug)
    print(embed_snippet(args.slug))
    return 0


def _poster(args: argparse.Namespace) -> int:
    school = get_school(args.slug)
    out: Path = args.out or Path(f"poster-{school.school_id}.html")
    if out.suffix == ".svg":
        out.write_text(qr_svg(school.school_id), encoding="utf-8")
    else:
        out.write_text(poster_html(school), encoding="utf-8")
    print(f"wrote {out} (QR code to {form_url(school.school_id)})")
    return 0


def _invite(args: argparse.Namespace) -> int:
    school = get_school(args.slug)
    try:
        invitation = staff_admin.invite(
            school,
            args.email,
            args.name,
            args.roles,
            args.groups,
            language=args.language,
            actor=None,
            actor_role="operator",
        )
    except ValidationFailed as failed:
        for error in failed.errors:
            print(f"{error.field}: {error.message['en']}", file=sys.stderr)
        return 2
    except Conflict as conflict:
        print(conflict.message["en"], file=sys.stderr)
        return 2
    member = invitation.member
    how = "new sign-in" if invitation.new_login else "existing sign-in"
    print(f"invited {member.staff_id} at {school.school_id} ({how})")
    if not invitation.mailed:
        print("the invitation mail could not be sent: see the log", file=sys.stderr)
        return 1
    return 0


def _remove_school(args: argparse.Namespace) -> int:
    get_school(args.slug)
    if not args.yes:
        print(f"This deletes {args.slug}: its staff, roster, reports and cases.")
        first = input("Type the slug to confirm: ").strip()
        second = input("Type it once more: ").strip()
        if first != args.slug or second != args.slug:
            print("not removed: the slugs did not match", file=sys.stderr)
            return 1
    removed = remove_school(args.slug)
    print(
        f"removed {args.slug}: {removed.staff} staff items, {removed.logins} sign-ins,"
        f" {removed.pupils} pupils, {removed.reports} reports (audit trail kept)"
    )
    return 0


def _rollover(args: argparse.Namespace) -> int:
    school = get_school(args.slug)
    rollover.check_year(args.year)
    mapping = dict(_pair(item) for item in args.map)
    plan = rollover.plan(school, mapping)
    names = {g.id: g.name for g in [*school.groups, *plan.new_groups]}
    for source, target in plan.moves.items():
        print(
            f"  {names[source]:<12} -> {names[target] if target else 'leaves school'}"
        )
    for source in plan.unmapped:
        print(
            f"  {names[source]:<12} -> stays (map it with --map, or import the roster)"
        )
    if args.dry_run:
        print("dry run: nothing changed")
        return 0
    result = rollover.rollover(school.school_id, args.year, mapping)
    print(
        f"{school.school_id} is in {args.year}: {result.moved} pupils moved up,"
        f" {result.left} left school, {result.already_done} done before,"
        f" {result.staff_changed} staff changed"
    )
    return 0


def _pair(item: str) -> tuple[str, str]:
    source, separator, target = item.partition("=")
    if not separator or not source.strip() or not target.strip():
        raise rollover.RolloverRefused(f"--map {item!r}: like 'Groep 1/2a=Groep 3'")
    return source, target


def _retention(args: argparse.Namespace) -> int:
    school = get_school(args.slug)
    if args.index_existing:
        print(f"indexed {index_existing(school.school_id)} cases")
    outcome = run_school(school, dry_run=args.dry_run)
    counts = outcome.counts()
    print(
        f"{school.school_id}: retention {school.retention_years} years, cases whose"
        f" period started before {counts['cutoff'][:10]}: {counts['expired']}"
    )
    if args.dry_run:
        for report_id in outcome.expired:
            print(f"  would anonymise {report_id}")
        print("dry run: nothing changed")
        return 0
    print(
        f"  anonymised {counts['anonymised']}, under a legal hold {counts['held']},"
        f" skipped {counts['skipped']} (changed meanwhile: the next run sees them)"
    )
    return 0
