"""Run the whole product on this machine: `python -m local.run`.

moto's server is the local AWS (DynamoDB, SES, Cognito) on loopback; the tables
are created from the production models, demo schools are seeded (six weeks of
reports, or with `--year` a school year with planted patterns), and one address
serves the sample school site, the form and the API. Everything lives in memory
and is made anew at each start.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import time
from contextlib import ExitStack

from moto.server import ThreadedMotoServer

DEMO_DOMAIN = "m5monitor.example"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_local_aws() -> str:
    # moto checks authenticator codes as Cognito does (with its one fixed key).
    os.environ["MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"] = "true"
    server = ThreadedMotoServer(
        ip_address="127.0.0.1", port=_free_port(), verbose=False
    )
    server.start()
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


def configure_environment(endpoint: str, base_url: str) -> None:
    """Point the app at the local AWS. Must run before chalicelib is imported."""
    os.environ.update(
        {
            "M5_STAGE": "local",
            "M5_AWS_ENDPOINT_URL": endpoint,
            "M5_PUBLIC_BASE_URL": base_url,
            "M5_MAIL_FROM": f"meldingen@{DEMO_DOMAIN}",
            "AWS_REGION": "eu-central-1",
            "AWS_DEFAULT_REGION": "eu-central-1",
            # moto accepts any credentials; these keep botocore from looking further.
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "POWERTOOLS_SERVICE_NAME": "m5-monitor",
        }
    )


def create_user_pool(endpoint: str) -> None:
    """moto's Cognito user pool and app client; their ids go into the environment."""
    import boto3

    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=os.environ["AWS_REGION"],
    )
    pool = cognito.create_user_pool(
        PoolName="m5-local-staff",
        Policies={"PasswordPolicy": {"MinimumLength": 12}},
    )["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool,
        ClientName="m5-local-web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    os.environ.update(
        {
            "M5_COGNITO_POOL_ID": pool,
            "M5_COGNITO_CLIENT_ID": client,
            "M5_COGNITO_JWKS_URL": f"{endpoint}/{pool}/.well-known/jwks.json",
        }
    )


def create_staff_logins(staff: dict[str, list]) -> list[tuple[str, str, str]]:
    """Demo staff as Cognito users in moto's user pool, with a known password."""
    from chalicelib import aws
    from chalicelib.config import settings
    from local.seed import DEMO_PASSWORD

    cognito = aws.client("cognito-idp")
    logins = []
    created: set[str] = set()
    for school_id, members in staff.items():
        for member in members:
            if member.email not in created:
                cognito.admin_create_user(
                    UserPoolId=settings.cognito_pool_id,
                    Username=member.email,
                    UserAttributes=[{"Name": "email", "Value": member.email}],
                    MessageAction="SUPPRESS",
                )
                cognito.admin_set_user_password(
                    UserPoolId=settings.cognito_pool_id,
                    Username=member.email,
                    Password=DEMO_PASSWORD,
                    Permanent=True,
                )
                created.add(member.email)
            logins.append((school_id, "/".join(member.roles), member.email))
    return logins


def prepare(seed: bool = True, year: bool = False) -> dict[str, list]:
    from chalicelib import aws
    from chalicelib.models import create_tables
    from local.build import compile_translations
    from local.seed import seed_demo

    compile_translations()
    create_tables()
    aws.client("ses").verify_domain_identity(Domain=DEMO_DOMAIN)
    if seed and year:
        return seed_year()
    return seed_demo() if seed else {}


def seed_year() -> dict[str, list]:
    """The school-year dataset; prints what was planted and how long it took."""
    from local.yeardata import seed_year_in_process

    started = time.perf_counter()
    planted = seed_year_in_process()
    seconds = time.perf_counter() - started
    print(f"Seeded {planted.reports} reports of one school year in {seconds:.0f} s.")
    for school in planted.schools.values():
        location, part = school.hotspot
        print(
            f"  Planted {school.school_id}: hotspot {location}/{part}, "
            f"rising group {school.rising_group}, "
            f"repeat pupils {' '.join(school.repeat_pupils)}"
        )
    return planted.staff


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("M5_PORT", "8000"))
    )
    parser.add_argument(
        "--year",
        action="store_true",
        help="seed one school year (over 2,000 reports, planted patterns) "
        "instead of six weeks; takes a few minutes",
    )
    args = parser.parse_args(argv)
    with ExitStack() as tweaks:
        if args.year:
            # A year of data: moto would list the whole table for every Query,
            # and the pages that make one per pupil would take tens of seconds.
            from benchmarks.moto_tweaks import partition_queries

            tweaks.enter_context(partition_queries())
        serve(args.host, args.port, args.year)
    return 0


def serve(host: str, port: int, year: bool) -> None:
    base_url = f"http://{host}:{port}"

    # moto's server and the front both log every request through werkzeug.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    endpoint = start_local_aws()
    configure_environment(endpoint, base_url)
    create_user_pool(endpoint)
    staff = prepare(year=year)
    logins = create_staff_logins(staff)

    from werkzeug.serving import run_simple

    from app import app
    from local.front import Front
    from local.seed import DEMO_PASSWORD

    front = Front(app, list(staff), base_url)
    print(
        "M5 Monitor runs locally. Data lives in memory and is reseeded at each start."
    )
    print(f"  Sample school site : {base_url}/demo/{next(iter(staff))}/")
    for slug in staff:
        print(f"  Report form        : {base_url}/s/{slug}/")
    print(f"  API                : {base_url}/api/schools/<slug>/form")
    print(f"  Local AWS (moto)   : {endpoint}")
    print(f"  Staff sign-in      : {base_url}/staff/login")
    print(f"  Sent mails (local) : {base_url}/outbox")
    print(f"  Demo staff logins (password {DEMO_PASSWORD}):")
    for school_id, roles, email in logins:
        print(f"    {school_id:<20} {roles:<14} {email}")
    print(f"READY {base_url}", flush=True)
    run_simple(host, port, front, threaded=True, use_reloader=False)


if __name__ == "__main__":
    sys.exit(main())
