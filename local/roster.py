"""Import a school's roster from a CSV export: `python -m local.roster`.

Shows what would change and writes nothing, unless --apply is given; then it
imports in chunks and prints the progress. The tables are the ones the
environment configures (M5_STAGE, AWS_REGION, AWS credentials); with --endpoint
it works against the moto server of a running `scripts/run` instead. The output
carries pupil numbers and counts, never names.

Examples:
  python -m local.roster --school obs-de-regenboog --file leerlingen.csv
  python -m local.roster --school obs-de-regenboog --file leerlingen.csv \\
      --teachers leerkrachten.csv --create-groups --apply
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="\n".join(__doc__.splitlines()[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--school", required=True)
    parser.add_argument("--file", required=True, type=Path, help="pupils CSV")
    parser.add_argument("--teachers", type=Path, help="teacher e-mail and group CSV")
    parser.add_argument("--apply", action="store_true", help="write the changes")
    parser.add_argument(
        "--partial",
        action="store_true",
        help="the file is not the whole school: mark nobody as left",
    )
    parser.add_argument("--create-groups", action="store_true")
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--endpoint", help="moto endpoint of a running scripts/run")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.endpoint:
        from local.run import configure_environment

        configure_environment(args.endpoint, "http://127.0.0.1:8000")

    # chalicelib reads its settings at import: only after the environment is set.
    from chalicelib import roster
    from chalicelib.errors import M5Error

    data = args.file.read_bytes()
    teachers = args.teachers.read_bytes() if args.teachers else None
    options = {
        "teachers": teachers,
        "complete": not args.partial,
        "create_groups": args.create_groups,
    }
    try:
        plan = roster.preview(args.school, data, **options)
    except M5Error as error:
        print(error.message["en"], file=sys.stderr)
        return 2
    print(json.dumps(plan.as_dict(), indent=2, ensure_ascii=False))
    if not args.apply:
        print(f"preview only: {plan.change_count} changes; --apply to write them")
        return 0

    step = None
    while step is None or not step.done:
        start = 0 if step is None else step.next_offset
        step = roster.import_chunk(
            args.school, data, start, args.chunk_size, actor_role="operator", **options
        )
        print(f"{step.next_offset}/{step.total} checked, {step.written} written")
    print(f"done; {len(plan.errors)} lines with errors were not imported")
    return 0


if __name__ == "__main__":
    sys.exit(main())
