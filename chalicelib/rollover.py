"""The school-year rollover: every pupil moves up a group, final years leave.

Run once a year (before 1 August) by the operator or for the administrator.
Groups keep their ids ("g-5" is groep 5 every year), so reports, cases and the
weekly counters keep pointing at the group they were about, and a pupil keeps
their number and with it their history; only the pupil's current group changes.
Staff keep their groups: a teacher of groep 5 teaches next year's groep 5.

The moves come from the group names ("Groep 5" -> "Groep 6", "H2b" -> "H3b";
"Groep 8", "H5a", "V6b", "M4c" leave school) unless a mapping says otherwise. A
group whose next one cannot be derived ("Groep 1/2a", "B1a") stays as it is
unless mapped; the next roster import sets its pupils right.

Each pupil is moved with a condition on their current group and records the
year it was moved for, so a rollover that is interrupted, or run twice at once,
moves nobody twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from pynamodb.exceptions import UpdateError

from chalicelib import audit
from chalicelib.models import Group, Pupil, School, StaffMember
from chalicelib.obs import logger
from chalicelib.roster import group_index, new_group_id

# "2026-2027": a school year runs from 1 August to 31 July.
SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
# The last year of each secondary level: vwo (atheneum, gymnasium) 6, havo 5,
# mavo and vmbo (basis, kader, gemengd, theoretisch) 4.
FINAL_YEAR = {"v": 6, "a": 6, "g": 6, "h": 5, "m": 4, "t": 4, "k": 4}
PRIMARY_FINAL = 8
# A mapping's target for "leaves school".
LEAVES = "-"
# Pupils moved per step: a few seconds of DynamoDB updates, well within the 29
# seconds an API request lives, so the administrator's page can run it too.
STEP_SIZE = 200


class RolloverRefused(ValueError):
    """The year or the mapping is not usable; nothing was changed."""


@dataclass
class Plan:
    """Where each group's pupils go: a group id, or None for "leaves school"."""

    moves: dict[str, str | None]
    unmapped: list[str]  # group ids whose pupils stay where they are
    new_groups: list[Group] = field(default_factory=list)


@dataclass
class Result:
    moved: int = 0
    left: int = 0
    already_done: int = 0
    staff_changed: int = 0
    checked: int = 0
    next_after: str | None = None  # the pupil number the next step starts after
    done: bool = False


def check_year(year: str) -> str:
    found = SCHOOL_YEAR.match(year)
    if not found or int(found.group(2)) != int(found.group(1)) + 1:
        raise RolloverRefused(f"school year {year!r}: like 2027-2028")
    return year


def coming_year(today: date, school: School) -> str:
    """The year a rollover now prepares: the one after the school's, or else the
    year starting on the next 1 August."""
    if school.school_year:
        return next_year(str(school.school_year))
    first = today.year + 1 if today.month >= 8 else today.year
    return f"{first}-{first + 1}"


def next_year(year: str) -> str:
    first = int(check_year(year)[:4]) + 1
    return f"{first}-{first + 1}"


def _next_name(kind: str, name: str) -> str | None:
    """The name of the group these pupils go to; "" when they leave school."""
    if kind == "primary":
        found = re.fullmatch(r"(?:groep\s*)?(\d)([a-z]*)", name.strip().lower())
        if not found:
            return None
        number = int(found.group(1))
        return "" if number >= PRIMARY_FINAL else f"{number + 1}{found.group(2)}"
    found = re.fullmatch(r"([a-z]+)(\d)(.*)", name.strip().lower())
    if not found or found.group(1)[0] not in FINAL_YEAR:
        return None
    level, year, rest = found.group(1), int(found.group(2)), found.group(3)
    if year >= FINAL_YEAR[level[0]]:
        return ""
    return f"{level}{year + 1}{rest}"


def plan(school: School, mapping: dict[str, str] | None = None) -> Plan:
    """The moves for this school: derived from the names, then the given mapping.

    mapping: group name or id -> group name or id, or "-" for "leaves school". A
    target the school does not have yet is created as a new group.
    """
    index = group_index(school)
    moves: dict[str, str | None] = {}
    unmapped: list[str] = []
    for group in school.groups:
        following = _next_name(str(school.kind), str(group.name))
        if following == "":
            moves[group.id] = None
        elif following is not None and following in index:
            moves[group.id] = index[following]
        else:
            unmapped.append(group.id)

    new_groups: list[Group] = []
    for source, target in (mapping or {}).items():
        source_id = index.get(_key(source))
        if source_id is None:
            raise RolloverRefused(f"the school has no group {source!r}")
        if target.strip() == LEAVES:
            moves[source_id] = None
        else:
            target_id = index.get(_key(target))
            if target_id is None:
                created = Group(id=new_group_id(target), name=target.strip())
                new_groups.append(created)
                index[_key(target)] = target_id = created.id
            moves[source_id] = target_id
        if source_id in unmapped:
            unmapped.remove(source_id)
    return Plan(moves, unmapped, new_groups)


def _key(name: str) -> str:
    return name.strip().lower().removeprefix("groep ").strip()


def rollover(
    school_id: str,
    year: str,
    mapping: dict[str, str] | None = None,
    *,
    actor: str | None = None,
    actor_role: str = "operator",
) -> Result:
    """Every step of the rollover in turn (the operator's command); the totals."""
    total = Result()
    after: str | None = None
    while not total.done:
        step = rollover_step(
            school_id, year, mapping, after, actor=actor, actor_role=actor_role
        )
        total.moved += step.moved
        total.left += step.left
        total.already_done += step.already_done
        total.staff_changed += step.staff_changed
        total.checked += step.checked
        total.done, after = step.done, step.next_after
    return total


def rollover_step(
    school_id: str,
    year: str,
    mapping: dict[str, str] | None = None,
    after: str | None = None,
    size: int | None = None,
    *,
    actor: str | None = None,
    actor_role: str = "operator",
) -> Result:
    """Move the pupils after pupil number `after` (at most `size`); call again
    with next_after until done. The last step renews the staff and sets the year.
    """
    check_year(year)
    school = School.get(school_id, consistent_read=True)
    if school.school_year == year:
        return Result(done=True)
    if school.school_year and year != next_year(str(school.school_year)):
        raise RolloverRefused(
            f"{school_id} is in {school.school_year}, not before {year}"
        )
    moves = plan(school, mapping)
    if moves.new_groups:
        groups = list(school.groups) + moves.new_groups
        school.update(actions=[School.groups.set(groups)])

    limit = size or STEP_SIZE
    condition = Pupil.pupil_id > after if after else None
    pupils = list(
        Pupil.query(
            school_id, range_key_condition=condition, consistent_read=True, limit=limit
        )
    )
    result = Result(checked=len(pupils))
    for pupil in pupils:
        _move(pupil, year, moves.moves, result)
    detail = {"year": year, "moved": result.moved, "left": result.left}
    audit.record(
        audit.school_trail(school_id), "rollover_step", actor, actor_role, detail
    )
    if len(pupils) == limit:
        result.next_after = pupils[-1].pupil_id
        return result

    result.staff_changed = _renew_staff(school)
    school.update(actions=[School.school_year.set(year)])
    result.done = True
    finished = {"year": year, "staff_changed": result.staff_changed}
    audit.record(audit.school_trail(school_id), "rollover", actor, actor_role, finished)
    logger.info("rollover done", extra={"school": school_id, **finished})
    return result


def _move(
    pupil: Pupil, year: str, moves: dict[str, str | None], result: Result
) -> None:
    if pupil.school_year == year:
        result.already_done += 1
        return
    target = moves.get(pupil.group, pupil.group)
    if pupil.left or target == pupil.group:
        return
    actions: list[Any] = [Pupil.school_year.set(year)]
    if target is None:
        actions.append(Pupil.left.set(True))
    else:
        actions += [
            Pupil.group.set(target),
            Pupil.school_group.set(f"{pupil.school_id}#{target}"),
        ]
    # Only from the group it was read in and not yet for this year: a second run
    # at the same time finds the condition false and leaves the pupil alone.
    condition = (Pupil.group == pupil.group) & (
        Pupil.school_year.does_not_exist() | (Pupil.school_year != year)
    )
    try:
        pupil.update(actions=actions, condition=condition)
    except UpdateError as error:
        if (
            getattr(error, "cause_response_code", "")
            == "ConditionalCheckFailedException"
        ):
            result.already_done += 1
            return
        raise
    if target is None:
        result.left += 1
    else:
        result.moved += 1


def _renew_staff(school: School) -> int:
    """Staff keep their groups for the new year; groups the school no longer has
    are dropped. Returns how many members changed."""
    known = {g.id for g in School.get(school.school_id, consistent_read=True).groups}
    changed = 0
    for member in StaffMember.query(school.school_id, consistent_read=True):
        kept = [g for g in member.groups if g in known]
        if kept != list(member.groups):
            member.update(actions=[StaffMember.groups.set(cast(Any, kept))])
            changed += 1
    return changed
