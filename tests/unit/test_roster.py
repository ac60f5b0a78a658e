"""Reading roster files: encodings, separators, Dutch headers, errors per line."""

from __future__ import annotations

import pytest

from chalicelib import roster
from chalicelib.errors import BadRequest

GROUPS = {"5": "g-5", "g-5": "g-5", "h2b": "g-h2b"}


def test_utf8_is_read_with_and_without_bom():
    text = "Roepnaam\r\nZoë\r\n"

    assert roster.decode(text.encode("utf-8")) == text
    assert roster.decode(text.encode("utf-8-sig")) == text


def test_windows_1252_is_the_fallback_when_utf8_does_not_decode():
    data = "Anaïs;Hélène;Chloë".encode("cp1252")

    assert roster.decode(data) == "Anaïs;Hélène;Chloë"


@pytest.mark.parametrize(
    "header",
    [
        "Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Groep",
        "STAMNUMMER,Voornaam,Tussenvoegsels,Achternaam,Klas",
        "leerling_nummer;roep naam;tussenvoegsel;achter-naam;stamgroep",
    ],
    ids=["parnassys", "magister", "spelled-loosely"],
)
def test_dutch_headers_are_recognised_case_insensitively(header: str):
    separator = ";" if ";" in header else ","
    data = (header + "\n" + separator.join(["1", "Sem", "de", "Vries", "H2b"])).encode()

    columns, lines = roster.read_table(data, roster.PUPIL_COLUMNS)

    assert columns == {
        "pupil_id": 0,
        "first_name": 1,
        "infix": 2,
        "last_name": 3,
        "group": 4,
    }
    assert lines == [(2, ["1", "Sem", "de", "Vries", "H2b"])]


def test_a_file_without_a_group_column_is_refused_as_a_whole():
    data = b"Leerlingnummer;Roepnaam;Achternaam\n1;Sem;Vries\n"

    with pytest.raises(BadRequest) as raised:
        roster.read_table(data, roster.PUPIL_COLUMNS)

    assert raised.value.message == {
        "nl": "Het bestand heeft geen kolom voor groep.",
        "en": "The file has no column for groep.",
    }


@pytest.mark.parametrize(
    "data", [b"", b" \r\n", b"\xef\xbb\xbf"], ids=["empty", "blank", "bom-only"]
)
def test_an_empty_file_is_refused(data: bytes):
    with pytest.raises(BadRequest):
        roster.read_table(data, roster.PUPIL_COLUMNS)


def test_quoted_cells_may_hold_the_separator():
    data = b'Leerlingnummer,Roepnaam,Achternaam,Groep\n7,"Jan, Piet",Smit,5\n'

    rows, errors, _, _ = roster.parse_pupils(data, GROUPS)

    assert errors == []
    assert rows[0].first_name == "Jan, Piet"


def test_blank_lines_are_skipped_and_line_numbers_stay_those_of_the_file():
    data = b"Leerlingnummer;Roepnaam;Achternaam;Groep\n\n;;;\n8;Sem;;5\n"

    _, errors, _, mentioned = roster.parse_pupils(data, GROUPS)

    assert [(e.line, e.field) for e in errors] == [(4, "last_name")]
    assert mentioned == {"8"}


def test_cells_that_look_like_formulas_are_kept_as_text():
    data = b"Leerlingnummer;Roepnaam;Achternaam;Groep\n9;=cmd|' /C calc'!A0;@x;5\n"

    rows, errors, _, _ = roster.parse_pupils(data, GROUPS)

    assert errors == []
    assert (rows[0].first_name, rows[0].last_name) == ("=cmd|' /C calc'!A0", "@x")


def test_an_overlong_cell_is_an_error_of_that_line():
    data = f"Leerlingnummer;Roepnaam;Achternaam;Groep\n9;{'a' * 101};B;5\n".encode()

    rows, errors, _, _ = roster.parse_pupils(data, GROUPS)

    assert rows == []
    assert errors[0].as_dict() == {
        "line": 2,
        "field": "first_name",
        "message": {
            "nl": "Deze waarde is langer dan 100 tekens.",
            "en": "This value is longer than 100 characters.",
        },
    }


def test_a_file_over_the_line_limit_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(roster, "MAX_LINES", 3)
    data = b"Leerlingnummer;Roepnaam;Achternaam;Groep\n" + b"1;A;B;5\n" * 4

    with pytest.raises(BadRequest):
        roster.read_table(data, roster.PUPIL_COLUMNS)


@pytest.mark.parametrize(
    ("name", "group_id"),
    [("Groep 1/2a", "g-groep-1-2a"), ("H2 b", "g-h2-b"), ("3C", "g-3c")],
)
def test_new_group_ids_are_made_from_the_name(name: str, group_id: str):
    assert roster.new_group_id(name) == group_id
