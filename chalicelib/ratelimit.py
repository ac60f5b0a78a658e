"""Fixed-window rate limits on report intake, per client and per school.

A client is known only by a keyed hash of its network address, never the address.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import UpdateError

from chalicelib.errors import TooManyRequests
from chalicelib.i18n import N_, both
from chalicelib.models import RateCounter
from chalicelib.receipts import keyed_hash


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    window_seconds: int


# A whole class behind one school network (30 pupils, each retrying once) must get
# through; a script flooding the form from one address must not.
PER_CLIENT = Limit("client", 60, 600)
# Bounds what a distributed flood can store for one school.
PER_SCHOOL = Limit("school", 600, 600)


# Receipt codes carry 80 bits, so guessing is hopeless; these limits keep a
# guessing script from costing anything, while a reporter who mistypes a few
# times is never stopped.
RECEIPT_PER_CLIENT = Limit("receipt-client", 20, 900)
RECEIPT_PER_SCHOOL = Limit("receipt-school", 300, 900)

INTAKE_MESSAGE = N_(
    "Too many reports were sent just now. Please try again in a few minutes."
)
RECEIPT_MESSAGE = N_(
    "Too many tries just now. Please wait a few minutes and try again."
)


def _hit(limit: Limit, subject: str, now: float, message: str = INTAKE_MESSAGE) -> None:
    window = int(now // limit.window_seconds)
    bucket = f"{limit.name}#{subject}#{window}"
    try:
        RateCounter(bucket).update(
            actions=[
                RateCounter.hits.add(1),
                RateCounter.expires.set(
                    datetime.fromtimestamp((window + 2) * limit.window_seconds, UTC)
                ),
            ],
            condition=RateCounter.hits.does_not_exist()
            | (RateCounter.hits < limit.count),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        retry_after = (window + 1) * limit.window_seconds - int(now)
        raise TooManyRequests(both(message), retry_after=max(retry_after, 1)) from error


def check_intake(school_id: str, client_address: str) -> None:
    now = time.time()
    _hit(PER_CLIENT, keyed_hash("client", client_address), now)
    _hit(PER_SCHOOL, school_id, now)


def check_receipt_lookup(school_id: str, client_address: str) -> None:
    now = time.time()
    _hit(RECEIPT_PER_CLIENT, keyed_hash("client", client_address), now, RECEIPT_MESSAGE)
    _hit(RECEIPT_PER_SCHOOL, school_id, now, RECEIPT_MESSAGE)
