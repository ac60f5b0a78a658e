"""Fixtures shared by every tier. Environment first: the app reads it at import."""

from __future__ import annotations

import os

os.environ.update(
    {
        "M5_STAGE": "test",
        "M5_TABLE_PREFIX": "m5-test-",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_METRICS_NAMESPACE": "M5Monitor",
        # moto checks authenticator codes as Cognito does (its own fixed key).
        "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP": "true",
    }
)
os.environ.pop("M5_AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_ENDPOINT_URL", None)
