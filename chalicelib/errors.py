"""Errors of our own, each mapped to an HTTP status and a bilingual message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.i18n import both


@dataclass
class FieldError:
    field: str
    code: str
    message: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, "message": self.message}


class M5Error(Exception):
    """Base error. `code` is stable for clients; `message` is {'nl': …, 'en': …}."""

    status = 500
    code = "internal_error"

    def __init__(self, message: dict[str, str], cause: BaseException | None = None):
        super().__init__(message.get("en", ""))
        self.message = message
        self.cause = cause

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}


class NotFound(M5Error):
    status = 404
    code = "not_found"


class BadRequest(M5Error):
    status = 400
    code = "bad_request"


class UnsupportedMediaType(M5Error):
    status = 415
    code = "unsupported_media_type"


class PayloadTooLarge(M5Error):
    status = 413
    code = "payload_too_large"


class TooManyRequests(M5Error):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: dict[str, str], retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class Conflict(M5Error):
    status = 409
    code = "conflict"


class KeyReused(M5Error):
    """The same idempotency key came with a different report."""

    status = 422
    code = "idempotency_key_reused"


class ServiceUnavailable(M5Error):
    """Storage failed; nothing was stored and the same request may be retried."""

    status = 503
    code = "service_unavailable"


@dataclass
class ValidationFailed(M5Error):
    errors: list[FieldError] = field(default_factory=list)
    status = 422
    code = "validation_failed"

    def __post_init__(self) -> None:
        Exception.__init__(self, "validation failed")
        self.message = both("Some answers need another look.")
        self.cause = None

    def body(self) -> dict[str, Any]:
        return {**super().body(), "fields": [e.as_dict() for e in self.errors]}
