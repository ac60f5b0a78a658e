"""Count the AWS requests a block of code makes and time the emulator apart.

`metered()` wraps `botocore.client.BaseClient._make_api_call`, which every botocore
client goes through: boto3's (Powertools), PynamoDB's own session, any other. For
each request it records the operation, the items DynamoDB returned and scanned,
and the time the request spent inside the emulator: in `Endpoint._send` when the
emulator is moto's server, in moto's botocore stubber when it runs in-process.

    with metered() as meter:
        list_recent("obs-de-regenboog")
    meter.operations      # Counter({"Query": 1})
    meter.items_returned  # 50
    meter.our_seconds     # wall time minus emulator time

Meters may nest: each records every request made, on any thread, while it is open.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient
from botocore.endpoint import Endpoint
from botocore.exceptions import ClientError

DYNAMODB = "dynamodb"


@dataclass
class Request:
    """One API call as the caller made it (retries are extra attempts, not calls)."""

    service: str
    operation: str
    returned: int = 0
    # Items DynamoDB read to answer: ScannedCount for Query and Scan, otherwise
    # what it returned (a GetItem reads exactly the item it returns).
    scanned: int = 0
    written: int = 0
    attempts: int = 0
    seconds: float = 0.0
    emulator_seconds: float = 0.0
    error: str | None = None


@dataclass
class Meter:
    requests: list[Request] = field(default_factory=list)
    total_seconds: float = 0.0

    @property
    def dynamodb(self) -> list[Request]:
        return [r for r in self.requests if r.service == DYNAMODB]

    @property
    def operations(self) -> Counter[str]:
        """DynamoDB requests per operation."""
        return Counter(r.operation for r in self.dynamodb)

    @property
    def other_operations(self) -> Counter[str]:
        return Counter(
            f"{r.service}:{r.operation}" for r in self.requests if r.service != DYNAMODB
        )

    @property
    def items_returned(self) -> int:
        return sum(r.returned for r in self.dynamodb)

    @property
    def items_scanned(self) -> int:
        return sum(r.scanned for r in self.dynamodb)

    @property
    def items_written(self) -> int:
        return sum(r.written for r in self.dynamodb)

    @property
    def scans(self) -> int:
        return self.operations["Scan"]

    @property
    def emulator_seconds(self) -> float:
        """Time inside the emulator, for every service the block called."""
        return sum(r.emulator_seconds for r in self.requests)

    @property
    def our_seconds(self) -> float:
        return self.total_seconds - self.emulator_seconds

    def counts(self) -> dict[str, Any]:
        """Everything that must not depend on table size, for comparing runs."""
        return {
            "operations": dict(sorted(self.operations.items())),
            "other_operations": dict(sorted(self.other_operations.items())),
            "returned_per_request": [
                (r.operation, r.returned, r.scanned) for r in self.dynamodb
            ],
            "items_returned": self.items_returned,
            "items_scanned": self.items_scanned,
            "items_written": self.items_written,
            "scans": self.scans,
        }


def _returned(operation: str, response: dict[str, Any]) -> tuple[int, int]:
    if operation in ("Query", "Scan"):
        return response.get("Count", 0), response.get("ScannedCount", 0)
    if operation == "GetItem":
        found = int("Item" in response)
        return found, found
    if operation == "BatchGetItem":
        found = sum(len(items) for items in response.get("Responses", {}).values())
        return found, found
    if operation == "TransactGetItems":
        found = sum("Item" in r for r in response.get("Responses", []))
        return found, found
    return 0, 0


def _written(operation: str, params: dict[str, Any], response: dict[str, Any]) -> int:
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return 1
    if operation == "TransactWriteItems":
        return len(params.get("TransactItems", []))
    if operation == "BatchWriteItem":
        asked = sum(len(ops) for ops in params.get("RequestItems", {}).values())
        left = sum(len(ops) for ops in response.get("UnprocessedItems", {}).values())
        return asked - left
    return 0


_lock = threading.Lock()
_active: list[Meter] = []
_current = threading.local()  # the Request whose call is in progress
_originals: dict[str, Callable[..., Any]] = {}


def _metered_api_call(
    client: BaseClient, operation: str, params: dict[str, Any]
) -> dict[str, Any]:
    service = client.meta.service_model.service_name
    request = Request(service=service, operation=operation)
    _current.request = request
    started = time.perf_counter()
    try:
        original = _originals["BaseClient._make_api_call"]
        response: dict[str, Any] = original(client, operation, params)
    except ClientError as error:
        request.error = error.response.get("Error", {}).get("Code", "ClientError")
        raise
    else:
        request.returned, request.scanned = _returned(operation, response)
        request.written = _written(operation, params, response)
        return response
    finally:
        request.seconds = time.perf_counter() - started
        _current.request = None
        with _lock:
            for meter in _active:
                meter.requests.append(request)


def _timed_emulator(
    original: Callable[..., Any], *, hook: bool = False
) -> Callable[..., Any]:
    """Add the call's time to the request in progress on this thread.

    A hook that returns None did not answer (moto's stubber while no mock is
    active): the request then goes on to `_send`, which counts it.
    """

    def emulator(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = None
        try:
            result = original(*args, **kwargs)
            return result
        finally:
            request = getattr(_current, "request", None)
            if request is not None and not (hook and result is None):
                request.attempts += 1
                request.emulator_seconds += time.perf_counter() - started

    return emulator


def _targets() -> list[tuple[type, str, Callable[..., Any]]]:
    """What to wrap: the class, its attribute, and how."""
    targets = [
        (BaseClient, "_make_api_call", lambda original: _metered_api_call),
        (Endpoint, "_send", _timed_emulator),
    ]
    try:
        from moto.core.botocore_stubber import BotocoreStubber  # noqa: PLC0415
    except ImportError:  # moto is a dev tool; the meter also works without it
        return targets
    # moto in-process answers from a before-send hook and never reaches _send.
    hook = functools.partial(_timed_emulator, hook=True)
    return [*targets, (BotocoreStubber, "__call__", hook)]


def _install() -> None:
    for owner, name, wrap in _targets():
        original = getattr(owner, name)
        _originals[f"{owner.__name__}.{name}"] = original
        setattr(owner, name, wrap(original))


def _uninstall() -> None:
    for owner, name, _ in _targets():
        setattr(owner, name, _originals.pop(f"{owner.__name__}.{name}"))


@contextmanager
def metered() -> Iterator[Meter]:
    """Record every AWS request made inside the block."""
    meter = Meter()
    with _lock:
        if not _active:
            _install()
        _active.append(meter)
    started = time.perf_counter()
    try:
        yield meter
    finally:
        meter.total_seconds = time.perf_counter() - started
        with _lock:
            _active.remove(meter)
            if not _active:
                _uninstall()
