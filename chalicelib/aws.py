"""The one place that builds AWS clients, so endpoint and region come from config."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.config import settings

# Standard retry mode backs off on throttling and transient errors for every call.
_BOTO_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"})


@functools.cache
def client(service: str) -> Any:
    return boto3.session.Session().client(
        service,
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        config=_BOTO_CONFIG,
    )


def reset_clients() -> None:
    """Forget cached clients (tests start a fresh fake AWS per test)."""
    client.cache_clear()
