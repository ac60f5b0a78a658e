"""Rate limits on intake: one address cannot flood a school, and no address is kept.

Earlier requests are counted straight through ratelimit.check_intake, the counter
the API itself uses; the request that crosses a limit goes through HTTP.
"""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest
from chalice.local import LambdaEventConverter

from chalicelib import ratelimit
from chalicelib.errors import TooManyRequests
from chalicelib.models import IdempotencyRecord

from .helpers import (
    OTHER_SCHOOL,
    SCHOOL,
    answer,
    assert_bilingual,
    post_report,
    raw_items,
    stored_reports,
    strings_in,
    valid_report,
    with_value,
)

# The address Chalice's local gateway reports for every test request.
TEST_CLIENT = LambdaEventConverter.LOCAL_SOURCE_IP


@pytest.fixture(autouse=True)
def mid_window(monkeypatch) -> float:
    """Pin the rate limiter's clock halfway through a 10-minute window, so no
    window ends during a test; returns the pinned time."""
    window = ratelimit.PER_CLIENT.window_seconds
    pinned = (time.time() // window) * window + window / 2
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: pinned))
    return pinned


def count_requests(address: str, times: int, school: str = SCHOOL) -> None:
    for _ in range(times):
        ratelimit.check_intake(school, address)


@pytest.fixture
def from_address(monkeypatch):
    """Send the following test requests from another client address."""

    def use(address: str) -> None:
        monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)

    return use


def test_client_over_its_limit_is_told_when_to_try_again(api, fake):
    count_requests(TEST_CLIENT, ratelimit.PER_CLIENT.count)

    response = post_report(api, valid_report(fake))

    assert response.status_code == 429, response.body
    assert answer(response)["error"] == "too_many_requests"
    assert_bilingual(answer(response)["message"])
    assert response.headers["Retry-After"] == "300"  # the rest of the window
    assert stored_reports() == []
    assert list(IdempotencyRecord.scan()) == []


def test_last_request_within_the_limit_gets_through(api, fake):
    count_requests(TEST_CLIENT, ratelimit.PER_CLIENT.count - 1)

    last = post_report(api, valid_report(fake))
    over = post_report(api, valid_report(fake))

    assert last.status_code == 201, last.body
    assert over.status_code == 429, over.body
    assert len(stored_reports()) == 1


def test_other_client_address_still_gets_through(api, fake, from_address):
    count_requests(TEST_CLIENT, ratelimit.PER_CLIENT.count)
    from_address("192.0.2.44")

    response = post_report(api, valid_report(fake))

    assert response.status_code == 201, response.body


@pytest.mark.parametrize(
    "address", ["198.51.100.7", "2001:db8::1", "unknown"], ids=["v4", "v6", "unknown"]
)
def test_each_address_has_its_own_count(fake_aws, address):
    count_requests(address, ratelimit.PER_CLIENT.count)

    with pytest.raises(TooManyRequests):
        ratelimit.check_intake(SCHOOL, address)
    ratelimit.check_intake(SCHOOL, address + "0")


def test_school_over_its_limit_refuses_every_client(api, fake, monkeypatch):
    monkeypatch.setattr(ratelimit, "PER_SCHOOL", ratelimit.Limit("school", 5, 600))
    for n in range(5):
        ratelimit.check_intake(SCHOOL, f"198.51.100.{n}")

    here = post_report(api, valid_report(fake))
    there = post_report(api, at_other_school(valid_report(fake)), slug=OTHER_SCHOOL)

    assert here.status_code == 429, here.body
    assert_bilingual(answer(here)["message"])
    assert here.headers["Retry-After"] == "300"
    assert there.status_code == 201, there.body
    assert stored_reports(SCHOOL) == []


def test_counters_hold_no_address_in_clear(api, fake, from_address):
    addresses = ["203.0.113.9", "2001:db8:85a3::8a2e:370:7334"]
    for address in addresses:
        from_address(address)
        assert post_report(api, valid_report(fake)).status_code == 201

    buckets = [
        item["bucket"]["S"]
        for table, item in raw_items()
        if table.endswith("rate-limits")
    ]
    stored = [text for _, item in raw_items() for text in strings_in(item)]

    assert len(buckets) == 3  # two clients, one school
    for address in [*addresses, TEST_CLIENT]:
        assert not any(address in text for text in stored)
    for bucket in buckets:
        assert re.fullmatch(
            r"(client#[0-9a-f]{40}|school#obs-de-regenboog)#\d+", bucket
        )


def at_other_school(body):
    """The same report, with groups and location of Het Baken College."""
    body = with_value(body, "location", "aula")
    body = with_value(body, "hurt.persons.0.group", "g-h2b")
    return with_value(body, "did_it.persons.0.group", "g-v2a")
