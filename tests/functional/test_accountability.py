"""The accountability report for the MR and the inspectorate: right totals, no
personal data, small counts that stay hidden, no live formulas, every export
audited, and only for the roles that see the whole school."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from pypdf import PdfReader
from werkzeug.test import Client as WsgiClient

from app import app
from benchmarks.dynamo_meter import metered
from chalicelib import accountability, accountability_files, audit
from chalicelib.accountability import HIDDEN, SMALL
from chalicelib.i18n import gettext_for
from chalicelib.models import AuditEvent, Category, Label, Place, Report
from chalicelib.weeks import local_today
from local.front import Front

from .staff_fixtures import BROWSER_ACCEPT, SCHOOL, StaffBrowser, StaffWorld, html

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

YEAR = accountability.current_school_year(local_today())
QUERY = urlencode({"year": YEAR})
# Labels a school could type into its configuration: a spreadsheet would run
# the first two as formulas; the third has characters Latin-1 lacks.
FORMULA_LABEL = '=HYPERLINK("http://example.test/x","klik")'
COMMAND_LABEL = "+cmd|' /C calc'!A0"
ODD_LABEL = "Fietsenstalling – achter 😀"


@dataclass
class Exported:
    world: StaffWorld
    reports: list[Report]
    coordinator: StaffBrowser
    csv_text: str
    rows: list[list[str]]
    pdf: bytes
    pdf_text: str


def _configure_labels(world: StaffWorld) -> None:
    school = world.schools[SCHOOL]
    school.categories = [
        *school.categories,
        Category(id="formule", label=Label(nl=FORMULA_LABEL, en=FORMULA_LABEL)),
        Category(id="opdracht", label=Label(nl=COMMAND_LABEL, en=COMMAND_LABEL)),
    ]
    school.locations = [
        *school.locations,
        Place(id="stalling", label=Label(nl=ODD_LABEL, en=ODD_LABEL)),
    ]
    school.save()


def _submit(world: StaffWorld) -> list[Report]:
    """23 at the playground, 3 (a small count) in the formula category at the
    bike shed, 7 in the command category in the classroom."""
    plan = (
        [("plein", "pesten", "g-5")] * 23
        + [("stalling", "formule", "g-3")] * 3
        + [("klas", "opdracht", "g-3")] * 7
    )
    return [
        world.report(
            SCHOOL,
            group,
            location=location,
            categories=[category],
            description=(
                f"Kenmerk {world.fake.uuid4()}: {world.fake.name()} werd "
                f"{world.fake.word()} genoemd bij {world.fake.street_name()}."
            ),
        )
        for location, category, group in plan
    ]


def _pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def _csv_rows(text: str) -> list[list[str]]:
    assert text.startswith(accountability_files.BYTE_ORDER_MARK)
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


@pytest.fixture(scope="module")
def exported(staff_world: StaffWorld) -> Exported:
    _configure_labels(staff_world)
    reports = _submit(staff_world)
    coordinator = staff_world.sign_in("coordinator")

    csv_response = coordinator.get(f"/staff/insights/accountability.csv?{QUERY}")
    pdf_response = coordinator.get(f"/staff/insights/accountability.pdf?{QUERY}")

    assert csv_response.status_code == 200
    assert pdf_response.status_code == 200
    text = csv_response.body.decode("utf-8")
    return Exported(
        staff_world,
        reports,
        coordinator,
        text,
        _csv_rows(text),
        pdf_response.body,
        _pdf_text(pdf_response.body),
    )


def _figures(rows: list[list[str]], table: str) -> dict[str, str]:
    return {row[1]: row[2] for row in rows if len(row) == 3 and row[0] == table}


def _nl(msgid: str) -> str:
    return gettext_for("nl", msgid)


def _place(world: StaffWorld, place_id: str) -> str:
    [place] = [p for p in world.schools[SCHOOL].locations if p.id == place_id]
    return str(place.label.nl)


def _personal_data(reports: list[Report]) -> Iterator[str]:
    for report in reports:
        yield report.description
        yield from (person.name for person in report.persons)
        if report.contact and report.contact.name:
            yield report.contact.name
        if report.contact and report.contact.email:
            yield report.contact.email


def test_totals_match_the_reports_submitted(exported):
    stored = [r for r in Report.query(SCHOOL) if r.received_week]
    by_location = Counter(r.location for r in stored)

    totals = _figures(exported.rows, _nl("Reports received"))
    locations = _figures(exported.rows, _nl("By location"))
    statuses = _figures(exported.rows, _nl("By status at the time of this export"))

    assert len(stored) == 33
    assert totals["Totaal"] == "33"
    assert locations["Totaal"] == "33"
    assert by_location == {"plein": 23, "klas": 7, "stalling": 3}
    assert locations[_place(exported.world, "plein")] == "23"
    assert statuses == {
        _nl("New"): "33",
        _nl("Being handled"): "0",
        _nl("Follow-up"): "0",
        _nl("Closed"): "0",
        "Totaal": "33",
    }


def test_small_counts_are_shown_as_less_than_five_and_cannot_be_worked_out(exported):
    locations = _figures(exported.rows, _nl("By location"))
    categories = _figures(exported.rows, _nl("By category"))

    assert locations[ODD_LABEL] == SMALL
    assert locations[_place(exported.world, "klas")] == HIDDEN  # 7, guards the 3
    assert categories["'" + FORMULA_LABEL] == SMALL
    assert categories["'" + COMMAND_LABEL] == HIDDEN
    tables = {row[0] for row in exported.rows[6:] if len(row) == 3}
    for table in tables - {"Tabel"}:
        figures = _figures(exported.rows, table)
        hidden = [v for k, v in figures.items() if k != "Totaal" and v in (SMALL, "x")]
        if figures["Totaal"].isdigit():
            assert len(hidden) != 1, table


def test_no_name_or_report_text_reaches_the_csv_or_the_pdf(exported):
    for secret in _personal_data(exported.reports):
        assert secret not in exported.csv_text
        assert secret not in exported.pdf_text
        assert secret.encode("latin-1", "replace") not in exported.pdf


def test_labels_that_look_like_formulas_are_neutralised(exported):
    cells = [cell for row in exported.rows for cell in row]

    assert "'" + FORMULA_LABEL in cells
    assert "'" + COMMAND_LABEL in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@"))]


def test_csv_opens_in_dutch_excel(exported):
    assert exported.csv_text.startswith("\ufeffVerantwoordingsrapportage\r\n")
    assert exported.rows[1] == ["School", exported.world.schools[SCHOOL].name]
    assert ["Tabel", "Onderdeel", "Aantal"] in exported.rows


def test_pdf_text_holds_the_totals_and_the_suppression_marks(exported):
    assert exported.pdf.startswith(b"%PDF-")
    assert "Verantwoordingsrapportage" in exported.pdf_text
    assert "Totaal 33" in exported.pdf_text
    assert f"{_place(exported.world, 'plein')} 23" in exported.pdf_text
    assert SMALL in exported.pdf_text
    assert "Fietsenstalling - achter ?" in exported.pdf_text


def test_downloads_are_attachments_of_the_right_type(exported):
    csv_response = exported.coordinator.get(
        f"/staff/insights/accountability.csv?{QUERY}"
    )
    pdf_response = exported.coordinator.get(
        f"/staff/insights/accountability.pdf?{QUERY}"
    )

    assert csv_response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert pdf_response.headers["Content-Type"] == "application/pdf"
    assert pdf_response.headers["Content-Disposition"] == (
        f'attachment; filename="verantwoording-{SCHOOL}-{YEAR}.pdf"'
    )
    assert csv_response.headers["Cache-Control"] == "no-store"


def test_a_period_of_dates_counts_the_reports_of_its_weeks(exported):
    # Three days either side of today always hold this week's Thursday.
    first = (local_today() - timedelta(days=3)).isoformat()
    last = (local_today() + timedelta(days=3)).isoformat()
    query = urlencode({"from": first, "to": last})

    page = exported.coordinator.get(f"/staff/insights/accountability?{query}")
    response = exported.coordinator.get(f"/staff/insights/accountability.csv?{query}")

    rows = _csv_rows(response.body.decode("utf-8"))
    assert _figures(rows, _nl("Reports received"))["Totaal"] == "33"
    assert f"accountability.csv?from={first}&amp;to={last}" in html(page)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="verantwoording-{SCHOOL}-{first}_{last}.csv"'
    )


def _exports() -> list[AuditEvent]:
    trail = audit.school_trail(SCHOOL)
    return [e for e in AuditEvent.query(trail) if e.action == "accountability_export"]


@pytest.mark.parametrize("kind", ["csv", "pdf"])
def test_every_export_is_written_to_the_audit_trail(exported, kind):
    before = len(_exports())

    response = exported.coordinator.get(f"/staff/insights/accountability.{kind}")

    entries = _exports()
    newest = max(entries, key=lambda e: e.entry_id)
    assert response.status_code == 200
    assert len(entries) == before + 1
    assert newest.actor == exported.world.member("coordinator").staff_id
    assert newest.actor_role == "coordinator"
    assert newest.detail.as_dict() == {
        "format": kind,
        "period": YEAR,
        "weeks": len(accountability.period_from_query({}, local_today()).weeks),
    }


def test_the_preview_is_not_an_export(exported):
    before = len(_exports())

    response = exported.coordinator.get(f"/staff/insights/accountability?{QUERY}")

    body = html(response)
    assert response.status_code == 200
    assert len(_exports()) == before
    assert SMALL.replace("<", "&lt;") in body
    assert f"/staff/insights/accountability.pdf?{QUERY}" in body
    for secret in _personal_data(exported.reports):
        assert secret not in body


def test_insights_overview_links_to_the_report_for_leadership(exported):
    leadership = exported.world.sign_in("leadership")
    teacher = exported.world.sign_in("teacher")

    assert "/staff/insights/accountability" in html(leadership.get("/staff/insights"))
    assert "/staff/insights/accountability" not in html(teacher.get("/staff/insights"))


@pytest.mark.parametrize("role", ["teacher", "administrator"])
@pytest.mark.parametrize("path", ["", ".csv", ".pdf"])
def test_teachers_and_administrators_get_not_found(exported, role, path):
    browser = exported.world.sign_in(role)
    before = len(_exports())

    response = browser.get(f"/staff/insights/accountability{path}?{QUERY}")

    assert response.status_code == 404
    assert _place(exported.world, "plein") not in html(response)
    assert len(_exports()) == before


def test_pdf_arrives_byte_exact_through_the_local_front(exported):
    front = WsgiClient(Front(app, [SCHOOL], "http://127.0.0.1:8000"), use_cookies=False)
    cookie = "; ".join(f"{k}={v}" for k, v in exported.coordinator.cookies.items())
    school = exported.world.schools[SCHOOL]
    chosen = accountability.period_from_query({"year": YEAR}, local_today())
    expected = accountability_files.pdf_bytes(
        accountability.build(school, chosen, "nl"), local_today()
    )

    response = front.get(
        f"/staff/insights/accountability.pdf?{QUERY}",
        headers={"Cookie": cookie, "Accept": BROWSER_ACCEPT},
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.get_data() == expected == exported.pdf


def test_pdf_is_refused_to_a_client_that_accepts_only_html(exported):
    response = exported.coordinator.get(
        f"/staff/insights/accountability.pdf?{QUERY}", headers={"Accept": "text/html"}
    )

    assert response.status_code == 400


def _export_counts(browser: StaffBrowser, kind: str) -> dict[str, object]:
    with metered() as meter:
        response = browser.get(f"/staff/insights/accountability.{kind}?{QUERY}")
    assert response.status_code == 200
    return meter.counts()


def test_export_cost_is_the_same_with_10_and_100_reports(staff_world):
    # The other school: its reports are only the ones added here.
    other = "het-baken-college"
    group = staff_world.schools[other].groups[0].id
    leadership = staff_world.sign_in("leadership", other)

    def seed(count: int) -> None:
        for _ in range(count):
            staff_world.report(other, group)

    def measure() -> dict[str, dict[str, object]]:
        return {kind: _export_counts(leadership, kind) for kind in ("csv", "pdf")}

    seed(10)
    measure()  # the first requests set up clients and keys
    small = measure()
    seed(90)
    large = measure()

    assert large == small
    for counts in small.values():
        assert counts["scans"] == 0
        assert set(counts["operations"]) <= {"GetItem", "Query", "PutItem"}
