"""Run a Monday job for one school and week: `python -m local.weekly`.

--job teacher (default) is the teacher mail; --job leadership freezes the
week's dashboard snapshot and mails it to leadership (with its PDF).

With --endpoint it works against the moto server of a running `scripts/run`
(printed there as "Local AWS (moto)"), so the mails land in that run's SES.
Without it, it starts its own in-memory moto with freshly seeded demo data,
which is gone when the command ends. --dry-run renders the mails and prints
their subject and text part (and attachments by name) without storing,
claiming or sending anything.

Examples:
  python -m local.weekly --school obs-de-regenboog --dry-run
  python -m local.weekly --job leadership --school obs-de-regenboog --dry-run
  python -m local.weekly --school obs-de-regenboog --week 2026-W49 \\
      --endpoint http://127.0.0.1:5123
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from local.run import configure_environment, start_local_aws


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="\n".join(__doc__.splitlines()[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--job", choices=("teacher", "leadership"), default="teacher")
    parser.add_argument("--school", action="append", required=True, dest="schools")
    parser.add_argument("--week", help="e.g. 2026-W49; default: last week")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument(
        "--endpoint", help="moto endpoint of a running scripts/run; default: own"
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    endpoint = args.endpoint or start_local_aws()
    configure_environment(endpoint, args.base_url)

    # chalicelib reads its settings at import: only after the environment is set.
    from functions import leadership_snapshot, weekly_mail
    from local.run import prepare

    if not args.endpoint:
        print(f"started moto at {endpoint} with demo data", file=sys.stderr)
        prepare()
    week = weekly_mail.checked_week(args.week or weekly_mail.last_week())
    run = (
        leadership_snapshot.run_leadership_snapshot
        if args.job == "leadership"
        else weekly_mail.run_teacher_mail
    )
    summary = run(week, args.schools, dry_run=args.dry_run)

    for school_id, staff_id, mail in summary.previews:
        print(f"=== {school_id} / {staff_id}: {mail.subject}")
        print(mail.text)
        for attachment in mail.attachments:
            print(f"[attached: {attachment.filename}, {len(attachment.data)} bytes]")
    print(json.dumps(summary.counts()))
    if not args.dry_run and not args.endpoint:
        print("mails went to this command's own moto, gone with it: use --endpoint")
    return 1 if summary.failed or summary.failed_schools else 0


if __name__ == "__main__":
    sys.exit(main())
