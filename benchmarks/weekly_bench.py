"""The Monday teacher mail for 50 schools and 1,000 teachers at two history sizes:
`python -m benchmarks.weekly_bench`.

Runs against moto's server on loopback, as `scripts/run` does. The schools and
teachers are seeded once with the counters and follow-ups of the mailed week;
then the history grows (reports, group-week counters of earlier school years,
follow-ups long past) and at each size the whole job runs with no deliveries
yet, so it mails every teacher. Printed per size: the DynamoDB requests by
operation, the items returned, scanned and written, the other AWS requests
(SES), and the time, split into time inside the emulator and our own. The
requests and items must be the same at both sizes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from benchmarks.dynamo_meter import Meter, metered
from local.run import configure_environment, start_local_aws

SCHOOLS = 50
TEACHERS = 1_000
WEEK = "2026-W48"
# (reports per school, earlier school years of counters and follow-ups)
SIZES = ((200, 0), (2_000, 3))


@dataclass
class Row:
    reports: int
    years: int
    meter: Meter
    summary: Any


def _requests(meter: Meter) -> str:
    counts = {**meter.operations, **meter.other_operations}
    return ", ".join(f"{op} {n}" for op, n in sorted(counts.items()))


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'reports':>8} {'years':>5}  {'requests by operation':<72} "
        f"{'returned':>8} {'scanned':>8} {'written':>7} {'total s':>8} "
        f"{'emulator s':>10} {'our s':>6} {'our ms/teacher':>14}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        meter, teachers = row.meter, max(row.summary.recipients, 1)
        print(
            f"{row.reports * SCHOOLS:>8,} {row.years:>5}  {_requests(meter):<72} "
            f"{meter.items_returned:>8} {meter.items_scanned:>8} "
            f"{meter.items_written:>7} {meter.total_seconds:>8.1f} "
            f"{meter.emulator_seconds:>10.1f} {meter.our_seconds:>6.1f} "
            f"{meter.our_seconds / teachers * 1000:>14.2f}"
        )


def problems(rows: list[Row]) -> list[str]:
    found = []
    for row in rows:
        if row.summary.sent != TEACHERS:
            found.append(f"{row.reports * SCHOOLS:,} reports: {row.summary.counts()}")
    if any(row.meter.counts() != rows[0].meter.counts() for row in rows):
        found.append("requests or items change with the history stored")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    configure_environment(start_local_aws(), "http://127.0.0.1:8000")
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"

    # chalicelib reads table names and the endpoint from the environment at import.
    from benchmarks.moto_tweaks import unchecked_item_sizes  # noqa: PLC0415
    from benchmarks.weekly_seed import (  # noqa: PLC0415
        add_history,
        forget_deliveries,
        seed_world,
    )
    from chalicelib import aws  # noqa: PLC0415
    from chalicelib.models import create_tables  # noqa: PLC0415
    from functions import weekly_mail  # noqa: PLC0415
    from local.run import DEMO_DOMAIN  # noqa: PLC0415

    create_tables()
    aws.client("ses").verify_domain_identity(Domain=DEMO_DOMAIN)
    started = time.perf_counter()
    world = seed_world(SCHOOLS, TEACHERS, WEEK)
    print(
        f"seeded {SCHOOLS} schools and {TEACHERS:,} teachers "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    # Clients and connections are set up on first use: not measured.
    with contextlib.redirect_stdout(io.StringIO()):
        weekly_mail.run_teacher_mail(WEEK, [world.schools[0].school_id], dry_run=True)

    rows = []
    for reports, years in SIZES:
        started = time.perf_counter()
        with unchecked_item_sizes():
            add_history(world, reports, years)
        print(
            f"history: {reports * SCHOOLS:,} reports and {years} earlier school "
            f"years, seeded in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        forget_deliveries()
        # The job's metrics go to stdout as EMF lines: not part of this table.
        with contextlib.redirect_stdout(io.StringIO()), metered() as meter:
            summary = weekly_mail.run_teacher_mail(WEEK)
        rows.append(Row(reports, years, meter, summary))

    print(f"\nWeek {WEEK}, {SCHOOLS} schools, {TEACHERS:,} teachers, one run each.")
    print_table(rows)
    print(
        "The one Scan lists the schools table (one small item per school): it "
        "grows with the schools, never with their history."
    )
    found = problems(rows)
    for problem in found:
        print(f"PROBLEM: {problem}")
    if not found:
        print("Requests and items are the same at both history sizes.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
