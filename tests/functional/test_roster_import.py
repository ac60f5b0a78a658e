"""Roster import against fake DynamoDB: preview, apply in chunks, re-import, left."""

from __future__ import annotations

from pathlib import Path

import pytest
from faker import Faker

from benchmarks.dynamo_meter import metered
from chalicelib import audit, roster
from chalicelib.models import Pupil, School, StaffMember
from local import roster as local_roster
from local.seed import DEMO_SCHOOLS, create_school, create_staff

SLUG = DEMO_SCHOOLS[0].slug
HEADER = ["Leerlingnummer", "Roepnaam", "Tussenvoegsel", "Achternaam", "Groep"]
WRITES = {"PutItem", "BatchWriteItem", "UpdateItem", "DeleteItem"}


def make_csv(
    lines: list[list[str]],
    header: list[str] = HEADER,
    delimiter: str = ";",
    encoding: str = "utf-8",
) -> bytes:
    text = "\r\n".join(delimiter.join(cells) for cells in [header, *lines]) + "\r\n"
    return text.encode(encoding)


@pytest.fixture
def school(fake_aws: None) -> School:
    return create_school(DEMO_SCHOOLS[0])


def stored() -> dict[str, Pupil]:
    return {p.pupil_id: p for p in Pupil.query(SLUG)}


def class_of(fake: Faker, count: int, group: str = "Groep 5") -> list[list[str]]:
    return [
        [str(200000 + n), fake.first_name(), "", fake.last_name(), group]
        for n in range(count)
    ]


@pytest.mark.parametrize(
    ("delimiter", "encoding"),
    [
        (";", "utf-8"),
        (",", "utf-8"),
        (";", "utf-8-sig"),
        (",", "utf-8-sig"),
        (";", "cp1252"),
    ],
    ids=["semicolon-utf8", "comma-utf8", "semicolon-bom", "comma-bom", "cp1252"],
)
def test_accented_names_arrive_intact_whatever_the_separator_and_encoding(
    school: School, delimiter: str, encoding: str
):
    lines = [
        ["1001", "Zoë", "", "Brouwer", "Groep 5"],
        ["1002", "Anaïs", "van der", "Meer", "5"],
        ["1003", "René", "", "Ëlberts", "groep 1/2a"],
    ]

    roster.import_all(SLUG, make_csv(lines, delimiter=delimiter, encoding=encoding))

    pupils = stored()
    assert [(p.first_name, p.last_name, p.group) for p in pupils.values()] == [
        ("Zoë", "Brouwer", "g-5"),
        ("Anaïs", "van der Meer", "g-5"),
        ("René", "Ëlberts", "g-1-2a"),
    ]
    assert pupils["1001"].school_group == f"{SLUG}#g-5"


def test_preview_shows_changes_and_writes_nothing(school: School, fake: Faker):
    roster.import_all(SLUG, make_csv(class_of(fake, 3)))
    before = stored()
    lines = [
        ["200000", before["200000"].first_name, "", "Nieuwenhuis", "Groep 6"],
        ["200001", before["200001"].first_name, "", before["200001"].last_name, "5"],
        ["200009", "Fleur", "", "Jansen", "Groep 5"],
    ]

    with metered() as meter:
        plan = roster.preview(SLUG, make_csv(lines))

    assert plan.as_dict() | {"errors": []} == {
        "new": ["200009"],
        "changed": ["200000"],
        "changed_fields": {"200000": ["last_name", "group"]},
        "to_mark_left": ["200002"],
        "unchanged": 1,
        "errors": [],
        "groups_to_create": [],
        "teacher_groups": {},
        "total": 4,
    }
    assert not WRITES & set(meter.operations)
    assert stored()["200000"].last_name == before["200000"].last_name


def test_bad_lines_are_reported_with_line_and_field_and_not_imported(school: School):
    lines = [
        ["3001", "Daan", "", "Visser", "Groep 4"],
        ["", "Noor", "", "Smit", "Groep 4"],
        ["3003", "", "", "Bakker", "Groep 4"],
        ["3004", "Lotte", "", "Mulder", "Groep 9"],
        ["3005", "Milan", "", "de Jong", "Groep 4"],
        ["3005", "Mila", "", "de Jong", "Groep 4"],
    ]

    plan = roster.preview(SLUG, make_csv(lines))
    roster.import_all(SLUG, make_csv(lines))

    assert [(e.line, e.field) for e in plan.errors] == [
        (3, "pupil_id"),
        (4, "first_name"),
        (5, "group"),
        (6, "pupil_id"),
        (7, "pupil_id"),
    ]
    assert plan.errors[2].message == {
        "nl": "Groep Groep 9 is geen groep van deze school.",
        "en": "Group Groep 9 is not one of the school's groups.",
    }
    assert plan.errors[4].message["nl"] == (
        "Leerlingnummer 3005 komt vaker voor, het eerst op regel 6."
    )
    assert plan.groups_to_create == ["Groep 9"]
    assert list(stored()) == ["3001"]


def test_reimport_of_the_same_file_changes_nothing(school: School, fake: Faker):
    data = make_csv(class_of(fake, 40))
    roster.import_all(SLUG, data, size=15)

    with metered() as meter:
        steps = roster.import_all(SLUG, data, size=15)

    assert sum(step.written for step in steps) == 0
    assert roster.preview(SLUG, data).change_count == 0
    assert "BatchWriteItem" not in meter.operations
    assert len(stored()) == 40


def test_pupil_absent_from_a_complete_import_is_marked_left_and_kept(
    school: School, fake: Faker
):
    lines = class_of(fake, 3)
    roster.import_all(SLUG, make_csv(lines))

    roster.import_all(SLUG, make_csv(lines[:2]))

    pupils = stored()
    assert len(pupils) == 3
    assert [p.left for p in pupils.values()] == [False, False, True]
    assert pupils["200002"].first_name == lines[2][1]


def test_partial_import_marks_nobody_left(school: School, fake: Faker):
    lines = class_of(fake, 3)
    roster.import_all(SLUG, make_csv(lines))

    plan = roster.preview(SLUG, make_csv(lines[:1]), complete=False)
    roster.import_all(SLUG, make_csv(lines[:1]), complete=False)

    assert plan.to_mark_left == []
    assert not any(p.left for p in stored().values())


def test_pupil_on_a_line_with_an_error_is_not_marked_left(school: School, fake: Faker):
    lines = class_of(fake, 2)
    roster.import_all(SLUG, make_csv(lines))
    lines[1][4] = "Groep 12"

    plan = roster.preview(SLUG, make_csv(lines))

    assert plan.to_mark_left == []
    assert [e.line for e in plan.errors] == [3]


def test_pupil_who_returns_is_no_longer_left(school: School, fake: Faker):
    lines = class_of(fake, 2)
    roster.import_all(SLUG, make_csv(lines[:1]))
    roster.import_all(SLUG, make_csv(lines))
    roster.import_all(SLUG, make_csv(lines[1:]))

    plan = roster.preview(SLUG, make_csv(lines))
    roster.import_all(SLUG, make_csv(lines))

    assert plan.changed == ["200000"]
    assert not any(p.left for p in stored().values())


def test_formula_looking_cells_are_stored_as_plain_text(school: School):
    lines = [
        ["=1+1", '=HYPERLINK("http://x.example")', "", "+31 Bakker", "Groep 3"],
        ["4002", "@Sara", "", "-Smit", "Groep 3"],
    ]

    roster.import_all(SLUG, make_csv(lines))

    pupils = stored()
    assert pupils["=1+1"].first_name == '=HYPERLINK("http://x.example")'
    assert pupils["=1+1"].last_name == "+31 Bakker"
    assert (pupils["4002"].first_name, pupils["4002"].last_name) == ("@Sara", "-Smit")


def test_unknown_group_is_created_only_when_asked(school: School):
    lines = [
        ["5001", "Bram", "", "Peters", "Groep 3"],
        ["5002", "Ivy", "", "Kok", "3c"],
    ]

    preview = roster.preview(SLUG, make_csv(lines), create_groups=True)
    roster.import_all(SLUG, make_csv(lines), create_groups=True)

    assert preview.groups_to_create == ["3c"]
    assert preview.errors == []
    assert preview.new == ["5001", "5002"]
    assert School.get(SLUG).groups[-1].attribute_values == {"id": "g-3c", "name": "3c"}
    assert stored()["5002"].school_group == f"{SLUG}#g-3c"


def test_teacher_file_links_each_teacher_to_the_groups_in_it(
    school: School, fake: Faker
):
    staff = {m.staff_id: m for m in create_staff(school, fake)}
    teacher = staff["staff-leerkracht"]
    teachers = make_csv(
        [
            [teacher.email.upper(), "Groep 7"],
            [teacher.email, "8"],
            ["nobody@elsewhere.example", "Groep 7"],
            ["not-an-address", "Groep 7"],
        ],
        header=["Leerkracht e-mail", "Groep"],
    )
    pupils = make_csv(class_of(fake, 2))

    plan = roster.preview(SLUG, pupils, teachers)
    roster.import_all(SLUG, pupils, teachers=teachers)

    assert plan.teacher_groups == {"staff-leerkracht": ["g-7", "g-8"]}
    assert [(e.line, e.field) for e in plan.errors] == [
        (4, "teacher_email"),
        (5, "teacher_email"),
    ]
    assert StaffMember.get(SLUG, "staff-leerkracht").groups == ["g-7", "g-8"]
    assert teacher.groups == ["g-5"]


def test_teacher_column_in_the_pupils_file_links_the_teacher_once_per_group(
    school: School, fake: Faker
):
    create_staff(school, fake)
    header = [*HEADER, "E-mail", "Leerkracht e-mail"]
    lines = [
        [
            "7001",
            "Tim",
            "",
            "Bos",
            "Groep 6",
            "ouder@thuis.example",
            "leerkracht@obsderegenboog.example",
        ],
        [
            "7002",
            "Eva",
            "",
            "Vos",
            "Groep 6",
            "ouder2@thuis.example",
            "leerkracht@obsderegenboog.example",
        ],
        ["7003", "Jip", "", "Kuip", "Groep 3", "", "onbekend@obsderegenboog.example"],
        ["7004", "Liv", "", "Kuip", "Groep 3", "", "onbekend@obsderegenboog.example"],
    ]

    plan = roster.preview(SLUG, make_csv(lines, header=header))
    roster.import_all(SLUG, make_csv(lines, header=header))

    assert plan.teacher_groups == {"staff-leerkracht": ["g-6"]}
    assert [(e.line, e.field) for e in plan.errors] == [(4, "teacher_email")]
    assert StaffMember.get(SLUG, "staff-leerkracht").groups == ["g-6"]
    assert len(stored()) == 4


def test_operator_command_previews_by_default_and_applies_on_request(
    school: School, fake: Faker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = tmp_path / "leerlingen.csv"
    lines = class_of(fake, 3)
    path.write_bytes(make_csv(lines, encoding="cp1252"))

    previewed = local_roster.main(["--school", SLUG, "--file", str(path)])
    after_preview = stored()
    applied = local_roster.main(["--school", SLUG, "--file", str(path), "--apply"])

    assert (previewed, applied) == (0, 0)
    assert after_preview == {}
    assert len(stored()) == 3
    output = capsys.readouterr().out
    assert "preview only: 3 changes" in output
    assert "3/3 checked, 3 written" in output
    assert not [line for line in lines if line[1] in output or line[3] in output]


def test_a_5000_line_file_is_imported_in_chunks_that_can_resume(
    school: School, fake: Faker
):
    groups = [g.name for g in school.groups]
    lines = [
        [str(600000 + n), fake.first_name(), "", fake.last_name(), groups[n % 8]]
        for n in range(5000)
    ]
    data = make_csv(lines)

    first = roster.import_chunk(SLUG, data, 0, 500)
    again = roster.import_chunk(SLUG, data, 0, 500)
    with metered() as meter:
        rest = roster.import_all(SLUG, data, 1000, start=first.next_offset)

    assert (first.next_offset, first.total, first.written) == (500, 5000, 500)
    assert again.written == 0
    assert [step.next_offset for step in rest] == [1500, 2500, 3500, 4500, 5000]
    assert sum(step.written for step in rest) == 4500
    # 25 items per BatchWriteItem; one Query page of stored pupils per 1 MB.
    assert meter.operations["BatchWriteItem"] == 4500 // 25
    assert len(stored()) == 5000
    assert audit.trail_of(audit.school_trail(SLUG))[0].action == "roster_imported"
