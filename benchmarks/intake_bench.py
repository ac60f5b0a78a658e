"""Request cost at 10,000 and 100,000 reports: `python -m benchmarks.intake_bench`.

Runs against moto's server on loopback, as `scripts/run` does. One school gets
its reports seeded straight into the tables (BatchWriteItem, spread over a year);
then a submit, a listing of the school's newest reports, and the teacher's and
the coordinator's report list and case page are measured at each size: the
DynamoDB requests made by every botocore client, the items returned and
scanned, and the time, split into time inside the emulator and our own. The
emulator's Query sorts its whole table, so its time grows with the table; the
requests, the items and our own time must not. Two other costs of moto that
grow with its tables, and that DynamoDB lacks, are trimmed (see moto_tweaks).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.dynamo_meter import Meter
from local.run import configure_environment, start_local_aws

SIZES = (10_000, 100_000)
SCHOOL = "het-baken-college"


@dataclass
class Row:
    operation: str
    size: int
    meters: list[Meter]

    @property
    def first(self) -> Meter:
        return self.meters[0]

    @property
    def stable(self) -> bool:
        return all(m.counts() == self.first.counts() for m in self.meters)

    def median_ms(self, seconds: Callable[[Meter], float]) -> float:
        return statistics.median(seconds(m) for m in self.meters) * 1000


def _requests(meter: Meter) -> str:
    counts = {**meter.operations, **meter.other_operations}
    return ", ".join(f"{op} {n}" for op, n in sorted(counts.items())) or "none"


def print_table(rows: list[Row], repeat: int) -> None:
    header = (
        f"{'operation':<17} {'reports':>8}  {'requests by operation':<42} "
        f"{'returned':>8} {'scanned':>8} {'written':>7} {'total ms':>9} "
        f"{'emulator ms':>11} "
        f"{'our ms':>7}"
    )
    print(f"\nMedians of {repeat} runs each; counts are those of every run.")
    print("Case pages write one audit entry per view (the 'written' column).")
    print(header)
    print("-" * len(header))
    for row in rows:
        meter = row.first
        print(
            f"{row.operation:<17} {row.size:>8,}  {_requests(meter):<42} "
            f"{meter.items_returned:>8} {meter.items_scanned:>8} "
            f"{meter.items_written:>7} "
            f"{row.median_ms(lambda m: m.total_seconds):>9.1f} "
            f"{row.median_ms(lambda m: m.emulator_seconds):>11.1f} "
            f"{row.median_ms(lambda m: m.our_seconds):>7.1f}"
            + ("" if row.stable else "  (counts differ between runs)")
        )


def problems(rows: list[Row]) -> list[str]:
    """What breaks the rule: no Scan, and counts independent of table size."""
    found = []
    for row in rows:
        if any(m.scans for m in row.meters):
            found.append(f"{row.operation} at {row.size:,} made a Scan")
        if not row.stable:
            varying = {repr(m.counts()) for m in row.meters}
            found.append(
                f"{row.operation} at {row.size:,}: counts differ between runs: "
                + " / ".join(sorted(varying))
            )
    for operation in {row.operation for row in rows}:
        counts = [r.first.counts() for r in rows if r.operation == operation]
        if any(c != counts[0] for c in counts):
            found.append(f"{operation}: counts change with the table size")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    configure_environment(start_local_aws(), "http://127.0.0.1:8000")
    # Every intake logs a line; the table is what this run is for.
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"

    # chalicelib reads table names and the endpoint from the environment at import.
    from benchmarks.bulk_seed import ReportFactory, write_batches  # noqa: PLC0415
    from benchmarks.intake_cases import IntakeCases  # noqa: PLC0415
    from benchmarks.moto_tweaks import (  # noqa: PLC0415
        lean_transaction_snapshots,
        unchecked_item_sizes,
    )
    from benchmarks.staff_cases import StaffCases  # noqa: PLC0415
    from chalicelib.models import create_tables  # noqa: PLC0415
    from local.seed import DEMO_SCHOOLS, create_school  # noqa: PLC0415

    create_tables()
    school = {d.slug: create_school(d) for d in DEMO_SCHOOLS}[SCHOOL]
    factory = ReportFactory(school)
    cases = IntakeCases(school)
    staff = StaffCases(school)
    # Clients, connections and Powertools are set up on first use: not measured.
    with lean_transaction_snapshots():
        cases.submit()
    cases.list_recent()

    rows: list[Row] = []
    # Each role opens the same case at every size, so the pages compare.
    opened: dict[str, str] = {}
    seeded = 0
    for size in sorted(args.sizes):
        started = time.perf_counter()
        with unchecked_item_sizes():
            added = write_batches(factory.many(size - seeded))
        seeded += added
        print(
            f"seeded {added:,} reports in {time.perf_counter() - started:.1f} s: "
            f"{seeded:,} in the table for {SCHOOL}",
            flush=True,
        )
        with lean_transaction_snapshots():
            submits = [cases.submit() for _ in range(args.repeat)]
        rows.append(Row("submit", size, submits))
        lists = [cases.list_recent() for _ in range(args.repeat)]
        rows.append(Row("list_recent", size, lists))
        for role in ("teacher", "coordinator"):
            report_id = opened.setdefault(role, staff.report_of(role).report_id)
            pages = [staff.list_page(role) for _ in range(args.repeat)]
            rows.append(Row(f"{role} list", size, pages))
            details = [staff.case_page(role, report_id) for _ in range(args.repeat)]
            rows.append(Row(f"{role} case", size, details))

    print_table(rows, args.repeat)
    found = problems(rows)
    for problem in found:
        print(f"PROBLEM: {problem}")
    if not found:
        print("Requests and items are the same at every size, and nothing Scans.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
