"""Glue between Chalice requests and the domain: JSON parsing, errors, headers."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from chalice.app import Request, Response
from pynamodb.exceptions import PynamoDBException

from chalicelib.errors import (
    BadRequest,
    M5Error,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyRequests,
    UnsupportedMediaType,
)
from chalicelib.i18n import both
from chalicelib.obs import logger

# A full report is at most ~25 KiB of UTF-8; anything far beyond is not our form.
MAX_BODY_BYTES = 64 * 1024

# Answers can hold a receipt code or personal data: never cached anywhere.
BASE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers={
            **BASE_HEADERS,
            "Content-Type": "application/json; charset=utf-8",
            **(headers or {}),
        },
    )


def error_response(error: M5Error) -> Response:
    headers = {}
    if isinstance(error, TooManyRequests):
        headers["Retry-After"] = str(error.retry_after)
    return json_response(error.body(), error.status, headers)


def json_body(request: Request) -> Any:
    """The request's JSON body, or a 415/413/400 with a message people understand."""
    content_type = (
        (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    )
    if content_type != "application/json":
        raise UnsupportedMediaType(both("Please send the report as JSON."))
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            both("This report is too long to send. Please shorten it.")
        )
    try:
        return json.loads(raw.decode("utf-8"))
    # Deeply nested arrays or objects exhaust the parser's recursion limit.
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise BadRequest(
            both("The report could not be read. Please try again.")
        ) from error


def handles_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    """Turn our errors into JSON answers, AWS failures into a 503, the rest a 500."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except M5Error as error:
            logger.info(
                "request refused", extra={"status": error.status, "error": error.code}
            )
            return error_response(error)
        except (PynamoDBException, BotoCoreError, ClientError) as error:
            # AWS failed even after the SDK's retries: the same request may be
            # sent again, which is what a 503 tells the form.
            logger.exception("storage unavailable")
            return error_response(
                ServiceUnavailable(
                    both("Something went wrong on our side. Please try again."),
                    cause=error,
                )
            )
        except Exception:
            logger.exception("unhandled error")
            return json_response(
                {
                    "error": "internal_error",
                    "message": both(
                        "Something went wrong on our side. Please try again."
                    ),
                },
                500,
            )

    return wrapper
