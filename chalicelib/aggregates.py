"""Per-school and per-group weekly counters, kept exact in the same transaction as
every change that moves them, so overviews read a number of items proportional
to the weeks shown, never to the reports stored.

One item per (scope, ISO week of receipt): scope "<school>" or
"<school>#group#<group>". Its numeric attributes are counters named
"<dimension>:<value>", e.g. "cat:pesten", "loc:plein", "dow:2" (weekday the
event happened, Monday 0), "pod:lunch", "status:new", "ph:<pupil>" (a linked
pupil who was hurt), "pd:<pupil>" (who did it), "iv:<kind>" (interventions),
"eff:<kind>:<effect>", "tfa:<hours>" (time to first action). A report adds 1
to each of its counters in every scope it touches; a change moves counts from
the old values to the new ones. Each scope also has one "open" item counting
open cases per week of receipt.
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


# Time to first action is counted per whole hour, up to this many hours; a
# later first action counts in the last bucket ("30 days or more").
TFA_CAP_HOURS = 24 * 30
OPEN_WEEK = "open"  # the one item per scope that counts open cases by week


def _pupils(report: Any, role: str) -> set[str]:
    return {
        str(person.pupil_id)
        for person in report.persons
        if person.role == role and person.pupil_id
    }


def report_counters(report: Any) -> Counter[str]:
    """The counters one report contributes to its week, from its current state.

    A report removed as spam or a test contributes nothing. An anonymised
    report (retention, erasure) still counts: its category, place, dates and
    status remain, only the links to pupils are gone.
    """
    if report.removed_reason:
        return Counter()
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
    for pupil in _pupils(report, "hurt"):
        counters[f"ph:{pupil}"] += 1
    for pupil in _pupils(report, "did_it"):
        counters[f"pd:{pupil}"] += 1
    for kind in report.intervention_kinds:
        counters[f"iv:{kind}"] += 1
    for kind_and_effect in report.effects:
        counters[f"eff:{kind_and_effect}"] += 1
    if report.first_action_at is not None:
        seconds = (report.first_action_at - report.received_at).total_seconds()
        hours = min(max(int(seconds // 3600), 0), TFA_CAP_HOURS)
        counters["acted"] += 1
        counters[f"tfa:{hours}"] += 1
    return counters


def school_counters(report: Any) -> Counter[str]:
    counters = report_counters(report)
    if counters:
        for group in report.groups:
            counters[f"grp:{group}"] += 1
    return counters


def _open(report: Any) -> Counter[str]:
    if report.removed_reason or report.status == "closed":
        return Counter()
    return Counter({f"w:{report.received_week}": 1})


Key = tuple[str, str]  # (scope, week)


def scopes(report: Any) -> list[tuple[Key, Counter[str]]]:
    """Every aggregate item a report counts in, with its counters there.

    Per school and per group of the report: the week it was received, and the
    scope's "open" item, which counts open cases by week of receipt (so open
    cases by age are one GetItem, however long the history).
    """
    school = report.school_id
    week = report.received_week
    open_case = _open(report)
    result = [((school, week), school_counters(report))]
    result.append(((school, OPEN_WEEK), open_case))
    for group in report.groups:
        scope = f"{school}#group#{group}"
        result.append(((scope, week), report_counters(report)))
        result.append(((scope, OPEN_WEEK), Counter(open_case)))
    return result


def delta(before: Any | None, after: Any | None) -> dict[Key, Counter[str]]:
    """Counter changes per item between two states of a report (None: absent)."""
    changes: dict[Key, Counter[str]] = {}
    for key, counters in scopes(before) if before is not None else []:
        changes.setdefault(key, Counter()).subtract(counters)
    for key, counters in scopes(after) if after is not None else []:
        changes.setdefault(key, Counter()).update(counters)
    return {
        key: Counter({k: v for k, v in counters.items() if v})
        for key, counters in changes.items()
        if any(counters.values())
    }


def update_actions(counters: Counter[str]) -> list[Action]:
    return [
        Path(name).add(Value(amount, attribute=_NUMBER))
        for name, amount in sorted(counters.items())
    ]


def items_for(
    changes: dict[Key, Counter[str]],
) -> list[tuple[WeekAggregate, list[Action]]]:
    """(item, actions) pairs to add to the transaction of a change."""
    return [
        (WeekAggregate(scope, week), update_actions(counters))
        for (scope, week), counters in sorted(changes.items())
    ]


def open_by_week(scope: str) -> Counter[str]:
    """Open cases of a scope per week of receipt: one GetItem."""
    connection = WeekAggregate._get_connection()
    item = connection.get_item(scope, OPEN_WEEK).get("Item", {})
    return Counter(
        {
            name[2:]: int(value["N"])
            for name, value in item.items()
            if name.startswith("w:") and int(value["N"])
        }
    )


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
            if week == OPEN_WEEK:
                continue
            result[week] = Counter(
                {name: int(value["N"]) for name, value in item.items() if "N" in value}
            )
        start_key = page.get("LastEvaluatedKey")
        if not start_key:
            return result
