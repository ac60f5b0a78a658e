"""moto behind one seam: every functional test gets a fresh fake AWS with the
tables created from the production model definitions and the demo schools seeded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from chalicelib import aws, reports
from chalicelib.models import create_tables
from tests.functional.staff_fixtures import *  # noqa: F403


@pytest.fixture
def fake_aws() -> Iterator[None]:
    with mock_aws():
        aws.reset_clients()
        reports._persistence.cache_clear()
        create_tables()
        aws.client("ses").verify_domain_identity(Domain="m5monitor.example")
        yield
    aws.reset_clients()
    reports._persistence.cache_clear()
