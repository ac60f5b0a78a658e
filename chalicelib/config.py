"""Settings read once from the environment.

Every table name, the region and the AWS endpoint come from here, so the same code
runs against AWS, against moto's server locally and against moto in tests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# Templates and translations sit beside chalicelib/ both in the repository and in
# the unpacked deployment package (where vendor/ links put them at the root).
APP_ROOT = Path(__file__).resolve().parent.parent

LOCAL_STAGES = frozenset({"local", "test"})


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    endpoint_url: str | None
    table_prefix: str
    mail_from: str
    public_base_url: str
    secret_key: bytes = field(repr=False)
    cognito_pool_id: str
    cognito_client_id: str
    cognito_jwks_url: str

    @property
    def cognito_issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.cognito_pool_id}"

    @property
    def is_local(self) -> bool:
        return self.stage in LOCAL_STAGES

    def table_name(self, name: str) -> str:
        return f"{self.table_prefix}{name}"


def load_settings() -> Settings:
    stage = os.environ.get("M5_STAGE", "local")
    secret = os.environ.get("M5_SECRET_KEY", "")
    if not secret:
        if stage not in LOCAL_STAGES:
            raise RuntimeError("M5_SECRET_KEY must be set outside local stages")
        # A fixed key keeps local receipt codes stable across restarts; it is public,
        # which is why deployed stages refuse to start without their own key.
        secret = "local-development-key-not-secret"  # noqa: S105
    region = os.environ.get("AWS_REGION") or os.environ.get(
        "AWS_DEFAULT_REGION", "eu-central-1"
    )
    pool_id = os.environ.get("M5_COGNITO_POOL_ID", "")
    return Settings(
        stage=stage,
        region=region,
        endpoint_url=os.environ.get("M5_AWS_ENDPOINT_URL") or None,
        table_prefix=os.environ.get("M5_TABLE_PREFIX", f"m5-{stage}-"),
        mail_from=os.environ.get("M5_MAIL_FROM", "meldingen@m5monitor.example"),
        public_base_url=os.environ.get(
            "M5_PUBLIC_BASE_URL", "http://127.0.0.1:8000"
        ).rstrip("/"),
        secret_key=secret.encode(),
        cognito_pool_id=pool_id,
        cognito_client_id=os.environ.get("M5_COGNITO_CLIENT_ID", ""),
        # Deployed: Cognito's own key set; locally: moto's server (see local/run.py).
        cognito_jwks_url=os.environ.get("M5_COGNITO_JWKS_URL")
        or f"https://cognito-idp.{region}.amazonaws.com/{pool_id}/.well-known/jwks.json",
    )


settings = load_settings()
