"""Build and deploy one region's stack.

    python -m infra.deploy --region eu-central-1 --stage prod --dry-run
    python -m infra.deploy --region eu-central-1 --stage prod \\
        --package-bucket m5-packages-eu-central-1 --mail-domain m5monitor.nl \\
        --public-host meld.m5monitor.nl --alarm-email ops@m5monitor.nl

Compiles the translations, writes the merge template, runs `chalice package`
with it and, unless --dry-run, hands the result to the AWS CLI's `cloudformation
package` and `cloudformation deploy` in the chosen region. --dry-run touches no
AWS at all and leaves the finished template in <out>/sam.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.regions import EU_REGIONS, RegionNotAllowed, check_region
from infra.stack import DEPLOYED_STAGES, merge_template
from local.build import compile_translations

REPO = Path(__file__).resolve().parent.parent
CHALICE = "import sys; from chalice.cli import main; sys.exit(main())"
# `chalice package` imports app.py with the stage's environment, and deployed
# stages refuse to start without a secret. This value only lets the import
# succeed: it is not written into the package or the template.
PACKAGING_ONLY_SECRET = "packaging-only-not-deployed"  # noqa: S105


@dataclass(frozen=True)
class Target:
    region: str
    stage: str
    out: Path

    @property
    def stack_name(self) -> str:
        return f"m5-{self.stage}"

    @property
    def merge_template_path(self) -> Path:
        return self.out / "merge-template.json"

    @property
    def template_path(self) -> Path:
        return self.out / "sam.json"

    @property
    def packaged_path(self) -> Path:
        return self.out / "packaged.yaml"


@dataclass(frozen=True)
class StackParameters:
    mail_domain: str
    public_host: str
    alarm_email: str
    certificate_arn: str = ""
    mail_domain_verified: bool = False

    def overrides(self) -> list[str]:
        values = {
            "MailDomain": self.mail_domain,
            "PublicHostName": self.public_host,
            "AlarmEmail": self.alarm_email,
            "CertificateArn": self.certificate_arn,
            "MailDomainVerified": "true" if self.mail_domain_verified else "false",
        }
        return [f"{key}={value}" for key, value in values.items()]


def build(target: Target) -> Path:
    """Write the finished template (and deployment.zip) to target.out; no AWS."""
    compile_translations()
    target.out.mkdir(parents=True, exist_ok=True)
    template = merge_template(target.region, target.stage)
    target.merge_template_path.write_text(json.dumps(template, indent=2))

    subprocess.run(  # noqa: S603  (fixed command, our own arguments)
        [
            sys.executable,
            "-c",
            CHALICE,
            "package",
            "--stage",
            target.stage,
            "--merge-template",
            str(target.merge_template_path),
            str(target.out),
        ],
        cwd=REPO,
        env=_packaging_environment(target.region),
        check=True,
    )
    return target.template_path


def _packaging_environment(region: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("M5_")}
    # Chalice wants a region to name things by; it makes no AWS call while packaging.
    env.update({"M5_SECRET_KEY": PACKAGING_ONLY_SECRET, "AWS_DEFAULT_REGION": region})
    return env


def aws_commands(
    target: Target, package_bucket: str, parameters: StackParameters
) -> list[list[str]]:
    """The AWS CLI calls that upload the code and create or update the stack."""
    region = ["--region", target.region]
    tags = {"app": "m5-monitor", "stage": target.stage}
    return [
        [
            "aws",
            "cloudformation",
            "package",
            "--template-file",
            str(target.template_path),
            "--s3-bucket",
            package_bucket,
            "--s3-prefix",
            target.stack_name,
            "--output-template-file",
            str(target.packaged_path),
            *region,
        ],
        [
            "aws",
            "cloudformation",
            "deploy",
            "--template-file",
            str(target.packaged_path),
            "--stack-name",
            target.stack_name,
            "--capabilities",
            "CAPABILITY_IAM",
            "CAPABILITY_AUTO_EXPAND",
            "--no-fail-on-empty-changeset",
            "--parameter-overrides",
            *parameters.overrides(),
            "--tags",
            *(f"{key}={value}" for key, value in tags.items()),
            *region,
        ],
    ]


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__)
    parser.add_argument("--region", required=True, help=", ".join(sorted(EU_REGIONS)))
    parser.add_argument("--stage", required=True, choices=DEPLOYED_STAGES)
    parser.add_argument("--dry-run", action="store_true", help="build only, no AWS")
    parser.add_argument("--out", type=Path, help="default: build/<stage>-<region>")
    parser.add_argument("--package-bucket", help="S3 bucket (same region) for code")
    parser.add_argument("--mail-domain")
    parser.add_argument("--public-host")
    parser.add_argument("--alarm-email")
    parser.add_argument("--certificate-arn", default="")
    parser.add_argument(
        "--mail-domain-verified",
        action="store_true",
        help="the DKIM records are live: Cognito sends its mail through SES",
    )
    return parser.parse_args(argv)


def _parameters(args: argparse.Namespace) -> StackParameters:
    needed = ("package_bucket", "mail_domain", "public_host", "alarm_email")
    missing = [
        f"--{name.replace('_', '-')}" for name in needed if not getattr(args, name)
    ]
    if missing:
        raise SystemExit(f"a deployment needs {', '.join(missing)}")
    return StackParameters(
        mail_domain=args.mail_domain,
        public_host=args.public_host,
        alarm_email=args.alarm_email,
        certificate_arn=args.certificate_arn,
        mail_domain_verified=args.mail_domain_verified,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        region = check_region(args.region)
    except RegionNotAllowed as refused:
        print(refused, file=sys.stderr)
        return 2
    parameters = None if args.dry_run else _parameters(args)
    target = Target(
        region, args.stage, args.out or REPO / "build" / f"{args.stage}-{region}"
    )

    template = build(target)
    print(f"template: {template}")
    if parameters is None:
        return 0

    for command in aws_commands(target, args.package_bucket, parameters):
        subprocess.run(command, check=True)  # noqa: S603
    return 0


if __name__ == "__main__":
    sys.exit(main())
