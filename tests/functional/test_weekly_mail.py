"""The Monday teacher mail against the demo schools: figures that match the
reports, exactly one mail per teacher however the job is retried, raced or
killed, and SES throttling and refusals survived."""

from __future__ import annotations

import json
import random
import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from faker import Faker
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib import digests
from chalicelib.casework import followup_scope
from chalicelib.config import settings
from chalicelib.models import (
    Delivery,
    Holiday,
    Report,
    ReportIndex,
    School,
    StaffMember,
)
from chalicelib.reports import store_report
from chalicelib.validation import validate_report
from chalicelib.weeks import iso_week, now_utc
from functions import delivery, weekly_mail
from local.seed import DEMO_SCHOOLS, create_pupils, random_report, seed_reports
from tests.functional.conftest import fresh_aws, seed_demo_schools
from tests.functional.helpers import sent_mails

WEEK = iso_week(now_utc() - timedelta(days=7))
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture(scope="module")
def seeded() -> Iterator[dict[str, Any]]:
    """Both demo schools with staff, rosters and six weeks of reports, seeded once
    per module: the job only adds deliveries and mails, which `demo` clears."""
    with fresh_aws():
        staff = seed_demo_schools()
        fake = Faker("nl_NL")
        fake.seed_instance(49)
        rng = random.Random(49)
        names: set[str] = set()
        for demo_school in DEMO_SCHOOLS:
            school = School.get(demo_school.slug)
            roster = create_pupils(school, fake)
            for pupils in roster.values():
                names |= {p.first_name for p in pupils} | {p.last_name for p in pupils}
            seed_reports(school, fake, rng, weeks=6, per_week=7, roster=roster)
        yield {"staff": staff, "names": names}


@pytest.fixture
def demo(seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The seeded schools with no deliveries and no mails yet; no backoff waits."""
    monkeypatch.setattr(delivery, "BACKOFF_SECONDS", 0.001)
    with Delivery.batch_write() as batch:
        for item in Delivery.scan():
            batch.delete(item)
    ses_backends[DEFAULT_ACCOUNT_ID][settings.region].sent_messages.clear()
    return seeded


def teachers_with_groups(staff: dict[str, list[StaffMember]]) -> list[StaffMember]:
    return [
        m
        for members in staff.values()
        for m in members
        if "teacher" in m.roles and m.groups
    ]


def mails_read_back() -> list[EmailMessage]:
    """The mails moto's SES accepted, oldest first, parsed as a mail client would."""
    return [
        cast(EmailMessage, message_from_string(m.raw_data, policy=policy.default))
        for m in sent_mails()
    ]


class SesFault:
    """Fail SendRawEmail calls the way SES does, at botocore's client (one seam)."""

    def __init__(self) -> None:
        self.throttle_next = 0
        self.throttle_code = "Throttling"
        self.reject: set[str] = set()
        self.calls = 0
        self.lock = threading.Lock()

    @property
    def accepted(self) -> list[EmailMessage]:
        return mails_read_back()

    def mails_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.accepted if m["To"] == address]

    def check(self, operation: str, params: dict[str, Any]) -> None:
        if operation != "SendRawEmail":
            return
        with self.lock:
            self.calls += 1
            if self.throttle_next:
                self.throttle_next -= 1
                raise _error(self.throttle_code, operation)
        message = message_from_bytes(params["RawMessage"]["Data"])
        if message["To"] in self.reject:
            raise _error("MessageRejected", operation)


def _error(code: str, operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "Injected by the test"}}, operation
    )


@pytest.fixture
def ses(monkeypatch: pytest.MonkeyPatch) -> Iterator[SesFault]:
    fault = SesFault()
    make_api_call = BaseClient._make_api_call

    def call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        fault.check(operation, params)
        return make_api_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", call)
    yield fault


def part(mail: EmailMessage, subtype: str) -> str:
    body = mail.get_body(preferencelist=(subtype,))
    assert body is not None and body.get_content_subtype() == subtype
    return str(body.get_content())


def text_of(mail: EmailMessage) -> str:
    return part(mail, "plain")


def html_of(mail: EmailMessage) -> str:
    return part(mail, "html")


def recount(school_id: str, group: str, week: str) -> tuple[int, Counter[str], int]:
    """Reports of one group received in `week`, by category, and open cases of the
    school year, counted from the stored reports themselves."""
    year = set(digests.school_year_weeks(week))
    reports = [r for r in Report.query(school_id) if group in r.groups]
    of_week = [r for r in reports if r.received_week == week]
    categories = Counter(str(c) for r in of_week for c in r.categories)
    open_cases = sum(
        1 for r in reports if r.received_week in year and r.status != "closed"
    )
    return len(of_week), categories, open_cases


def expected_lines(member: StaffMember) -> list[str]:
    school = School.get(member.school_id)
    names = {str(g.id): str(g.name) for g in school.groups}
    labels = {str(c.id): str(c.label.nl) for c in school.categories}
    lines = []
    for group in map(str, member.groups):
        total, categories, open_cases = recount(member.school_id, group, WEEK)
        lines += [names[group], f"- Nieuwe meldingen vorige week: {total}"]
        lines += [f"    {labels[c]}: {n}" for c, n in categories.items()]
        lines.append(f"- Openstaande zaken: {open_cases}")
    return lines


def private_texts(school_ids: list[str]) -> tuple[set[str], set[str]]:
    """Names and addresses (as words) and whole texts stored with the reports."""
    names: set[str] = set()
    texts: set[str] = set()
    for school_id in school_ids:
        for report in Report.query(school_id):
            texts |= {report.description, report.location_note or ""}
            people = [p.name for p in report.persons]
            if report.contact is not None:
                people.append(report.contact.name or "")
                texts.add(report.contact.email or "")
            names |= {w for person in people for w in person.split()}
    return names, texts - {""}


# --- every teacher, once, with the right figures ----------------------------------


def test_every_teacher_with_groups_gets_one_mail_with_their_groups_figures(
    demo: dict[str, Any], ses: SesFault
) -> None:
    teachers = teachers_with_groups(demo["staff"])

    summary = weekly_mail.run_teacher_mail(WEEK)

    assert summary.sent == len(teachers) == summary.recipients
    assert (summary.failed, summary.unconfirmed, summary.skipped) == (0, 0, 0)
    assert len(sent_mails()) == len(teachers)
    mailed_something = False
    for member in teachers:
        [mail] = ses.mails_to(member.email)
        text = text_of(mail)
        lines = text.splitlines()
        for line in expected_lines(member):
            assert line in lines, (member.staff_id, line)
        assert html_of(mail).lstrip().startswith("<!DOCTYPE html>")
        assert WEEK in mail["Subject"]
        mailed_something |= "Nieuwe meldingen vorige week: 0" not in text
    assert mailed_something, "the seed gave no teacher any report: the test is void"


def test_staff_without_groups_or_teacher_role_get_no_mail(
    demo: dict[str, Any], ses: SesFault
) -> None:
    others = [
        m
        for members in demo["staff"].values()
        for m in members
        if "teacher" not in m.roles or not m.groups
    ]

    weekly_mail.run_teacher_mail(WEEK)

    assert others
    assert [m.staff_id for m in others if ses.mails_to(m.email)] == []


def test_no_mail_part_contains_a_name_address_or_report_text(
    demo: dict[str, Any], ses: SesFault
) -> None:
    names, texts = private_texts([d.slug for d in DEMO_SCHOOLS])
    names |= demo["names"]
    names |= {w for ms in demo["staff"].values() for m in ms for w in m.name.split()}
    texts |= {m.email for ms in demo["staff"].values() for m in ms}

    weekly_mail.run_teacher_mail(WEEK)

    assert ses.accepted
    for mail in ses.accepted:
        content = " ".join([mail["Subject"], text_of(mail), html_of(mail)])
        words = set(re.split(r"[\s<>:;,.()\"']+", content))
        # Capitalised words only: "van", "de" and "ter" in names are also Dutch words.
        assert {n for n in names if n[:1].isupper()} & words == set()
        assert [t for t in texts if t in content] == []


def test_quiet_week_gets_the_short_nothing_reported_mail(
    demo: dict[str, Any], ses: SesFault
) -> None:
    teachers = teachers_with_groups(demo["staff"])
    quiet_week = "2025-W37"  # a school week of a school year with no reports

    summary = weekly_mail.run_teacher_mail(quiet_week)

    assert summary.sent == len(teachers)
    for member in teachers:
        [mail] = ses.mails_to(member.email)
        assert "Er is vorige week niets gemeld over je groepen" in text_of(mail)
        assert "Er is vorige week niets gemeld over je groepen" in html_of(mail)


def test_follow_ups_due_next_week_are_counted_for_the_reports_groups(
    demo: dict[str, Any], ses: SesFault
) -> None:
    [member] = [
        m
        for m in demo["staff"][DEMO_SCHOOLS[0].slug]
        if m.staff_id == "staff-leerkracht"
    ]
    group = member.groups[0]
    school_id = member.school_id
    report = next(r for r in Report.query(school_id) if group in r.groups)
    monday = digests.week_monday(WEEK)
    pointers = [
        ReportIndex(
            followup_scope(school_id),
            f"{due.isoformat()}#{report.report_id}#e1",
            report_id=report.report_id,
        )
        for due in (monday + timedelta(days=8), monday + timedelta(days=15))
    ]
    for pointer in pointers:
        pointer.save()

    weekly_mail.run_teacher_mail(WEEK, school_ids=[school_id])

    for pointer in pointers:
        pointer.delete()
    [mail] = ses.mails_to(member.email)
    assert "- Nazorg gepland deze week: 1" in text_of(mail).splitlines()


# --- holiday weeks ----------------------------------------------------------------


@pytest.fixture
def own_holidays(demo: dict[str, Any]) -> Iterator[School]:
    """The primary demo school, its own holiday list restored after the test."""
    school = School.get(DEMO_SCHOOLS[0].slug)
    yield school
    school.update(actions=[School.holidays.set([])])


def test_holiday_week_sends_no_mail_and_the_summary_says_so(
    demo: dict[str, Any], ses: SesFault, json_log_lines: Any
) -> None:
    christmas = "2026-W52"  # kerst, the same in every region

    summary = weekly_mail.run_teacher_mail(christmas)

    assert sorted(summary.holiday_schools) == sorted(d.slug for d in DEMO_SCHOOLS)
    assert (summary.recipients, summary.sent, summary.schools) == (0, 0, 2)
    assert ses.calls == 0
    assert ses.accepted == []
    assert list(Delivery.scan()) == []
    lines = json_log_lines()
    holiday_lines = [line for line in lines if line.get("message") == "holiday week"]
    assert {line["school"] for line in holiday_lines} == set(summary.holiday_schools)
    assert all("@" not in json.dumps(line) for line in holiday_lines)
    [run] = [line for line in lines if line.get("message") == "teacher mail run"]
    assert run["holiday_schools"] == 2


def test_the_week_after_a_holiday_is_mailed(
    demo: dict[str, Any], ses: SesFault
) -> None:
    teachers = teachers_with_groups(demo["staff"])
    back_at_school = "2027-W01"  # kerst ends Sunday 3 January 2027

    summary = weekly_mail.run_teacher_mail(back_at_school)

    assert summary.holiday_schools == []
    assert summary.sent == len(teachers)
    assert all(len(ses.mails_to(m.email)) == 1 for m in teachers)


def test_holiday_of_one_region_only_stops_that_regions_school(
    demo: dict[str, Any], ses: SesFault
) -> None:
    # Herfst 2026: zuid 10-18 October, midden 17-25 October.
    week = "2026-W42"
    zuid, midden = DEMO_SCHOOLS[1].slug, DEMO_SCHOOLS[0].slug
    assert School.get(zuid).holiday_region == "zuid"

    summary = weekly_mail.run_teacher_mail(week)

    assert summary.holiday_schools == [zuid]
    mailed = teachers_with_groups({midden: demo["staff"][midden]})
    assert summary.sent == len(mailed)
    assert {m["To"] for m in ses.accepted} == {m.email for m in mailed}


def test_a_schools_own_holiday_counts_as_a_holiday_week(
    demo: dict[str, Any], ses: SesFault, own_holidays: School
) -> None:
    monday = digests.week_monday(WEEK)
    own_holidays.update(
        actions=[
            School.holidays.set(
                [
                    Holiday(
                        name="studieweek",
                        first_day=monday.isoformat(),
                        last_day=(monday + timedelta(days=4)).isoformat(),
                    )
                ]
            )
        ]
    )
    other = DEMO_SCHOOLS[1].slug

    summary = weekly_mail.run_teacher_mail(WEEK)

    assert summary.holiday_schools == [own_holidays.school_id]
    assert {m["To"] for m in ses.accepted} == {
        m.email for m in teachers_with_groups({other: demo["staff"][other]})
    }


# --- trustworthy delivery ---------------------------------------------------------


def test_running_the_job_again_mails_nobody_twice(
    demo: dict[str, Any], ses: SesFault
) -> None:
    teachers = teachers_with_groups(demo["staff"])
    weekly_mail.run_teacher_mail(WEEK)

    again = weekly_mail.run_teacher_mail(WEEK)

    assert (again.sent, again.skipped) == (0, len(teachers))
    assert len(sent_mails()) == len(teachers)
    assert all(len(ses.mails_to(m.email)) == 1 for m in teachers)


def run_at_once(count: int) -> list[weekly_mail.Summary]:
    """`count` runs of the job started together in threads."""
    start = threading.Barrier(count)
    summaries: list[weekly_mail.Summary] = []

    def run() -> None:
        start.wait()
        summaries.append(weekly_mail.run_teacher_mail(WEEK))

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(summaries) == count
    return summaries


def test_two_runs_at_once_send_each_teacher_one_mail(
    demo: dict[str, Any], ses: SesFault
) -> None:
    teachers = teachers_with_groups(demo["staff"])

    summaries = run_at_once(2)

    assert sum(s.sent for s in summaries) == len(teachers)
    assert sum(s.failed for s in summaries) == 0
    assert all(len(ses.mails_to(m.email)) == 1 for m in teachers)


class Crash(BaseException):
    """The process dying: no handler of ours catches it."""


# Where the process dies, from claiming a recipient to recording the mail sent.
CRASH_POINTS = {
    "after-claim": "claimed, SES never asked",
    "in-send-before-ses-accepted": "SES asked, the mail not accepted",
    "after-ses-accepted": "SES accepted the mail, its delivery not recorded",
    "after-mark-sent": "the mail sent and recorded",
}
# Points at which the victim's mail was accepted by SES before the crash.
ACCEPTED_BEFORE_CRASH = {"after-ses-accepted", "after-mark-sent"}


class CrashAt:
    """Kill the job at one step boundary of the n-th recipient it gets to."""

    def __init__(self, point: str, nth: int) -> None:
        self.point = point
        self.nth = nth
        self.seen = 0
        self.victim: str | None = None  # e-mail address of the recipient hit
        self.armed = True

    def reached(self, address: str) -> None:
        if not self.armed:
            return
        self.seen += 1
        if self.seen == self.nth:
            self.armed = False
            self.victim = address
            raise Crash

    def install(
        self, monkeypatch: pytest.MonkeyPatch, addresses: dict[str, str]
    ) -> None:
        claim, mark_sent = delivery._claim, delivery.mark_sent
        make_api_call = BaseClient._make_api_call

        def claim_then_crash(key: str, staff_id: str, previous: Any) -> Any:
            delivery = claim(key, staff_id, previous)
            if self.point == "after-claim" and delivery is not None:
                self.reached(addresses[key.split("#", maxsplit=1)[0] + "/" + staff_id])
            return delivery

        def mark_then_crash(delivery: Delivery) -> None:
            mark_sent(delivery)
            if self.point == "after-mark-sent":
                school = str(delivery.key).split("#")[0]
                self.reached(addresses[f"{school}/{delivery.recipient}"])

        def ses_then_crash(client: BaseClient, operation: str, params: Any) -> Any:
            if operation != "SendRawEmail":
                return make_api_call(client, operation, params)
            to = str(message_from_bytes(params["RawMessage"]["Data"])["To"])
            if self.point == "in-send-before-ses-accepted":
                self.reached(to)
            response = make_api_call(client, operation, params)
            if self.point == "after-ses-accepted":
                self.reached(to)
            return response

        monkeypatch.setattr(delivery, "_claim", claim_then_crash)
        monkeypatch.setattr(delivery, "mark_sent", mark_then_crash)
        monkeypatch.setattr(BaseClient, "_make_api_call", ses_then_crash)


CRASH_CASES = [
    pytest.param((point, position, reruns), id=f"{point}-{position}-{mode}")
    for point in CRASH_POINTS
    for position in ("first", "middle", "last")
    for reruns, mode in ((1, "rerun"), (2, "two-reruns-at-once"))
]


@pytest.mark.parametrize("case", CRASH_CASES)
def test_job_killed_at_any_step_and_run_again_mails_nobody_twice_and_skips_none(
    demo: dict[str, Any],
    ses: SesFault,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str, int],
) -> None:
    point, position, reruns = case
    teachers = teachers_with_groups(demo["staff"])
    addresses = {f"{m.school_id}/{m.staff_id}": m.email for m in teachers}
    nth = {"first": 1, "middle": len(teachers) // 2, "last": len(teachers)}[position]
    crash = CrashAt(point, nth)
    crash.install(monkeypatch, addresses)
    with pytest.raises(Crash):
        weekly_mail.run_teacher_mail(WEEK)
    victim = crash.victim
    ses.throttle_next = 2  # the reruns meet SES throttling too

    summaries = run_at_once(reruns)

    mails = Counter(m["To"] for m in ses.accepted)
    assert max(mails.values()) == 1, "a recipient got two mails"
    unconfirmed = {
        addresses["/".join(r)] for s in summaries for r in s.unconfirmed_recipients
    }
    # A run overlapping another cannot tell the other's fresh claims from a dead
    # run's and lists them as unconfirmed too: those were mailed.
    assert unconfirmed - {victim} <= set(mails)
    if point == "after-mark-sent":
        assert set(mails) == set(addresses.values())
        if reruns == 1:
            assert unconfirmed == set()
    else:
        # Every rerun names the victim; the mail went out only if SES had it.
        for summary in summaries:
            listed = {addresses["/".join(r)] for r in summary.unconfirmed_recipients}
            assert victim in listed
        assert set(mails) == set(addresses.values()) - ({victim} - set(mails))
        assert (victim in mails) is (point in ACCEPTED_BEFORE_CRASH)
        if reruns == 1:
            assert unconfirmed == {victim}
    assert sum(s.failed for s in summaries) == 0
    assert sum(s.sent for s in summaries) == len(mails) - (nth - 1) - (
        point in ACCEPTED_BEFORE_CRASH
    )


def test_unconfirmed_recipient_stays_listed_in_every_later_run(
    demo: dict[str, Any], ses: SesFault, monkeypatch: pytest.MonkeyPatch
) -> None:
    teachers = teachers_with_groups(demo["staff"])
    addresses = {f"{m.school_id}/{m.staff_id}": m.email for m in teachers}
    crash = CrashAt("after-ses-accepted", 1)
    crash.install(monkeypatch, addresses)
    with pytest.raises(Crash):
        weekly_mail.run_teacher_mail(WEEK)
    weekly_mail.run_teacher_mail(WEEK)

    third = weekly_mail.run_teacher_mail(WEEK)

    assert [addresses["/".join(r)] for r in third.unconfirmed_recipients] == [
        crash.victim
    ]
    assert (third.sent, third.skipped) == (0, len(teachers) - 1)
    assert len(ses.mails_to(str(crash.victim))) == 1


@pytest.mark.parametrize("code", ["Throttling", "MaxSendRateExceeded"])
def test_ses_throttling_is_retried_and_survived(
    demo: dict[str, Any], ses: SesFault, code: str
) -> None:
    teachers = teachers_with_groups(demo["staff"])
    ses.throttle_next = delivery.MAX_SEND_ATTEMPTS - 1
    ses.throttle_code = code

    summary = weekly_mail.run_teacher_mail(WEEK)

    assert summary.sent == len(teachers)
    assert summary.failed == 0
    assert ses.calls == len(teachers) + delivery.MAX_SEND_ATTEMPTS - 1
    assert all(len(ses.mails_to(m.email)) == 1 for m in teachers)


def test_throttling_past_the_retry_budget_fails_one_mail_and_the_next_run_sends_it(
    demo: dict[str, Any], ses: SesFault
) -> None:
    teachers = teachers_with_groups(demo["staff"])
    ses.throttle_next = delivery.MAX_SEND_ATTEMPTS
    first = weekly_mail.run_teacher_mail(WEEK)
    [(school_id, staff_id, code)] = first.failures

    rerun = weekly_mail.run_teacher_mail(WEEK)

    assert code == "Throttling"
    assert first.sent == len(teachers) - 1
    assert (rerun.sent, rerun.skipped, rerun.failed) == (1, len(teachers) - 1, 0)
    assert all(len(ses.mails_to(m.email)) == 1 for m in teachers)
    assert [Delivery.get(f"{school_id}#{WEEK}#teacher", staff_id).attempts] == [2]


def test_one_refused_recipient_does_not_stop_the_others(
    demo: dict[str, Any], ses: SesFault
) -> None:
    teachers = teachers_with_groups(demo["staff"])
    refused = teachers[0]
    ses.reject = {refused.email}

    summary = weekly_mail.run_teacher_mail(WEEK)

    assert summary.failures == [
        (refused.school_id, refused.staff_id, "MessageRejected")
    ]
    assert summary.sent == len(teachers) - 1
    assert ses.mails_to(refused.email) == []
    assert all(len(ses.mails_to(m.email)) == 1 for m in teachers[1:])


def test_refused_mail_is_tried_again_by_the_next_run(
    demo: dict[str, Any], ses: SesFault
) -> None:
    teachers = teachers_with_groups(demo["staff"])
    refused = teachers[0]
    ses.reject = {refused.email}
    weekly_mail.run_teacher_mail(WEEK)
    ses.reject = set()

    rerun = weekly_mail.run_teacher_mail(WEEK)

    assert (rerun.sent, rerun.skipped, rerun.failed) == (1, len(teachers) - 1, 0)
    assert len(ses.mails_to(refused.email)) == 1


def test_dry_run_renders_every_mail_and_sends_none(
    demo: dict[str, Any], ses: SesFault
) -> None:
    teachers = teachers_with_groups(demo["staff"])

    summary = weekly_mail.run_teacher_mail(WEEK, dry_run=True)

    assert len(summary.previews) == len(teachers)
    assert all(mail.text and mail.html for _, _, mail in summary.previews)
    assert ses.accepted == []
    assert list(Delivery.scan()) == []


def test_summary_is_logged_as_one_line_of_counts(
    demo: dict[str, Any],
    ses: SesFault,
    capsys: pytest.CaptureFixture[str],
    json_log_lines: Any,
) -> None:
    teachers = teachers_with_groups(demo["staff"])

    weekly_mail.run_teacher_mail(WEEK)

    # Metrics are printed (EMF) to stdout; log lines go through the logger.
    metric_lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    lines = json_log_lines() + metric_lines
    [summary] = [line for line in lines if line.get("message") == "teacher mail run"]
    assert summary["sent"] == summary["recipients"] == len(teachers)
    assert {"schools", "skipped", "unconfirmed", "failed"} <= set(summary)
    [emf] = [line for line in lines if "_aws" in line]
    assert emf["DeliveriesSent"] == [float(len(teachers))]
    assert all(m.email not in json.dumps(lines) for m in teachers)


# --- weeks in school time -------------------------------------------------------


def store_received(school: School, instants: list[datetime], seed: int) -> list[Report]:
    """Demo reports received at the given instants (the reports of one test)."""
    fake = Faker("nl_NL")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    return [
        store_report(
            school,
            f"test-{seed}-{n}",
            validate_report(random_report(school, fake, rng, 2), school),
            received=instant.astimezone(UTC),
        )
        for n, instant in enumerate(instants)
    ]


def test_sunday_2359_and_monday_0000_local_land_in_different_weeks(
    demo: dict[str, Any],
) -> None:
    # The night summer time starts, far from the seeded weeks.
    school = School.get(DEMO_SCHOOLS[0].slug)
    sunday = datetime(2026, 3, 29, 23, 59, tzinfo=AMSTERDAM)
    monday = datetime(2026, 3, 30, 0, 0, tzinfo=AMSTERDAM)
    late, early = store_received(school, [sunday, monday], seed=7)
    teacher = StaffMember(
        school.school_id, "staff-x", groups=sorted({*late.groups, *early.groups})
    )

    weeks = [late.received_week, early.received_week]
    sunday_week = digests.teacher_figures(school, teacher, "2026-W13")
    monday_week = digests.teacher_figures(school, teacher, "2026-W14")

    assert weeks == [iso_week(sunday), iso_week(monday)] == ["2026-W13", "2026-W14"]
    assert {g.group_id: g.total for g in sunday_week.groups} == {
        g: int(g in late.groups) for g in teacher.groups
    }
    assert {g.group_id: g.total for g in monday_week.groups} == {
        g: int(g in early.groups) for g in teacher.groups
    }


def test_job_requests_do_not_grow_with_the_reports_stored(
    demo: dict[str, Any], ses: SesFault, monkeypatch: pytest.MonkeyPatch
) -> None:
    school = School.get(DEMO_SCHOOLS[0].slug)
    week = "2026-W16"
    monday = datetime(2026, 4, 13, 9, 0, tzinfo=AMSTERDAM)
    calls: list[str] = []
    make_api_call = BaseClient._make_api_call

    def counted(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        return make_api_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    weekly_mail.run_teacher_mail(week, [school.school_id], dry_run=True)
    few = Counter(calls)
    store_received(school, [monday + timedelta(hours=n) for n in range(30)], seed=16)
    calls.clear()

    weekly_mail.run_teacher_mail(week, [school.school_id], dry_run=True)

    assert Counter(calls) == few
    assert few["BatchGetItem"] >= 1
