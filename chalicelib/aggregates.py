"""Per-school and per-group weekly counters, kept exact in the same transaction as
every change that moves them, so overviews read a number of items proportional
to the weeks shown, never to the reports stored.

One item per (scope, ISO week of receipt): scope "<school>" or
"<school>#group#<group>". Its numeric attributes are counters named
"<dimension>:<value>", e.g. "cat:pesten", "loc:plein", "dow:2" (weekday the
event happened, Monday 0), "pod:lunch", "status:new". A report adds 1 to each of
its counters in every scope it touches; a change moves counts from the old
values to the new ones.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from pynamodb.attributes import NumberAttribute
from pynamodb.expressions.operand import Path, Value
from pynamodb.expressions.update import Action

from chalicelib.models import WeekAggregate

_NUMBER = NumberAttribute()


def report_counters(report: Any) -> Counter[str]:
    """The counters one report contributes, from its current state."""
    counters: Counter[str] = Counter({"total": 1})
    for category in report.categories:
        counters[f"cat:{category}"] += 1
    weekday = date.fromisoformat(report.occurred_on).weekday()
    counters[f"loc:{report.location}"] += 1
    counters[f"dow:{weekday}"] += 1
    counters[f"pod:{report.part_of_day}"] += 1
    counters[f"lp:{report.location}:{report.part_of_day}"] += 1
    counters[f"ld:{report.location}:{weekday}"] += 1
    counters[f"freq:{report.frequency}"] += 1
    counters[f"role:{report.reporter_role}"] += 1
    counters[f"status:{report.status}"] += 1
    if report.urgent:
        counters["urgent"] += 1
    return counters


def school_counters(report: Any) -> Counter[str]:
    counters = report_counters(report)
    for group in report.groups:
        counters[f"grp:{group}"] += 1
    return counters


def scopes(report: Any) -> list[tuple[str, Counter[str]]]:
    """Every aggregate item a report counts in, with its counters there."""
    result = [(report.school_id, school_counters(report))]
    result += [
        (f"{report.school_id}#group#{group}", report_counters(report))
        for group in report.groups
    ]
    return result


def delta(before: Any | None, after: Any | None) -> dict[str, Counter[str]]:
    """Counter changes per scope between two states of a report (None: absent)."""
    changes: dict[str, Counter[str]] = {}
    for scope, counters in scopes(before) if before is not None else []:
        changes.setdefault(scope, Counter()).subtract(counters)
    for scope, counters in scopes(after) if after is not None else []:
        changes.setdefault(scope, Counter()).update(counters)
    return {
        scope: Counter({k: v for k, v in counters.items() if v})
        for scope, counters in changes.items()
        if any(counters.values())
    }


def update_actions(counters: Counter[str]) -> list[Action]:
    return [
        Path(name).add(Value(amount, attribute=_NUMBER))
        for name, amount in sorted(counters.items())
    ]


def items_for(
    week: str, changes: dict[str, Counter[str]]
) -> list[tuple[WeekAggregate, list[Action]]]:
    """(item, actions) pairs to add to the transaction of a change."""
    return [
        (WeekAggregate(scope, week), update_actions(counters))
        for scope, counters in sorted(changes.items())
    ]


def weeks_of(scope: str, first_week: str, last_week: str) -> dict[str, Counter[str]]:
    """The counters of a scope per week in [first_week, last_week]: one Query."""
    connection = WeekAggregate._get_connection()
    result: dict[str, Counter[str]] = {}
    start_key = None
    while True:
        page = connection.query(
            scope,
            range_key_condition=WeekAggregate.week.between(first_week, last_week),
            exclusive_start_key=start_key,
        )
        for item in page.get("Items", []):
            week = item["week"]["S"]
            result[week] = Counter(
                {name: int(value["N"]) for name, value in item.items() if "N" in value}
            )
        start_key = page.get("LastEvaluatedKey")
        if not start_key:
            return result
