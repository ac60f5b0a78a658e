"""The teacher mail job costs the same however much history is stored: the count
half of `python -m benchmarks.weekly_bench`, at sizes small enough for every run.

At each size the job mails every teacher afresh (no deliveries, no mails yet),
so the two runs do the same work and may differ only by what history they read.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from benchmarks.dynamo_meter import metered
from benchmarks.weekly_seed import add_history, forget_deliveries, seed_world
from functions import delivery, weekly_mail
from tests.functional.helpers import sent_mails

WEEK = "2026-W48"
SCHOOLS = 3
TEACHERS = 12
# (reports per school, earlier school years of counters and follow-ups)
SIZES = ((50, 0), (1_500, 3))


def _run() -> tuple[dict[str, Any], weekly_mail.Summary]:
    forget_deliveries()
    with metered() as meter:
        summary = weekly_mail.run_teacher_mail(WEEK)
    return meter.counts(), summary


def test_job_requests_and_items_read_are_the_same_at_two_history_sizes(
    fake_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "BACKOFF_SECONDS", 0.001)
    world = seed_world(SCHOOLS, TEACHERS, WEEK)
    counts = {}
    for reports, years in SIZES:
        add_history(world, reports, years)
        counts[(reports, years)], summary = _run()
        assert summary.sent == TEACHERS == len(sent_mails())

    small, large = counts[SIZES[0]], counts[SIZES[1]]
    assert large == small
    operations = Counter(small["operations"])
    assert operations["BatchGetItem"] >= SCHOOLS  # counters, then follow-up reports
    assert operations["Query"] == 3 * SCHOOLS  # staff, deliveries, follow-ups
    assert operations["Scan"] == 1  # the schools table, once per run
    assert operations["PutItem"] == operations["UpdateItem"] == TEACHERS
    assert small["other_operations"] == {"ses:SendRawEmail": TEACHERS}
