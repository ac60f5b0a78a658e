"""The teacher mail's weeks, trend and rendering, without AWS."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib import digests
from chalicelib.models import Group, School, StaffMember
from chalicelib.weeks import iso_week
from infra import stack

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def figures(total: int, previous: list[int], **kwargs: int) -> digests.GroupFigures:
    return digests.GroupFigures(
        group_id="g-5",
        name="Groep 5",
        total=total,
        by_category=[("Pesten", total)] if total else [],
        open_cases=kwargs.get("open_cases", 0),
        followups_due=kwargs.get("followups_due", 0),
        previous=previous,
    )


def school() -> School:
    return School(
        "obs-test",
        name="OBS Test",
        kind="primary",
        region="eu-central-1",
        groups=[Group(id="g-5", name="Groep 5")],
    )


def member(language: str) -> StaffMember:
    return StaffMember(
        "obs-test",
        "staff-1",
        email="t@example.org",
        name="Test",
        roles=["teacher"],
        groups=["g-5"],
        language=language,
    )


@pytest.mark.parametrize(
    ("local", "week"),
    [
        (datetime(2026, 11, 29, 23, 59, 59, tzinfo=AMSTERDAM), "2026-W48"),
        (datetime(2026, 11, 30, 0, 0, tzinfo=AMSTERDAM), "2026-W49"),
        (datetime(2027, 1, 3, 23, 59, tzinfo=AMSTERDAM), "2026-W53"),
        (datetime(2027, 1, 4, 0, 0, tzinfo=AMSTERDAM), "2027-W01"),
    ],
    ids=["sunday-2359", "monday-0000", "new-year-sunday", "new-year-monday"],
)
def test_sunday_night_and_monday_midnight_are_different_weeks(
    local: datetime, week: str
) -> None:
    assert iso_week(local) == week


def test_previous_week_crosses_the_year_boundary() -> None:
    assert digests.previous_week("2027-W01") == "2026-W53"
    assert digests.previous_week("2026-W49", 4) == "2026-W45"


@pytest.mark.parametrize(
    ("week", "first", "count"),
    [
        ("2026-W49", "2026-W31", 19),
        ("2026-W31", "2026-W31", 1),
        ("2026-W30", "2025-W31", 52),
        ("2027-W02", "2026-W31", 25),
    ],
    ids=["december", "first-week", "last-week-of-july", "january"],
)
def test_school_year_weeks_start_at_the_week_of_1_august(
    week: str, first: str, count: int
) -> None:
    weeks = digests.school_year_weeks(week)

    assert (weeks[0], weeks[-1], len(weeks)) == (first, week, count)


@pytest.mark.parametrize(
    ("total", "previous", "trend"),
    [(3, [1, 1, 1, 1], "up"), (0, [0, 1, 0, 0], "down"), (1, [2, 0, 1, 1], "same")],
    ids=["up", "down", "same"],
)
def test_trend_compares_with_the_average_of_the_four_weeks_before(
    total: int, previous: list[int], trend: str
) -> None:
    assert figures(total, previous).trend == trend


def test_week_with_nothing_reported_open_or_due_is_quiet() -> None:
    assert digests.TeacherFigures("2026-W49", [figures(0, [0, 2, 0, 0])]).quiet
    assert not digests.TeacherFigures(
        "2026-W49", [figures(0, [0, 0, 0, 0], open_cases=1)]
    ).quiet


@pytest.mark.parametrize("language", ["nl", "en"])
def test_mail_has_both_parts_without_scripts_external_images_or_style_blocks(
    language: str,
) -> None:
    week = digests.TeacherFigures("2026-W49", [figures(2, [1, 0, 0, 1])])

    mail = digests.teacher_mail(school(), member(language), week)

    assert "2026-W49" in mail.subject
    assert "Groep 5" in mail.text
    assert "Groep 5" in mail.html
    assert not re.search(r"<script|<img|<style|<link|javascript:", mail.html, re.I)
    assert re.findall(r"https?://[^\"'\s<]+", mail.html) == [
        re.findall(r"https?://\S+", mail.text)[0]
    ]


def test_mail_speaks_the_staff_members_language() -> None:
    week = digests.TeacherFigures("2026-W49", [figures(2, [1, 0, 0, 1])])

    dutch = digests.teacher_mail(school(), member("nl"), week)
    english = digests.teacher_mail(school(), member("en"), week)

    assert "Nieuwe meldingen vorige week: 2" in dutch.text
    assert "New reports last week: 2" in english.text
    assert "(0,5)" in dutch.text
    assert "(0.5)" in english.text


def test_quiet_mail_says_nothing_was_reported() -> None:
    week = digests.TeacherFigures("2026-W49", [figures(0, [0, 0, 0, 0])])

    mail = digests.teacher_mail(school(), member("en"), week)

    assert "Nothing was reported about your groups last week" in mail.text
    assert "New reports" not in mail.text


# --- the schedule in the generated stack -----------------------------------------

CRON_DAYS = {"MON": 0, "TUE": 1, "WED": 2, "THU": 3, "FRI": 4, "SAT": 5, "SUN": 6}


def next_run(schedule: dict[str, Any], after: datetime) -> datetime:
    """The next UTC instant an EventBridge Scheduler weekly cron fires after `after`."""
    expression = schedule["ScheduleExpression"]
    minute, hour, _, _, weekday, _ = expression.removeprefix("cron(")[:-1].split()
    zone = ZoneInfo(schedule["ScheduleExpressionTimezone"])
    day = after.astimezone(zone).date()
    while True:
        local = datetime.combine(day, time(int(hour), int(minute)), zone)
        if day.weekday() == CRON_DAYS[weekday] and local > after:
            return local.astimezone(UTC)
        day += timedelta(days=1)


MONDAY_JOBS = [stack.WEEKLY_TEACHER_MAIL, stack.WEEKLY_LEADERSHIP_SNAPSHOT]


def schedules() -> dict[str, dict[str, Any]]:
    """The generated template's schedules, by the function they invoke."""
    resources = stack.merge_template("eu-central-1", "prod")["Resources"]
    found = [
        r["Properties"]
        for r in resources.values()
        if r.get("Type") == "AWS::Scheduler::Schedule"
    ]
    return {s["Target"]["Arn"]["Fn::GetAtt"][0]: s for s in found}


def test_every_scheduled_job_has_one_schedule() -> None:
    assert sorted(schedules()) == sorted([*MONDAY_JOBS, stack.RETENTION])


def test_retention_runs_every_night_at_0300_school_time() -> None:
    schedule = schedules()[stack.RETENTION]

    assert schedule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Amsterdam"


@pytest.mark.parametrize("job", MONDAY_JOBS)
@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (datetime(2026, 12, 1, 12, 0, tzinfo=UTC), datetime(2026, 12, 7, 6, 0)),
        (datetime(2026, 6, 2, 12, 0, tzinfo=UTC), datetime(2026, 6, 8, 5, 0)),
        (datetime(2026, 3, 24, 12, 0, tzinfo=UTC), datetime(2026, 3, 30, 5, 0)),
    ],
    ids=["winter", "summer", "first-monday-of-summer-time"],
)
def test_monday_jobs_run_monday_0700_school_time_in_winter_and_summer(
    job: str, after: datetime, expected: datetime
) -> None:
    schedule = schedules()[job]

    assert next_run(schedule, after) == expected.replace(tzinfo=UTC)
