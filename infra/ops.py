"""The operator's command line for schools: `python -m infra.ops <command>`.

Works on one deployment: --stage and --region read the stack's outputs (user
pool, public address, mail sender) with the operator's AWS credentials; with
--endpoint it works against the moto server of a running `scripts/run` instead
(printed there as "Local AWS (moto)"). Output carries slugs, staff ids and
counts, never pupils' names, and never a password.

Examples:
  python -m infra.ops --endpoint http://127.0.0.1:5123 create-school \\
      --slug cbs-de-wegwijzer --name "CBS De Wegwijzer" --type primary
  python -m infra.ops --stage prod --region eu-central-1 show-embed --slug cbs-de-wegwijzer
  python -m infra.ops --stage prod --region eu-central-1 poster --slug cbs-de-wegwijzer
  python -m infra.ops --stage prod --region eu-central-1 invite --slug cbs-de-wegwijzer \\
      --email ib@wegwijzer.nl --name "Anna de Vries" --roles coordinator
  python -m infra.ops --stage prod --region eu-central-1 remove-school --slug cbs-de-wegwijzer
  python -m infra.ops --stage prod --region eu-central-1 retention --school cbs-de-wegwijzer \\
      --dry-run
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import boto3

from infra.regions import EU_REGIONS
from local.run import configure_environment

# config.py refuses to load a deployed stage without the app secret. Nothing the
# operator's commands do needs it (no sessions, no receipt codes), so a value
# that only lets the import succeed is set when the operator has none.
OPS_ONLY_SECRET = "operator-tool-not-used-for-signing"  # noqa: S105
LOCAL_BASE_URL = "http://127.0.0.1:8000"


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    lines = (__doc__ or "").splitlines()
    parser = argparse.ArgumentParser(
        prog="python -m infra.ops",
        description=lines[0],
        epilog="\n".join(lines[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--endpoint", help="moto endpoint of a running scripts/run")
    where.add_argument("--stage", choices=("dev", "prod"))
    parser.add_argument("--region", choices=EU_REGIONS, default="eu-central-1")
    parser.add_argument("--base-url", default=LOCAL_BASE_URL, help="with --endpoint")
    commands = parser.add_subparsers(dest="command", required=True)

    create = commands.add_parser("create-school", help="a new school with defaults")
    create.add_argument("--slug", required=True, help="e.g. cbs-de-wegwijzer")
    create.add_argument("--name", required=True)
    create.add_argument("--type", required=True, choices=("primary", "secondary"))
    create.add_argument("--languages", type=_csv, default=["nl", "en"])
    create.add_argument(
        "--holiday-region", choices=("noord", "midden", "zuid"), default="midden"
    )
    create.add_argument(
        "--groups",
        type=_csv,
        help="group names, comma-separated; default: 1/2a … 8 in primary, none in"
        " secondary (the roster import can create them)",
    )

    embed = commands.add_parser("show-embed", help="the Stopknop's embed code")
    embed.add_argument("--slug", required=True)

    poster = commands.add_parser("poster", help="a printable poster with a QR code")
    poster.add_argument("--slug", required=True)
    poster.add_argument(
        "--out", type=Path, help="poster-<slug>.html, or a .svg for the QR code only"
    )

    invite = commands.add_parser("invite", help="invite a staff member by e-mail")
    invite.add_argument("--slug", required=True)
    invite.add_argument("--email", required=True)
    invite.add_argument("--name", required=True)
    invite.add_argument("--roles", type=_csv, required=True, help="e.g. coordinator")
    invite.add_argument("--groups", type=_csv, default=[], help="group ids, g-5,g-6")
    invite.add_argument("--language", choices=("nl", "en"), default="nl")

    retention = commands.add_parser(
        "retention", help="anonymise a school's cases whose retention period ended"
    )
    retention.add_argument("--slug", "--school", dest="slug", required=True)
    retention.add_argument("--dry-run", action="store_true", help="list them only")
    retention.add_argument(
        "--index-existing",
        action="store_true",
        help="first give cases stored before the retention job existed their place"
        " in its order (once per school; safe to repeat)",
    )

    rollover = commands.add_parser(
        "rollover", help="move every pupil up a group for the new school year"
    )
    rollover.add_argument("--slug", required=True)
    rollover.add_argument("--year", required=True, help="the new year, e.g. 2027-2028")
    rollover.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FROM=TO",
        help="a group's next group by name or id, or FROM=- for leaving school;"
        " overrides what the names suggest (repeat for more groups)",
    )
    rollover.add_argument("--dry-run", action="store_true", help="show the moves only")

    reset = commands.add_parser(
        "reset-two-step",
        help="a staff member lost their authenticator app: set it up again",
    )
    reset.add_argument("--email", required=True)

    remove = commands.add_parser("remove-school", help="delete a school entirely")
    remove.add_argument("--slug", required=True)
    remove.add_argument("--yes", action="store_true", help="do not ask")
    return parser.parse_args(argv)


def configure(args: argparse.Namespace) -> None:
    """Set the environment the app's settings read. Before chalicelib is imported."""
    # The app's JSON log lines are for CloudWatch; the operator reads the summary.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    if args.endpoint:
        configure_environment(args.endpoint, args.base_url)
        return
    os.environ.update({"M5_STAGE": args.stage, "AWS_REGION": args.region})
    os.environ.setdefault("M5_SECRET_KEY", OPS_ONLY_SECRET)
    os.environ.update(stack_environment(f"m5-{args.stage}", args.region))


def stack_environment(stack: str, region: str) -> dict[str, str]:
    """The user pool, public address and mail sender of a deployed stack."""
    described = boto3.client("cloudformation", region_name=region).describe_stacks(
        StackName=stack
    )["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    parameters = {
        p["ParameterKey"]: p.get("ParameterValue", "")
        for p in described.get("Parameters", [])
    }
    return {
        "M5_COGNITO_POOL_ID": outputs["UserPoolId"],
        "M5_PUBLIC_BASE_URL": outputs["PublicUrl"],
        "M5_MAIL_FROM": f"meldingen@{parameters['MailDomain']}",
    }


def local_user_pool(endpoint: str, name: str = "m5-local-staff") -> str:
    """The user pool `scripts/run` created in its moto server."""
    cognito = boto3.client(
        "cognito-idp", endpoint_url=endpoint, region_name=os.environ["AWS_REGION"]
    )
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    found = [str(p["Id"]) for p in pools if p["Name"] == name]
    if not found:
        raise SystemExit("no user pool in this moto server: is scripts/run running?")
    return found[0]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure(args)
    if args.endpoint:
        os.environ["M5_COGNITO_POOL_ID"] = local_user_pool(args.endpoint)
    # chalicelib reads its settings at first import: only after configure().
    from infra import onboarding  # noqa: PLC0415

    return onboarding.run(args)


if __name__ == "__main__":
    sys.exit(main())
