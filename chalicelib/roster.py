"""Roster import: pupils and teacher-group links from an administration export.

The school's administration system (ParnasSys, Magister, Somtoday, ESIS) exports a
CSV-like file. `preview` reads it against the stored roster and writes nothing;
`import_chunk` writes one slice of the same plan and returns where the next slice
starts, so a request that lives at most 29 seconds can be called again and again.

The plan is a fixed list: the file's valid lines in file order, then every stored
pupil absent from the file, by pupil number. Each position is written only when it
differs from what is stored, so a slice written twice, or a whole file imported
twice, changes nothing the second time and the offsets never shift between calls.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from chalicelib import audit
from chalicelib.errors import BadRequest
from chalicelib.i18n import N_, both
from chalicelib.models import Group, Pupil, School, StaffMember
from chalicelib.obs import logger

# A roster of a large secondary school is a few thousand lines; anything far beyond
# that is a wrong file or an attempt to exhaust the function's memory and time.
MAX_BYTES = 5 * 1024 * 1024
MAX_LINES = 20_000
# Longer cells are refused rather than stored: no name or group needs this much.
MAX_CELL = 100
# Pupils written per call of import_chunk; a few seconds of DynamoDB writes.
CHUNK_SIZE = 500

# Header names as the administration systems export them, compared in lower case
# with spaces, dashes and underscores removed.
COLUMNS: dict[str, tuple[str, ...]] = {
    "pupil_id": (
        "leerlingnummer",
        "leerlingnr",
        "stamnummer",
        "stamnr",
        "leerlingid",
        "pupilnumber",
    ),
    "first_name": ("roepnaam", "voornaam", "firstname"),
    "infix": ("tussenvoegsel", "tussenvoegsels", "voorvoegsel"),
    "last_name": ("achternaam", "lastname", "surname"),
    "group": ("groep", "klas", "stamgroep", "groepsnaam", "stamklas", "group"),
    "teacher_email": (
        "leerkrachtemail",
        "emailleerkracht",
        "leerkrachtemailadres",
        "emailadresleerkracht",
        "mentoremail",
        "emailmentor",
    ),
}
# A separate teacher file may call its address column just "E-mail"; in the pupils
# file such a column may hold a parent's address, so it is never read there.
TEACHER_FILE_COLUMNS = {
    **COLUMNS,
    "teacher_email": (*COLUMNS["teacher_email"], "email", "emailadres"),
}
PUPIL_COLUMNS = ("pupil_id", "first_name", "last_name", "group")
TEACHER_COLUMNS = ("teacher_email", "group")

REQUIRED = (
    ("pupil_id", N_("The pupil number is missing.")),
    ("first_name", N_("The first name is missing.")),
    ("last_name", N_("The last name is missing.")),
    ("group", N_("The group is missing.")),
)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class LineError:
    """A line that is not imported: its number in the file (header = 1)."""

    line: int
    field: str
    message: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Row:
    line: int
    pupil_id: str
    first_name: str
    last_name: str
    group_name: str


@dataclass
class Plan:
    """What an import would do; built without writing anything."""

    school_id: str
    writes: list[Pupil] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    changed_fields: dict[str, list[str]] = field(default_factory=dict)
    to_mark_left: list[str] = field(default_factory=list)
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)
    groups_to_create: list[str] = field(default_factory=list)
    teacher_groups: dict[str, list[str]] = field(default_factory=dict)
    changed_positions: set[int] = field(default_factory=set)

    @property
    def total(self) -> int:
        return len(self.writes)

    @property
    def change_count(self) -> int:
        return len(self.changed_positions)

    def as_dict(self) -> dict[str, Any]:
        """The preview for the administrator: pupil numbers and counts."""
        return {
            "new": self.new,
            "changed": self.changed,
            "changed_fields": self.changed_fields,
            "to_mark_left": self.to_mark_left,
            "unchanged": self.unchanged,
            "errors": [e.as_dict() for e in self.errors],
            "groups_to_create": self.groups_to_create,
            "teacher_groups": self.teacher_groups,
            "total": self.total,
        }


@dataclass(frozen=True)
class Progress:
    next_offset: int
    total: int
    written: int

    @property
    def done(self) -> bool:
        return self.next_offset >= self.total


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes strictly, else Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; replace them rather than refuse a file
        # that is otherwise readable.
        return data.decode("cp1252", errors="replace")


def _key(header: str) -> str:
    return re.sub(r"[\s_\-]", "", header.strip().lower())


def read_table(
    data: bytes, required: Iterable[str], aliases: dict[str, tuple[str, ...]] = COLUMNS
) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """The column positions by our field name and the data lines with line numbers."""
    if len(data) > MAX_BYTES:
        raise BadRequest(both("The file is larger than {limit} MB.", limit=5))
    text = decode(data)
    if not text.strip():
        raise BadRequest(both("The file is empty."))

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        return _columns(next(reader), required, aliases), _data_lines(reader)
    except csv.Error as error:
        raise BadRequest(
            both("The file could not be read as CSV."), cause=error
        ) from error


def _delimiter(text: str) -> str:
    """Semicolon (Dutch Excel) or comma, judged from the first lines."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,").delimiter
    except csv.Error:
        header = text.splitlines()[0]
        return ";" if header.count(";") >= header.count(",") else ","


def _columns(
    header: list[str], required: Iterable[str], aliases: dict[str, tuple[str, ...]]
) -> dict[str, int]:
    known = {alias: name for name, names in aliases.items() for alias in names}
    columns: dict[str, int] = {}
    for position, title in enumerate(header):
        name = known.get(_key(title))
        if name and name not in columns:
            columns[name] = position
    for name in required:
        if name not in columns:
            raise BadRequest(
                both("The file has no column for {column}.", column=COLUMNS[name][0])
            )
    return columns


def _data_lines(reader: Any) -> list[tuple[int, list[str]]]:
    lines = []
    for cells in reader:
        if reader.line_num > MAX_LINES + 1:
            raise BadRequest(
                both("The file has more than {limit} lines.", limit=MAX_LINES)
            )
        if any(cell.strip() for cell in cells):
            lines.append((reader.line_num, cells))
    return lines


def _cell(cells: list[str], columns: dict[str, int], name: str) -> str:
    position = columns.get(name)
    if position is None or position >= len(cells):
        return ""
    # Kept as text exactly as written: a cell like "=SUM(A1)" is a name here, never
    # evaluated; whoever exports it to a spreadsheet later must escape it there.
    return " ".join(cells[position].split())


def _normalise_group(name: str) -> str:
    lowered = name.strip().lower()
    return lowered.removeprefix("groep ").strip()


def group_index(school: School) -> dict[str, str]:
    """Group id by every way a file may name it: its name, its id, "5" for "Groep 5"."""
    index: dict[str, str] = {}
    for group in school.groups:
        index[_normalise_group(group.name)] = group.id
        index[group.id.lower()] = group.id
    return index


def new_group_id(name: str) -> str:
    return "g-" + re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")


def parse_pupils(
    data: bytes, groups: dict[str, str]
) -> tuple[list[Row], list[LineError], set[str], set[str]]:
    """Valid rows, line errors, unknown group names, and every number mentioned."""
    columns, lines = read_table(data, PUPIL_COLUMNS)
    rows: list[Row] = []
    errors: list[LineError] = []
    unknown: set[str] = set()
    mentioned: set[str] = set()
    first_line: dict[str, int] = {}
    duplicates: set[str] = set()

    for line, cells in lines:
        pupil_id = _cell(cells, columns, "pupil_id")
        if pupil_id in first_line:
            duplicates.add(pupil_id)
        elif pupil_id:
            first_line[pupil_id] = line

    for line, cells in lines:
        values = {name: _cell(cells, columns, name) for name in COLUMNS}
        pupil_id = values["pupil_id"]
        mentioned.add(pupil_id)
        last_name = f"{values['infix']} {values['last_name']}".strip()
        error = _line_error(line, values, groups, duplicates, first_line)
        if error:
            errors.append(error)
            if error.field == "group" and values["group"]:
                unknown.add(values["group"])
            continue
        rows.append(
            Row(line, pupil_id, values["first_name"], last_name, values["group"])
        )
    return rows, errors, unknown, mentioned


def _line_error(
    line: int,
    values: dict[str, str],
    groups: dict[str, str],
    duplicates: set[str],
    first_line: dict[str, int],
) -> LineError | None:
    too_long = next((n for n, v in values.items() if len(v) > MAX_CELL), None)
    if too_long:
        message = both("This value is longer than {limit} characters.", limit=MAX_CELL)
        return LineError(line, too_long, message)
    missing = next(((n, m) for n, m in REQUIRED if not values[n]), None)
    if missing:
        return LineError(line, missing[0], both(missing[1]))

    pupil_id, group = values["pupil_id"], values["group"]
    if pupil_id in duplicates:
        message = both(
            "Pupil number {pupil_id} appears more than once, first on line {first}.",
            pupil_id=pupil_id,
            first=first_line[pupil_id],
        )
        return LineError(line, "pupil_id", message)
    if _normalise_group(group) not in groups:
        message = both("Group {group} is not one of the school's groups.", group=group)
        return LineError(line, "group", message)
    return None


def teacher_source(
    data: bytes, teachers: bytes | None
) -> tuple[bytes, dict[str, tuple[str, ...]]] | None:
    """The teacher file, else the pupils file when it has a teacher column."""
    if teachers is not None:
        return teachers, TEACHER_FILE_COLUMNS
    columns, _ = read_table(data, PUPIL_COLUMNS)
    return (data, COLUMNS) if "teacher_email" in columns else None


def parse_teachers(
    data: bytes,
    groups: dict[str, str],
    staff: dict[str, StaffMember],
    aliases: dict[str, tuple[str, ...]] = TEACHER_FILE_COLUMNS,
) -> tuple[dict[str, list[str]], list[LineError]]:
    """Group ids per staff id from lines linking a teacher's e-mail to a group.

    The lines come from a teacher file or from the pupils file's teacher column,
    where one address repeats on every line of a group: each problem is reported
    once, on the first line it occurs.
    """
    columns, lines = read_table(data, TEACHER_COLUMNS, aliases)
    links: dict[str, set[str]] = {}
    errors: list[LineError] = []
    reported: set[tuple[str, str]] = set()
    for line, cells in lines:
        email = _cell(cells, columns, "teacher_email").lower()
        group = _cell(cells, columns, "group")
        error = _teacher_error(line, email, group, groups, staff)
        if error and (error.field, email + group) not in reported:
            reported.add((error.field, email + group))
            errors.append(error)
        elif email and not error:
            group_id = groups[_normalise_group(group)]
            links.setdefault(staff[email].staff_id, set()).add(group_id)
    return {staff_id: sorted(ids) for staff_id, ids in sorted(links.items())}, errors


def _teacher_error(
    line: int,
    email: str,
    group: str,
    groups: dict[str, str],
    staff: dict[str, StaffMember],
) -> LineError | None:
    if not email:
        return None
    if not EMAIL.match(email):
        message = both("The teacher's e-mail address is not valid.")
        return LineError(line, "teacher_email", message)
    if email not in staff:
        message = both("No staff member has this e-mail address; invite them first.")
        return LineError(line, "teacher_email", message)
    if _normalise_group(group) not in groups:
        message = both("Group {group} is not one of the school's groups.", group=group)
        return LineError(line, "group", message)
    return None


def _load_school(school_id: str) -> School:
    try:
        return School.get(school_id)
    except School.DoesNotExist as error:
        raise BadRequest(both("This school is not known."), cause=error) from error


def _stored_pupils(school_id: str) -> dict[str, Pupil]:
    return {p.pupil_id: p for p in Pupil.query(school_id, consistent_read=True)}


COMPARED = ("first_name", "last_name", "group", "left")


def _differences(a: Pupil, b: Pupil) -> list[str]:
    return [name for name in COMPARED if getattr(a, name) != getattr(b, name)]


def preview(
    school_id: str,
    data: bytes,
    teachers: bytes | None = None,
    *,
    complete: bool = True,
    create_groups: bool = False,
) -> Plan:
    """What importing the file would change; writes nothing.

    complete: the file is the whole roster, so stored pupils absent from it are to
    be marked left. A pupil whose number is on a line with an error is never marked
    left: the line says they are still at school, only something on it is wrong.
    """
    school = _load_school(school_id)
    groups = group_index(school)
    plan = Plan(school_id)

    rows, errors, unknown, mentioned = parse_pupils(data, groups)
    plan.groups_to_create = sorted({_normalise_group(n): n for n in unknown}.values())
    if create_groups and unknown:
        groups.update({_normalise_group(n): new_group_id(n) for n in unknown})
        rows, errors, _, mentioned = parse_pupils(data, groups)
    plan.errors = errors

    source = teacher_source(data, teachers)
    if source is not None:
        staff = {m.email.lower(): m for m in StaffMember.query(school_id) if m.active}
        plan.teacher_groups, teacher_errors = parse_teachers(
            source[0], groups, staff, source[1]
        )
        plan.errors.extend(teacher_errors)

    stored = _stored_pupils(school_id)
    for row in rows:
        group_id = groups[_normalise_group(row.group_name)]
        target = Pupil(
            school_id,
            row.pupil_id,
            first_name=row.first_name,
            last_name=row.last_name,
            group=group_id,
            school_group=f"{school_id}#{group_id}",
            left=False,
        )
        _add(plan, target, stored.get(row.pupil_id), plan.new, plan.changed)

    if complete:
        for pupil_id in sorted(set(stored) - mentioned):
            before = stored[pupil_id]
            target = Pupil(school_id, pupil_id, **_attributes(before), left=True)
            _add(plan, target, before, plan.to_mark_left, plan.to_mark_left)
    return plan


def _attributes(pupil: Pupil) -> dict[str, Any]:
    return {
        "first_name": pupil.first_name,
        "last_name": pupil.last_name,
        "group": pupil.group,
        "school_group": pupil.school_group,
    }


def _add(
    plan: Plan,
    target: Pupil,
    before: Pupil | None,
    if_new: list[str],
    if_changed: list[str],
) -> None:
    position = len(plan.writes)
    plan.writes.append(target)
    if before is None:
        if_new.append(target.pupil_id)
    elif differences := _differences(before, target):
        if_changed.append(target.pupil_id)
        if not target.left:
            plan.changed_fields[target.pupil_id] = differences
    else:
        plan.unchanged += 1
        return
    plan.changed_positions.add(position)


def import_chunk(
    school_id: str,
    data: bytes,
    start: int,
    size: int = CHUNK_SIZE,
    *,
    teachers: bytes | None = None,
    complete: bool = True,
    create_groups: bool = False,
    actor: str | None = None,
    actor_role: str = "administrator",
) -> Progress:
    """Write positions start..start+size of the plan; call again from next_offset.

    The first call (start 0) also creates missing groups when asked and sets the
    linked teachers' groups, so later calls find the groups their pupils are in.
    """
    if start == 0:
        _prepare(school_id, data, teachers, create_groups)
    plan = preview(school_id, data, teachers, complete=complete)

    end = min(start + size, plan.total)
    positions = [p for p in range(start, end) if p in plan.changed_positions]
    with Pupil.batch_write() as batch:
        for position in positions:
            batch.save(plan.writes[position])

    progress = Progress(next_offset=end, total=plan.total, written=len(positions))
    logger.info(
        "roster chunk written",
        extra={
            "school": school_id,
            "start": start,
            "end": end,
            "written": len(positions),
        },
    )
    if progress.done:
        detail = {"total": plan.total, "errors": len(plan.errors)}
        audit.record(
            audit.school_trail(school_id), "roster_imported", actor, actor_role, detail
        )
    return progress


def _prepare(
    school_id: str, data: bytes, teachers: bytes | None, create_groups: bool
) -> None:
    school = _load_school(school_id)
    groups = group_index(school)
    if create_groups:
        _, _, unknown, _ = parse_pupils(data, groups)
        if unknown:
            names = {_normalise_group(n): n for n in sorted(unknown)}
            added = [Group(id=new_group_id(n), name=n) for n in names.values()]
            school.update(actions=[School.groups.set(list(school.groups) + added)])
            groups = group_index(school)
            logger.info(
                "roster groups created",
                extra={"school": school_id, "count": len(added)},
            )
    source = teacher_source(data, teachers)
    if source is None:
        return

    members = [m for m in StaffMember.query(school_id) if m.active]
    staff = {m.email.lower(): m for m in members}
    links, _ = parse_teachers(source[0], groups, staff, source[1])
    for member in members:
        wanted = links.get(member.staff_id)
        if wanted is not None and sorted(member.groups) != wanted:
            # PynamoDB types a list attribute's value as attributes, not strings.
            member.update(actions=[StaffMember.groups.set(cast(Any, wanted))])


def import_all(
    school_id: str, data: bytes, size: int = CHUNK_SIZE, start: int = 0, **options: Any
) -> list[Progress]:
    """Every chunk from start to the end in turn, for the operator's command."""
    steps = [import_chunk(school_id, data, start, size, **options)]
    while not steps[-1].done:
        offset = steps[-1].next_offset
        steps.append(import_chunk(school_id, data, offset, size, **options))
    return steps
