"""The Monday leadership snapshot against the demo schools: the week's dashboard
frozen once, mailed once to every leadership member with bars, a text part and a
PDF, the same figures everywhere, and no name or report text anywhere."""

from __future__ import annotations

import io
import random
import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from faker import Faker
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from pypdf import PdfReader

from chalicelib import auth, cases, casework, dashboard, sessions, snapshots
from chalicelib.access import StaffContext
from chalicelib.config import settings
from chalicelib.models import (
    Delivery,
    Holiday,
    Report,
    School,
    StaffMember,
    WeekSnapshot,
)
from chalicelib.weeks import iso_week, now_utc
from functions import delivery, leadership_snapshot
from local.seed import DEMO_SCHOOLS, create_pupils, seed_reports
from tests.functional import test_weekly_mail as teacher_mail
from tests.functional.conftest import fresh_aws, seed_demo_schools
from tests.functional.test_weekly_mail import (
    Crash,
    CrashAt,
    SesFault,
    html_of,
    private_texts,
    text_of,
)

WEEK = iso_week(now_utc() - timedelta(days=7))
PRIMARY = DEMO_SCHOOLS[0].slug
# The teacher mail's fake SES fixture: SendRawEmail throttled or refused at will.
ses = teacher_mail.ses
INTERVENTION_NOTE = "Gesprek gevoerd met beide kinderen op het plein"


def _context(member: StaffMember) -> StaffContext:
    session = sessions.new_session(member.email, "subject").for_school(
        member.school_id, member.staff_id
    )
    return StaffContext(member, session, auth.Identity("subject", "user", "jti", 0))


def _handle_cases(school: School, coordinator: StaffMember) -> None:
    """A few cases of the week handled, one intervention's follow-up overdue, so
    the snapshot's case figures are not all zero."""
    context = _context(coordinator)
    of_week = [r for r in Report.query(school.school_id) if r.received_week == WEEK]
    day = snapshots.week_sunday(WEEK) - timedelta(days=4)  # the week's Wednesday
    for report in of_week[:2]:
        casework.apply(
            context, report, casework.set_status(report, "in_progress", None)
        )
        report.refresh()
        change = casework.intervention(
            school,
            report,
            kind=school.interventions[0].id,
            on=day.isoformat(),
            follow_up_on=(day + timedelta(days=1)).isoformat(),
            text=INTERVENTION_NOTE,
        )
        casework.apply(context, report, change)


@pytest.fixture(scope="module")
def seeded() -> Iterator[dict[str, Any]]:
    """Both demo schools with six weeks of reports and a second leadership member
    who reads English, seeded once per module."""
    with fresh_aws():
        staff = seed_demo_schools()
        fake = Faker("nl_NL")
        fake.seed_instance(55)
        rng = random.Random(55)
        names: set[str] = set()
        for demo_school in DEMO_SCHOOLS:
            school = School.get(demo_school.slug)
            roster = create_pupils(school, fake)
            for pupils in roster.values():
                names |= {p.first_name for p in pupils} | {p.last_name for p in pupils}
            seed_reports(school, fake, rng, weeks=6, per_week=7, roster=roster)
        english = StaffMember(
            PRIMARY,
            "staff-directie-en",
            email="adjunct@obsderegenboog.example",
            name=fake.name(),
            roles=["leadership", "teacher"],
            groups=[],
            language="en",
        )
        english.save()
        staff[PRIMARY].append(english)
        [coordinator] = [m for m in staff[PRIMARY] if "coordinator" in m.roles]
        _handle_cases(School.get(PRIMARY), coordinator)
        yield {"staff": staff, "names": names}


@pytest.fixture
def demo(seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """No deliveries, snapshots or mails yet; no backoff waits."""
    monkeypatch.setattr(delivery, "BACKOFF_SECONDS", 0.001)
    for model in (Delivery, WeekSnapshot):
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)
    ses_backends[DEFAULT_ACCOUNT_ID][settings.region].sent_messages.clear()
    return seeded


def leadership_members(staff: dict[str, list[StaffMember]]) -> list[StaffMember]:
    return [m for ms in staff.values() for m in ms if "leadership" in m.roles]


def pdf_of(mail: EmailMessage) -> tuple[str, str]:
    """The attachment's file name and its extracted text."""
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    data = attachment.get_content()
    assert data.startswith(b"%PDF")
    text = "\n".join(
        page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages
    )
    return str(attachment.get_filename()), text


def received_in(school_id: str, week: str) -> tuple[int, int]:
    """Reports (and urgent ones) received in `week`, counted from the reports."""
    counted = [
        r
        for r in Report.query(school_id)
        if r.received_week == week and not r.removed_reason
    ]
    return len(counted), sum(1 for r in counted if r.urgent)


# --- one mail per leadership member, the same figures everywhere ------------------


def test_every_leadership_member_gets_one_mail_with_html_text_and_pdf(
    demo: dict[str, Any], ses: SesFault
) -> None:
    members = leadership_members(demo["staff"])

    summary = leadership_snapshot.run_leadership_snapshot(WEEK)

    assert (summary.sent, summary.failed, summary.unconfirmed) == (len(members), 0, 0)
    assert Counter(m["To"] for m in ses.accepted) == Counter(m.email for m in members)
    for mail in ses.accepted:
        html = html_of(mail)
        assert text_of(mail).strip()
        assert not re.search(r"<script|<img|<style|<link|javascript:", html, re.I)
        assert f"{settings.public_base_url}/staff/dashboard" in html
        assert f"{settings.public_base_url}/staff/dashboard" in text_of(mail)
        assert "background:#1f5fa8" in html  # the bars
        assert pdf_of(mail)[0] == f"m5-dashboard-{WEEK}.pdf"


def test_other_roles_get_no_snapshot_mail(demo: dict[str, Any], ses: SesFault) -> None:
    others = {
        m.email
        for ms in demo["staff"].values()
        for m in ms
        if "leadership" not in m.roles
    }

    leadership_snapshot.run_leadership_snapshot(WEEK)

    assert others & {m["To"] for m in ses.accepted} == set()


def test_mail_pdf_snapshot_and_dashboard_show_the_same_figures(
    demo: dict[str, Any], ses: SesFault
) -> None:
    leadership_snapshot.run_leadership_snapshot(WEEK)

    for demo_school in DEMO_SCHOOLS:
        school = School.get(demo_school.slug)
        stored = WeekSnapshot.get(school.school_id, WEEK)
        board = dashboard.dashboard(
            snapshots.leadership_view(school), school, snapshots.week_sunday(WEEK)
        )
        assert (stored.reports, stored.urgent) == received_in(school.school_id, WEEK)
        assert (stored.reports, stored.urgent) == (
            board.this_week,
            board.this_week_urgent,
        )
        assert stored.week_before == board.last_week
        assert stored.recent_average == board.recent_average
        assert stored.year_total == board.year_total
        assert stored.open_cases == board.handling.open_total
        assert stored.overdue == board.overdue
        assert stored.median_hours == board.handling.median_hours
        assert stored.categories == [[t.key, t.current] for t in board.categories]
        assert stored.trend == [[w.week, w.total] for w in board.trend]
        labels = {str(c.id): str(c.label.nl) for c in school.categories}
        [member] = [
            m
            for m in leadership_members(demo["staff"])
            if m.school_id == school.school_id and m.language == "nl"
        ]
        [mail] = ses.mails_to(member.email)
        lines = text_of(mail).splitlines()
        assert f"- Meldingen in week {WEEK}: {stored.reports}" in lines
        assert f"- Dringende meldingen in week {WEEK}: {stored.urgent}" in lines
        assert f"- Meldingen de week daarvoor: {stored.week_before}" in lines
        assert f"- Open zaken: {stored.open_cases}" in lines
        assert f"- Verlopen follow-ups: {stored.overdue}" in lines
        assert f"- Meldingen dit schooljaar: {stored.year_total}" in lines
        for category, count in stored.categories:
            assert f"- {labels[category]}: {count}" in lines
        _, pdf = pdf_of(mail)
        flat = " ".join(pdf.split())
        assert f"Meldingen in week {WEEK} {stored.reports}" in flat
        assert f"Open zaken {stored.open_cases}" in flat
        assert f"Verlopen follow-ups {stored.overdue}" in flat
    primary = WeekSnapshot.get(PRIMARY, WEEK)
    assert primary.overdue >= 1 and primary.acted >= 2  # the handled cases count


def test_leadership_member_reads_the_mail_in_their_language(
    demo: dict[str, Any], ses: SesFault
) -> None:
    leadership_snapshot.run_leadership_snapshot(WEEK, [PRIMARY])

    stored = WeekSnapshot.get(PRIMARY, WEEK)
    [mail] = ses.mails_to("adjunct@obsderegenboog.example")
    assert mail["Subject"] == f"Week {WEEK}: the dashboard of OBS De Regenboog"
    assert f"- Reports in week {WEEK}: {stored.reports}" in text_of(mail).splitlines()
    assert f"Reports in week {WEEK} {stored.reports}" in " ".join(
        pdf_of(mail)[1].split()
    )


def test_no_mail_or_pdf_contains_a_name_address_or_report_text(
    demo: dict[str, Any], ses: SesFault
) -> None:
    names, texts = private_texts([d.slug for d in DEMO_SCHOOLS])
    names |= demo["names"]
    names |= {w for ms in demo["staff"].values() for m in ms for w in m.name.split()}
    texts |= {m.email for ms in demo["staff"].values() for m in ms}
    texts.add(INTERVENTION_NOTE)

    leadership_snapshot.run_leadership_snapshot(WEEK)

    assert ses.accepted
    for mail in ses.accepted:
        recipient = str(mail["To"])
        parts = [mail["Subject"], text_of(mail), html_of(mail), pdf_of(mail)[1]]
        content = " ".join(parts)
        words = set(re.split(r"[\s<>:;,.()\"'/-]+", content))
        # Capitalised words only: "van", "de" and "ter" in names are also Dutch words.
        assert {n for n in names if n[:1].isupper()} & words == set()
        assert [t for t in texts - {recipient} if t in content] == []


# --- frozen once ------------------------------------------------------------------


def test_rerun_sends_nothing_new_and_leaves_the_snapshot_as_it_was(
    demo: dict[str, Any], ses: SesFault
) -> None:
    members = leadership_members(demo["staff"])
    leadership_snapshot.run_leadership_snapshot(WEEK)
    before = {s.school_id: s.serialize() for s in WeekSnapshot.scan()}

    again = leadership_snapshot.run_leadership_snapshot(WEEK)

    assert (again.sent, again.skipped, again.unconfirmed) == (0, len(members), 0)
    assert len(ses.accepted) == len(members)
    assert {s.school_id: s.serialize() for s in WeekSnapshot.scan()} == before


def test_spam_removal_later_leaves_the_stored_week_unchanged(
    demo: dict[str, Any], ses: SesFault
) -> None:
    leadership_snapshot.run_leadership_snapshot(WEEK, [PRIMARY])
    before = WeekSnapshot.get(PRIMARY, WEEK).serialize()
    [coordinator] = [m for m in demo["staff"][PRIMARY] if "coordinator" in m.roles]
    report = next(
        r
        for r in Report.query(PRIMARY)
        if r.received_week == WEEK and not r.removed_reason
    )
    change = casework.remove(report, "spam", cases.timeline(report))
    casework.apply(_context(coordinator), report, change)
    school = School.get(PRIMARY)

    leadership_snapshot.run_leadership_snapshot(WEEK, [PRIMARY])

    now = snapshots.figures(school, WEEK)
    assert int(now.reports) == int(before["reports"]["N"]) - 1
    assert WeekSnapshot.get(PRIMARY, WEEK).serialize() == before


def test_two_runs_at_once_store_one_snapshot_and_send_each_member_one_mail(
    demo: dict[str, Any], ses: SesFault
) -> None:
    members = leadership_members(demo["staff"])
    start = threading.Barrier(2)
    summaries: list[delivery.Summary] = []

    def run() -> None:
        start.wait()
        summaries.append(leadership_snapshot.run_leadership_snapshot(WEEK))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Counter(m["To"] for m in ses.accepted) == Counter(m.email for m in members)
    assert sum(s.failed + len(s.failed_schools) for s in summaries) == 0
    assert len(list(WeekSnapshot.scan())) == len(DEMO_SCHOOLS)


# --- delivery that can be trusted -------------------------------------------------


def test_crash_after_ses_accepted_is_reported_unconfirmed_on_rerun(
    demo: dict[str, Any], ses: SesFault, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = leadership_members(demo["staff"])
    addresses = {f"{m.school_id}/{m.staff_id}": m.email for m in members}
    crash = CrashAt("after-ses-accepted", 1)
    crash.install(monkeypatch, addresses)
    with pytest.raises(Crash):
        leadership_snapshot.run_leadership_snapshot(WEEK)

    rerun = leadership_snapshot.run_leadership_snapshot(WEEK)

    assert [addresses["/".join(r)] for r in rerun.unconfirmed_recipients] == [
        crash.victim
    ]
    assert (rerun.sent, rerun.failed) == (len(members) - 1, 0)
    assert Counter(m["To"] for m in ses.accepted) == Counter(m.email for m in members)


def test_throttled_ses_is_retried_and_every_member_mailed(
    demo: dict[str, Any], ses: SesFault
) -> None:
    members = leadership_members(demo["staff"])
    ses.throttle_next = delivery.MAX_SEND_ATTEMPTS - 1

    summary = leadership_snapshot.run_leadership_snapshot(WEEK)

    assert (summary.sent, summary.failed) == (len(members), 0)


def test_holiday_week_freezes_nothing_and_mails_nobody(
    demo: dict[str, Any], ses: SesFault
) -> None:
    christmas = "2026-W52"  # kerst, the same in every region

    summary = leadership_snapshot.run_leadership_snapshot(christmas)

    assert sorted(summary.holiday_schools) == sorted(d.slug for d in DEMO_SCHOOLS)
    assert (summary.recipients, summary.sent) == (0, 0)
    assert ses.accepted == []
    assert list(WeekSnapshot.scan()) == []


def test_a_schools_own_holiday_stops_only_that_school(
    demo: dict[str, Any], ses: SesFault
) -> None:
    school = School.get(PRIMARY)
    monday = snapshots.week_sunday(WEEK) - timedelta(days=6)
    week_off = Holiday(
        name="studieweek",
        first_day=monday.isoformat(),
        last_day=(monday + timedelta(days=4)).isoformat(),
    )
    school.update(actions=[School.holidays.set([week_off])])
    try:
        summary = leadership_snapshot.run_leadership_snapshot(WEEK)
    finally:
        school.update(actions=[School.holidays.set([])])

    assert summary.holiday_schools == [PRIMARY]
    assert [s.school_id for s in WeekSnapshot.scan()] == [DEMO_SCHOOLS[1].slug]


def test_dry_run_renders_every_mail_and_stores_and_sends_nothing(
    demo: dict[str, Any], ses: SesFault
) -> None:
    members = leadership_members(demo["staff"])

    summary = leadership_snapshot.run_leadership_snapshot(WEEK, dry_run=True)

    assert len(summary.previews) == len(members)
    assert all(mail.attachments for _, _, mail in summary.previews)
    assert ses.calls == 0
    assert list(WeekSnapshot.scan()) == []
    assert list(Delivery.scan()) == []
