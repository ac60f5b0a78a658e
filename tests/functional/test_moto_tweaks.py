"""moto's partition-only Query (benchmarks/moto_tweaks.py) answers exactly what
moto answers without it: same items, order and pages, on the table's key and on
an index, forwards and backwards, with and without key conditions."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from benchmarks.moto_tweaks import partition_queries
from chalicelib.models import Pupil, ReportIndex
from tests.functional.conftest import fresh_aws

SCOPES = [f"s#{n}" for n in range(30)]

QUERIES: list[tuple[str, Callable[[], list[Any]]]] = [
    ("whole partition", lambda: [p.sort for p in ReportIndex.query("s#1")]),
    ("absent partition", lambda: [p.sort for p in ReportIndex.query("s#99")]),
    (
        "newest first, limited",
        lambda: [
            p.sort for p in ReportIndex.query("s#7", scan_index_forward=False, limit=7)
        ],
    ),
    (
        "between, in pages of three",
        lambda: [
            p.sort
            for p in ReportIndex.query(
                "s#29",
                range_key_condition=ReportIndex.sort.between("0200000", "0700000"),
                page_size=3,
            )
        ],
    ),
    (
        "below, backwards, paged and limited",
        lambda: [
            p.sort
            for p in ReportIndex.query(
                "s#3",
                range_key_condition=ReportIndex.sort < "0500000",
                scan_index_forward=False,
                page_size=4,
                limit=9,
            )
        ],
    ),
    (
        "on an index",
        lambda: [p.pupil_id for p in Pupil.by_group.query("s#g1")],
    ),
]


@pytest.fixture(scope="module")
def filled() -> Any:
    rng = random.Random(1)
    with fresh_aws():
        with ReportIndex.batch_write() as batch:
            for number in range(3000):
                batch.save(
                    ReportIndex(
                        rng.choice(SCOPES),
                        f"{rng.randrange(10**6):07d}",
                        report_id=str(number),
                    )
                )
        with Pupil.batch_write() as batch:
            for number in range(200):
                batch.save(
                    Pupil(
                        "s",
                        str(number),
                        first_name="Sam",
                        last_name=f"Jansen {rng.randrange(50)}",
                        group=f"g{number % 5}",
                        school_group=f"s#g{number % 5}",
                    )
                )
        yield


@pytest.mark.parametrize(
    "query", [q for _, q in QUERIES], ids=[name for name, _ in QUERIES]
)
def test_partition_query_answers_what_moto_answers(filled, query, request):
    plain = query()

    with partition_queries():
        tweaked = query()

    assert tweaked == plain
    assert bool(plain) != ("absent" in request.node.name)
