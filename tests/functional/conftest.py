"""moto behind one seam: every functional test gets a fresh fake AWS with the
tables created from the production model definitions and the demo schools seeded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.client import BaseClient
from chalice.test import Client, TestHTTPClient
from faker import Faker
from moto import mock_aws

from app import app
from chalicelib import aws, ratelimit, reports
from chalicelib.models import StaffMember, create_tables
from local.seed import DEMO_SCHOOLS, create_school, create_staff
from tests.functional.helpers import Outage
from tests.functional.staff_fixtures import *  # noqa: F403


@contextmanager
def fresh_aws() -> Iterator[None]:
    """moto started empty, the tables created from the models, the mail domain
    verified. Cached boto3 clients are kept: moto stubs every client and empties
    its backends on every start, and building a new client costs ~0.2 s."""
    with mock_aws():
        reports._persistence.cache_clear()
        create_tables()
        aws.client("ses").verify_domain_identity(Domain="m5monitor.example")
        yield
    reports._persistence.cache_clear()


def seed_demo_schools() -> dict[str, list[StaffMember]]:
    """Both demo schools with their staff, no roster and no reports; staff per school."""
    fake = Faker("nl_NL")
    fake.seed_instance(5)
    return {demo.slug: create_staff(create_school(demo), fake) for demo in DEMO_SCHOOLS}


@pytest.fixture
def fake_aws() -> Iterator[None]:
    with fresh_aws():
        yield


@pytest.fixture
def demo_schools(fake_aws: None) -> dict[str, list[StaffMember]]:
    return seed_demo_schools()


@pytest.fixture
def api(demo_schools: dict[str, list[StaffMember]]) -> Iterator[TestHTTPClient]:
    """Chalice's in-process HTTP client for the app, on seeded demo schools."""
    with Client(app) as client:
        yield client.http


@pytest.fixture(scope="module")
def refusing_api() -> Iterator[TestHTTPClient]:
    """The same client on one fake AWS per test module, for modules whose every
    request is refused: nothing is stored, so the tests cannot affect each other."""
    with fresh_aws(), Client(app) as client:
        seed_demo_schools()
        yield client.http


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Faker:
    """Dutch names, addresses and texts; seeded per test so failures reproduce."""
    faker = Faker("nl_NL")
    faker.seed_instance(request.node.nodeid)
    return faker


@pytest.fixture
def unlimited(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lift the intake rate limits so one test can send hundreds of reports."""
    monkeypatch.setattr(ratelimit, "PER_CLIENT", ratelimit.Limit("client", 10**6, 600))
    monkeypatch.setattr(ratelimit, "PER_SCHOOL", ratelimit.Limit("school", 10**6, 600))


@pytest.fixture
def outage(monkeypatch: pytest.MonkeyPatch) -> Outage:
    """Make chosen AWS calls fail; see helpers.Outage."""
    failures = Outage()
    make_api_call = BaseClient._make_api_call

    def call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        failures.check(operation, params)
        return make_api_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", call)
    return failures


@pytest.fixture
def json_log_lines():
    """A reader of the application's JSON log lines since the last read.

    A handler with the logger's own formatter is attached for the test, so the
    lines are exactly what CloudWatch would receive, whatever pytest does with
    stdout.
    """
    import io
    import json
    import logging

    from chalicelib.obs import logger

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)

    def read():
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    yield read
    logger._logger.removeHandler(handler)
