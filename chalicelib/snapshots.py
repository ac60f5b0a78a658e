"""The leadership snapshot: the dashboard of a past week, frozen and mailed.

The figures are the dashboard's (chalicelib/dashboard.py) as it shows on the
Sunday that ends the week, read with the rights of the school's leadership.
They are stored once per school and week (WeekSnapshot) and never rewritten,
so a week keeps its figures after reports are removed as spam or anonymised
under the retention rules. Open cases and overdue follow-ups are the state at
the moment of freezing (the Monday morning after the week): the counters keep
no history of them.

The mail, its plain-text part and the PDF are rendered from one view of the
stored snapshot, so all three show the same figures. Figures and ids only:
labels come from the school's configuration, never a name or a report text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import PutError

from chalicelib import dashboard
from chalicelib.access import LEADERSHIP, StaffContext
from chalicelib.accountability_files import PAGE_WIDTH, latin1
from chalicelib.auth import Identity
from chalicelib.casework import EFFECTS
from chalicelib.config import settings
from chalicelib.digests import Attachment, Mail, week_monday
from chalicelib.i18n import N_, gettext_for
from chalicelib.models import School, StaffMember, WeekSnapshot
from chalicelib.sessions import Session
from chalicelib.templating import render
from chalicelib.weeks import SCHOOL_TZ, now_utc

if TYPE_CHECKING:
    from fpdf import FPDF

# The staff id of the context the job reads with; no staff member has it.
SNAPSHOT_READER = "system-leadership-snapshot"
# Weeks shown as bars in the mail and the PDF; the stored trend has the whole year.
BAR_WEEKS = 8

SUBJECT = N_("Week %(week)s: the dashboard of %(school)s")
TITLE = N_("Dashboard of week %(week)s")
NOTE = N_(
    "Figures by week of receipt, frozen on %(day)s. Open cases and overdue "
    "follow-ups as they stood then."
)


def leadership_view(school: School) -> StaffContext:
    """What the school's leadership may read, for a job nobody is signed in to.

    Leadership reads every report of its school and changes none; the member
    here exists only in memory and is never stored or audited as a person.
    """
    member = StaffMember(
        school.school_id,
        SNAPSHOT_READER,
        email="",
        name="",
        roles=[LEADERSHIP],
        groups=[],
    )
    session = Session(email="", subject=SNAPSHOT_READER, csrf="")
    return StaffContext(member, session, Identity(SNAPSHOT_READER, "", "", 0))


def week_sunday(week: str) -> date:
    return week_monday(week) + timedelta(days=6)


def figures(school: School, week: str) -> WeekSnapshot:
    """The dashboard of `week` as a snapshot, not stored."""
    board = dashboard.dashboard(leadership_view(school), school, week_sunday(week))
    handling = board.handling
    return WeekSnapshot(
        school.school_id,
        week,
        created_at=now_utc(),
        school_year=board.school_year,
        reports=board.this_week,
        urgent=board.this_week_urgent,
        week_before=board.last_week,
        week_before_urgent=board.last_week_urgent,
        recent_average=board.recent_average,
        year_total=board.year_total,
        open_cases=handling.open_total,
        overdue=board.overdue,
        acted=handling.acted,
        median_hours=handling.median_hours,
        within_day=handling.within_day,
        open_by_age=[[b.low, b.high, b.count] for b in handling.open_by_age],
        categories=[[t.key, t.current] for t in board.categories],
        trend=[[w.week, w.total] for w in board.trend],
        effects=[
            {
                "kind": row.kind,
                "interventions": row.interventions,
                "effects": dict(row.effects),
                "followed": row.followed,
                "recurred": row.recurred,
            }
            for row in board.effects.rows
        ],
    )


def stored(school_id: str, week: str) -> WeekSnapshot | None:
    try:
        return WeekSnapshot.get(school_id, week, consistent_read=True)
    except WeekSnapshot.DoesNotExist:
        return None


def freeze(school: School, week: str) -> WeekSnapshot:
    """The stored snapshot of the week; made and stored now if there is none.

    A conditional put: of two runs at once one stores, the other reads what
    was stored, and a rerun never overwrites the figures of its week.
    """
    existing = stored(school.school_id, week)
    if existing is not None:
        return existing
    snapshot = figures(school, week)
    try:
        snapshot.save(condition=WeekSnapshot.week.does_not_exist())
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        return WeekSnapshot.get(school.school_id, week, consistent_read=True)
    return snapshot


# --- one view for the mail and the PDF --------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    width: int  # percent of the longest bar of its section
    detail: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    bars: list[Bar]
    empty: str = ""  # said instead when there are no bars


@dataclass(frozen=True)
class View:
    language: str
    school_name: str
    week: str
    title: str
    subject: str
    scope: str
    key_figures: list[tuple[str, str]]
    sections: list[Section]
    note: str
    link: str


def _bars(rows: list[tuple[str, int, str]]) -> list[Bar]:
    top = max([count for _, count, _ in rows] + [1])
    return [
        Bar(label, count, round(100 * count / top), detail)
        for label, count, detail in rows
    ]


def _number(value: float, language: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if language == "nl" else text


def _whole(value: float) -> str:
    return str(int(value))


def _hours(hours: float | None, language: str) -> str:
    if hours is None:
        return "-"
    hours = int(hours)
    if hours < 48:
        return gettext_for(language, N_("%(hours)s hours")) % {"hours": hours}
    return gettext_for(language, N_("%(days)s days")) % {"days": hours // 24}


def _age(low: int, high: int | None, language: str) -> str:
    def t(msgid: str) -> str:
        return gettext_for(language, msgid)

    if high is None:
        return t(N_("%(weeks)s weeks or more")) % {"weeks": low}
    if low == 0:
        return t(N_("this week"))
    if low == high:
        return t(N_("%(weeks)s week ago")) % {"weeks": low}
    return t(N_("%(low)s to %(high)s weeks")) % {"low": low, "high": high}


def _labels(choices: Any, language: str) -> dict[str, str]:
    return {
        str(c.id): str(c.label.en if language == "en" else c.label.nl) for c in choices
    }


def _effect_names(language: str) -> dict[str, str]:
    names = (N_("stopped"), N_("less"), N_("unchanged"), N_("worse"))
    return {e: gettext_for(language, n) for e, n in zip(EFFECTS, names, strict=True)}


def view(school: School, snapshot: WeekSnapshot, language: str) -> View:
    def t(msgid: str, **values: object) -> str:
        text = gettext_for(language, msgid)
        return text % values if values else text

    week = str(snapshot.week)
    made = snapshot.created_at.astimezone(SCHOOL_TZ).date().isoformat()
    categories = _labels(school.categories, language)
    kinds = _labels(school.interventions, language)
    effect_names = _effect_names(language)

    key_figures = [
        (t(N_("Reports in week %(week)s"), week=week), _whole(snapshot.reports)),
        (t(N_("Urgent reports in week %(week)s"), week=week), _whole(snapshot.urgent)),
        (t(N_("Reports the week before")), _whole(snapshot.week_before)),
        (
            t(
                N_("Average per week in the %(weeks)s weeks before"),
                weeks=dashboard.RECENT_WEEKS,
            ),
            _number(float(snapshot.recent_average), language),
        ),
        (t(N_("Open cases")), _whole(snapshot.open_cases)),
        (t(N_("Overdue follow-ups")), _whole(snapshot.overdue)),
        (
            t(N_("Median time to first action (school year)")),
            _hours(snapshot.median_hours, language),
        ),
        (t(N_("Reports this school year")), _whole(snapshot.year_total)),
    ]
    effects = []
    for row in snapshot.effects:
        detail = ", ".join(
            f"{effect_names.get(e, e)} {n}" for e, n in row["effects"].items() if n
        )
        label = kinds.get(row["kind"], row["kind"])
        effects.append((label, int(row["interventions"]), detail))
    sections = [
        Section(
            t(N_("The last %(weeks)s weeks"), weeks=BAR_WEEKS),
            _bars([(w, int(n), "") for w, n in snapshot.trend[-BAR_WEEKS:]]),
        ),
        Section(
            t(N_("Category mix this school year")),
            _bars([(categories.get(c, c), int(n), "") for c, n in snapshot.categories]),
            t(N_("No reports this school year yet.")),
        ),
        Section(
            t(N_("Open cases by age")),
            _bars(
                [
                    (_age(lo, hi, language), int(n), "")
                    for lo, hi, n in snapshot.open_by_age
                ]
            ),
        ),
        Section(
            t(N_("Effect of interventions this school year")),
            _bars(effects),
            t(N_("No interventions this school year yet.")),
        ),
    ]
    return View(
        language=language,
        school_name=str(school.name),
        week=week,
        title=t(TITLE, week=week),
        subject=t(SUBJECT, week=week, school=school.name),
        scope=t(N_("school year %(year)s"), year=snapshot.school_year),
        key_figures=key_figures,
        sections=sections,
        note=t(NOTE, day=made),
        link=f"{settings.public_base_url}/staff/dashboard",
    )


def pdf_name(week: str) -> str:
    return f"m5-dashboard-{week}.pdf"


def leadership_mail(school: School, snapshot: WeekSnapshot, language: str) -> Mail:
    """The mail in one language: HTML with bars, plain text, and the PDF."""
    shown = view(school, snapshot, language)
    return Mail(
        subject=shown.subject,
        text=render("mail/leadership_week.txt", language, view=shown),
        html=render("mail/leadership_week.html", language, view=shown),
        attachments=(
            Attachment(
                pdf_name(shown.week), "application/pdf", pdf_bytes(shown, snapshot)
            ),
        ),
    )


LABEL_WIDTH = 70  # mm: label, then the bar, then the number
BAR_WIDTH = 80
BAR_HEIGHT = 4


def pdf_bytes(shown: View, snapshot: WeekSnapshot) -> bytes:
    """An A4 page of the snapshot: key figures, then each section as bars."""

    # Imported here, as in accountability_files: fpdf2 is slow to import and
    # only the Monday jobs and the accountability download need it.
    from fpdf import FPDF  # noqa: PLC0415

    pdf = FPDF(format="A4")
    # The snapshot's own creation time: the same snapshot gives the same file.
    pdf.set_creation_date(snapshot.created_at.astimezone(UTC))
    pdf.set_title(latin1(shown.title))
    pdf.set_creator("M5 Monitor")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()

    pdf.set_font("helvetica", style="B", size=16)
    pdf.cell(PAGE_WIDTH, 10, latin1(shown.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    heading = f"{shown.school_name} - {shown.scope}"
    pdf.multi_cell(PAGE_WIDTH, 6, latin1(heading), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=8)
    pdf.multi_cell(PAGE_WIDTH, 4.5, latin1(shown.note), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    pdf.set_font("helvetica", size=10)
    for label, value in shown.key_figures:
        pdf.cell(PAGE_WIDTH - 30, 6, latin1(label), border="B")
        pdf.cell(
            30, 6, latin1(value), border="B", align="R", new_x="LMARGIN", new_y="NEXT"
        )
    for section in shown.sections:
        _pdf_section(pdf, section)
    return bytes(pdf.output())


def _pdf_section(pdf: FPDF, section: Section) -> None:
    if pdf.get_y() > pdf.h - 50:
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font("helvetica", style="B", size=12)
    pdf.cell(PAGE_WIDTH, 8, latin1(section.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=9)
    if not section.bars and section.empty:
        pdf.cell(PAGE_WIDTH, 6, latin1(section.empty), new_x="LMARGIN", new_y="NEXT")
    for bar in section.bars:
        x, y = pdf.get_x(), pdf.get_y()
        pdf.cell(LABEL_WIDTH, 6, latin1(bar.label)[:45])
        pdf.set_fill_color(31, 95, 168)
        if bar.width:
            pdf.rect(
                x + LABEL_WIDTH, y + 1, BAR_WIDTH * bar.width / 100, BAR_HEIGHT, "F"
            )
        pdf.set_x(x + LABEL_WIDTH + BAR_WIDTH + 2)
        pdf.cell(
            PAGE_WIDTH - LABEL_WIDTH - BAR_WIDTH - 2,
            6,
            str(bar.count),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        if bar.detail:
            pdf.set_x(x + 4)
            pdf.cell(
                PAGE_WIDTH - 4, 5, latin1(bar.detail), new_x="LMARGIN", new_y="NEXT"
            )
