"""Two costs of moto's DynamoDB that grow with its tables and that DynamoDB lacks.

Both change only how moto keeps its items in memory, never a request or a
response, so the requests and items a benchmark counts stay what they are. They
work for moto in-process and for moto's server started in this process.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.models.dynamo_type import LimitedSizeDict
from moto.dynamodb.models.table import Table


def _keys_only(table: Table, memo: dict[int, Any]) -> Table:
    # object.__new__: moto's own __new__ would also track the snapshot forever.
    snapshot = object.__new__(Table)  # type: ignore[type-abstract]
    snapshot.__dict__.update(table.__dict__)
    snapshot.items = defaultdict(
        dict,
        {
            key: dict(value) if isinstance(value, dict) else value
            for key, value in table.items.items()
        },
    )
    return snapshot


@contextmanager
def lean_transaction_snapshots() -> Iterator[None]:
    """Snapshot tables by their key maps before a TransactWriteItems.

    moto deep-copies every table a transaction touches, once per item in it, to
    roll back a failed condition: at 100,000 reports that outlasts botocore's
    read timeout, whose retry then races the first attempt inside the server.
    Copying the key maps still undoes the puts and deletes of a cancelled
    transaction; in-place updates are not undone, and the intake makes none.
    """
    Table.__deepcopy__ = _keys_only  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del Table.__deepcopy__  # type: ignore[attr-defined]


@contextmanager
def unchecked_item_sizes() -> Iterator[None]:
    """Skip moto's item-size check, which re-measures the whole item for every
    attribute it stores: most of the time of a bulk seed. Seeded items are far
    below DynamoDB's 400 KB."""
    checked = LimitedSizeDict.__setitem__
    LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[method-assign]
    try:
        yield
    finally:
        LimitedSizeDict.__setitem__ = checked  # type: ignore[method-assign]


def _same_table(table: Table, memo: dict[int, Any]) -> Table:
    return table


@contextmanager
def unguarded_transactions() -> Iterator[None]:
    """Take no snapshot at all before a TransactWriteItems: for seeding only.

    Even the key maps of `lean_transaction_snapshots` are copied once per item
    of every transaction, a cost that grows with the tables. Without a snapshot
    a cancelled transaction keeps whatever it wrote before the failing item, so
    use this only where every transaction is expected to succeed and a failure
    ends the whole run (a local seed, remade at each start).
    """
    Table.__deepcopy__ = _same_table  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del Table.__deepcopy__  # type: ignore[attr-defined]


_partition = threading.local()


def _partition_items(all_items: Callable[[Table], list[Any]]) -> Any:
    @functools.wraps(all_items)
    def items(table: Table) -> list[Any]:
        scope = getattr(_partition, "scope", None)
        if scope is None or scope[0] is not table:
            return all_items(table)
        found = table.items.get(scope[1], {})
        return sorted(found.values(), key=lambda item: item.range_key)

    return items


def _partition_query(query: Callable[..., Any]) -> Any:
    signature = inspect.signature(query)

    @functools.wraps(query)
    def one_partition(table: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(table, hash_key, *args, **kwargs)
        on_index = bound.arguments.get("index_name")
        if on_index or hash_key is None or not table.range_key_attr:
            return query(table, hash_key, *args, **kwargs)
        _partition.scope = (table, hash_key)
        try:
            return query(table, hash_key, *args, **kwargs)
        finally:
            _partition.scope = None

    return one_partition


@contextmanager
def partition_queries() -> Iterator[None]:
    """Let a Query on a table's own key read only its partition.

    moto answers every Query by listing and sorting every item of the table,
    then keeping those with the hash key asked for, so a page that makes a
    Query per pupil slows down as the table grows. Queries on an index, and
    anything else that lists the table, are left as they are.
    """
    all_items, query = Table.all_items, Table.query
    Table.all_items = _partition_items(all_items)  # type: ignore[method-assign]
    Table.query = _partition_query(query)  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.all_items = all_items  # type: ignore[method-assign]
        Table.query = query  # type: ignore[method-assign]
