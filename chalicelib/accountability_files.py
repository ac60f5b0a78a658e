"""The accountability report as files: CSV for a spreadsheet, PDF to hand over.

Both carry only what `accountability.build` produced: labels from the school's
configuration and suppressed figures, never names or report texts.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from chalicelib.accountability import HIDDEN, Figures, Section
from chalicelib.i18n import N_, gettext_for

if TYPE_CHECKING:
    from fpdf import FPDF

# A cell starting with one of these is read as a formula by Excel, LibreOffice or
# Google Sheets (CSV injection); category and location labels are free text set
# by the school, so every text cell is checked, not only the ones we expect.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Dutch Excel opens a CSV by the list separator of the Dutch locale (";") and
# reads it as UTF-8 only with a byte order mark; the comma is the decimal sign.
# The text goes out as the response body, which is always sent as UTF-8.
CSV_DELIMITER = ";"
BYTE_ORDER_MARK = "\ufeff"

TITLE = N_("Accountability report")
LEGEND = (
    N_("<5: 1 to 4 reports, not shown exactly."),
    N_("x: not shown, so that a small number cannot be worked out from a total."),
    N_("Reports count by week of receipt; a week counts in the month of its Thursday."),
    N_("Categories and groups count mentions: a report can have several of each."),
    N_("Figures only: no names and no report texts."),
)
WITHHELD = N_("Not shown: too few reports to show this table safely.")


def neutralised(text: str) -> str:
    """A cell a spreadsheet shows as the text it is, never runs as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _period_text(figures: Figures) -> str:
    chosen, language = figures.period, figures.language
    if chosen.school_year:
        text = gettext_for(language, N_("School year %(year)s")) % {
            "year": chosen.school_year
        }
    else:
        text = gettext_for(language, N_("%(first)s to %(last)s")) % {
            "first": chosen.first_day.isoformat(),
            "last": chosen.last_day.isoformat(),
        }
    if not chosen.weeks:
        none = gettext_for(language, N_("no weeks"))
        return f"{text} ({none})"
    weeks = gettext_for(language, N_("weeks %(first)s to %(last)s")) % {
        "first": chosen.weeks[0],
        "last": chosen.weeks[-1],
    }
    return f"{text} ({weeks})"


def _heading(figures: Figures, created: date) -> list[tuple[str, str]]:
    def t(msgid: str) -> str:
        return gettext_for(figures.language, msgid)

    return [
        (t(N_("School")), figures.school_name),
        (t(N_("Period")), _period_text(figures)),
        (t(N_("Created on")), created.isoformat()),
    ]


def csv_text(figures: Figures, created: date) -> str:
    """One row per figure: table, what, number; the heading and legend first."""

    def t(msgid: str) -> str:
        return gettext_for(figures.language, msgid)

    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")

    def row(*cells: str) -> None:
        writer.writerow([neutralised(cell) for cell in cells])

    row(t(TITLE))
    for name, value in _heading(figures, created):
        row(name, value)
    for line in LEGEND:
        row(t(N_("Explanation")), t(line))
    row()
    row(t(N_("Table")), t(N_("Item")), t(N_("Number")))
    for section in figures.sections:
        if section.withheld:
            row(section.title, t(WITHHELD), HIDDEN)
        for item in section.rows:
            row(section.title, item.label, item.shown)
        row(section.title, t(N_("Total")), section.total_shown)
    return BYTE_ORDER_MARK + out.getvalue()


# The PDF uses the core font Helvetica, which every PDF reader has, so nothing is
# embedded and the text extracts as written. Its encoding is Latin-1: Dutch fits,
# but a school's own label may not; such characters become their closest Latin-1
# form (a dash becomes a hyphen, a Polish l a plain l) or "?", so an odd label
# never fails the export.
_LATIN1_NEAR = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u20ac": "EUR",
        "\u0142": "l",
        "\u0141": "L",
    }
)


def latin1(text: str) -> str:
    result = []
    for char in text.translate(_LATIN1_NEAR):
        if char.isprintable() is False:
            result.append(" ")
        elif ord(char) < 256:
            result.append(char)
        else:
            plain = unicodedata.normalize("NFKD", char)
            plain = "".join(c for c in plain if ord(c) < 256 and c.isprintable())
            result.append(plain or "?")
    return "".join(result)


PAGE_WIDTH = 170  # mm of text width on A4 with 20 mm margins
NUMBER_WIDTH = 30


def pdf_bytes(figures: Figures, created: date) -> bytes:
    """An A4 PDF with each table as label and number; text extractable."""

    # Imported here, not at the top: fpdf2 and fontTools take about half a second
    # to import, which every cold start of the function (the public report form
    # included) would otherwise pay for a page few people open.
    from fpdf import FPDF  # noqa: PLC0415

    def t(msgid: str) -> str:
        return gettext_for(figures.language, msgid)

    pdf = FPDF(format="A4")
    # A fixed creation date (the export day): the same figures give the same file.
    pdf.set_creation_date(datetime.combine(created, time.min, UTC))
    pdf.set_title(latin1(t(TITLE)))
    pdf.set_creator("M5 Monitor")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()

    pdf.set_font("helvetica", style="B", size=16)
    pdf.cell(PAGE_WIDTH, 10, latin1(t(TITLE)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    for name, value in _heading(figures, created):
        pdf.multi_cell(
            PAGE_WIDTH, 6, latin1(f"{name}: {value}"), new_x="LMARGIN", new_y="NEXT"
        )
    pdf.ln(2)
    pdf.set_font("helvetica", size=8)
    for line in LEGEND:
        pdf.multi_cell(PAGE_WIDTH, 4.5, latin1(t(line)), new_x="LMARGIN", new_y="NEXT")

    for section in figures.sections:
        _pdf_section(pdf, section, t)
    return bytes(pdf.output())


def _pdf_section(pdf: FPDF, section: Section, t: Callable[[str], str]) -> None:
    # Keep a title with at least its first rows on one page.
    if pdf.get_y() > pdf.h - 50:
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font("helvetica", style="B", size=12)
    pdf.cell(PAGE_WIDTH, 8, latin1(section.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    if section.withheld:
        pdf.multi_cell(
            PAGE_WIDTH, 6, latin1(t(WITHHELD)), new_x="LMARGIN", new_y="NEXT"
        )
    label_width = PAGE_WIDTH - NUMBER_WIDTH
    for row in section.rows:
        pdf.cell(label_width, 6, latin1(row.label)[:90], border="B")
        pdf.cell(
            NUMBER_WIDTH,
            6,
            row.shown,
            border="B",
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.set_font("helvetica", style="B", size=10)
    pdf.cell(label_width, 6, latin1(t(N_("Total"))))
    pdf.cell(
        NUMBER_WIDTH, 6, section.total_shown, align="R", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("helvetica", size=10)
