"""Stored text on staff pages is shown as text: never markup, never a template.

Every string of the Big List of Naughty Strings, plus template-injection probes,
is stored in every free-text place staff pages show: the report's description,
place note, witnesses, names and contact; notes, observations and messages both
ways; pupils' and staff members' names; and the school's own labels. Reports
are stored without validation, as if any path had let the text in.

Each page must then show each string escaped exactly as Jinja escapes it, carry
no element or event-handler attribute the clean page does not have, and show
template syntax literally.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import chalice.local
import pytest
from markupsafe import escape

from chalicelib.models import Pupil, Report, School, StaffMember

from .staff_fixtures import SCHOOL, StaffBrowser, StaffWorld, html

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

BLNS = Path("/work/shared/data/naughty-strings/blns.json")
# Template syntax that would change the page if it were ever rendered as a
# template: "m5m5m5" and "49" would appear, or the CSRF token would leak.
TEMPLATE_PROBES = [
    "{{7*7}}",
    "{{ 'm5' * 3 }}",
    "{% for x in 'abc' %}m5{% endfor %}",
    "{{ staff.session.csrf }}",
    "{{ config.items() }}{{ self.__init__.__globals__ }}",
    "${7*7} #{7*7} <%= 7*7 %>",
    "{{ _('Sign out') }}",
    "%(name)s %(date)s {name} {0}",
]
NAUGHTY: list[str] = json.loads(BLNS.read_text(encoding="utf-8")) + TEMPLATE_PROBES
# Strings the brief singles out: markup, template syntax and script addresses.
CRITICAL = [
    s
    for s in NAUGHTY
    if "<" in s or "{{" in s or "{%" in s or "javascript:" in s.lower()
]
# Fits a reporter's message (2000) and a staff note (4000) when joined.
CHUNK_CHARS = 1500
EVENT_HANDLER_PREFIX = "on"


def _chunks(strings: list[str]) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    for text in strings:
        if sum(len(s) + 1 for s in chunks[-1]) + len(text) > CHUNK_CHARS:
            chunks.append([])
        chunks[-1].append(text)
    return chunks


CHUNKS = _chunks(NAUGHTY)


class Structure(HTMLParser):
    """The elements and attributes of a page, as a browser's parser sees them."""

    def __init__(self, body: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.urls: list[str] = []
        self.feed(body)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            self.attributes.add(name)
            if name in {"href", "src", "action", "formaction"}:
                self.urls.append(value or "")


def assert_shown_as_text(body: str, strings: list[str], clean: Structure) -> None:
    page = Structure(body)
    assert page.tags <= clean.tags, page.tags - clean.tags
    assert page.attributes <= clean.attributes, page.attributes - clean.attributes
    assert not [a for a in page.attributes if a.startswith(EVENT_HANDLER_PREFIX)]
    assert not [u for u in page.urls if not u.startswith(("/", "#"))]
    assert "<script" not in body.lower()
    assert "m5m5m5" not in body
    missing = [s for s in strings if str(escape(s)) not in body]
    assert missing == []


@dataclass
class Scene:
    world: StaffWorld
    reports: list[Report]
    pupils: list[Pupil]
    school_texts: list[str]
    staff_texts: list[str]
    clean: dict[str, Structure]


def _label(text: str) -> dict[str, str]:
    return {"nl": text, "en": text}


def _name_the_school(school: School) -> list[str]:
    """The school's own labels (set by its administrator) become naughty strings."""
    texts = iter(CRITICAL * 2)
    school.name = next(texts)
    for group in school.groups:
        group.name = next(texts)
    for items in (school.categories, school.locations, school.interventions):
        for item in items:
            text = next(texts)
            item.label.nl = text
            item.label.en = text
    school.save()
    return [school.name] + [i.label.nl for i in (*school.categories, *school.locations)]


def _pupil(index: int, chunk: list[str]) -> Pupil:
    # The last name is a key of the roster's group index: at most 1024 bytes, and
    # never empty, so it carries one string and the pupil's number.
    pupil = Pupil(
        SCHOOL,
        f"{400000 + index}",
        first_name=" ".join(chunk[:-1]),
        last_name=f"{chunk[-1]} {index}",
        group="g-5",
        school_group=f"{SCHOOL}#g-5",
    )
    pupil.save()
    return pupil


def _report(world: StaffWorld, chunk: list[str]) -> Report:
    joined = "\n".join(chunk)
    return world.report(
        SCHOOL,
        "g-5",
        description=joined,
        location_note=" ".join(chunk),
        witnesses=joined,
        contact={"name": joined, "email": None, "phone": "0612345678"},
        persons=[
            {"role": "hurt" if n % 2 else "did_it", "name": s, "group": "g-5"}
            for n, s in enumerate(chunk)
        ],
    )


@dataclass
class Staffroom:
    """The coordinator and the teacher of group 5, signed in once for the module."""

    world: StaffWorld
    coordinator: StaffBrowser
    teacher: StaffBrowser

    def handle(self, report: Report, chunk: list[str], pupil: Pupil, n: int) -> None:
        """Note, observation and messages both ways with the chunk; link a pupil."""
        joined = "\n".join(chunk)
        base = f"/staff/reports/{report.report_id}"
        for browser, action in (
            (self.coordinator, "notes"),
            (self.teacher, "observations"),
            (self.coordinator, "messages"),
        ):
            posted = browser.post(f"{base}/{action}", {"text": joined})
            assert posted.status_code == 303, (action, posted.body[:300])
        linked = self.coordinator.post(
            f"{base}/pupils", {"person": "0", "pupil_id": pupil.pupil_id}
        )
        assert linked.status_code == 303
        # Each reply comes from its own address: the lookup limit is per client.
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                chalice.local.LambdaEventConverter, "LOCAL_SOURCE_IP", f"10.20.0.{n}"
            )
            replied = self.world.http.post(
                f"/schools/{SCHOOL}/messages",
                headers={"Content-Type": "application/json"},
                body=json.dumps(
                    {
                        "receipt_code": self.world.receipts[report.report_id],
                        "text": joined,
                    }
                ).encode(),
            )
        assert replied.status_code == 201, replied.body[:300]

    def structures(self, report: Report, pupil: Pupil) -> dict[str, Structure]:
        base = f"/staff/reports/{report.report_id}"
        pages = {
            "detail": self.coordinator.get(base),
            "teacher_detail": self.teacher.get(base),
            "list": self.coordinator.get("/staff/"),
            "audit": self.coordinator.get(f"{base}/audit"),
            "history": self.coordinator.get(f"/staff/pupils/{pupil.pupil_id}"),
        }
        return {name: Structure(html(page)) for name, page in pages.items()}


@pytest.fixture(scope="module")
def scene(staff_world: StaffWorld) -> Scene:
    world = staff_world
    room = Staffroom(world, world.sign_in("coordinator"), world.sign_in("teacher"))
    plain = [world.fake.first_name(), world.fake.sentence()]
    clean_pupil = _pupil(0, plain)
    clean_report = _report(world, plain)
    room.handle(clean_report, plain, clean_pupil, 0)
    clean = room.structures(clean_report, clean_pupil)

    school_texts = _name_the_school(world.schools[SCHOOL])
    # The colleagues a case can be assigned to: their names are on every case page.
    assignable = (
        "staff-coordinator",
        "staff-ib",
        "staff-leerkracht",
        "staff-leerkracht2",
    )
    staff_texts = []
    for staff_id, chunk in zip(assignable, CHUNKS, strict=False):
        member = StaffMember.get(SCHOOL, staff_id)
        member.update(actions=[StaffMember.name.set("\n".join(chunk))])
        staff_texts.append("\n".join(chunk))

    pupils, reports = [], []
    for index, chunk in enumerate(CHUNKS, start=1):
        pupils.append(_pupil(index, chunk))
        reports.append(_report(world, chunk))
        room.handle(reports[-1], chunk, pupils[-1], index)
    return Scene(world, reports, pupils, school_texts, staff_texts, clean)


def test_every_critical_string_is_in_the_list():
    assert len(NAUGHTY) > 500
    assert {s for chunk in CHUNKS for s in chunk} == set(NAUGHTY)
    assert len(CRITICAL) > 200


@pytest.mark.parametrize("role", ["coordinator", "teacher", "leadership"])
def test_list_shows_school_labels_as_text(scene, role):
    browser = scene.world.sign_in(role)
    groups = scene.world.schools[SCHOOL].groups
    shown_groups = [g.name for g in groups if role != "teacher" or g.id == "g-5"]

    response = browser.get("/staff/")

    assert response.status_code == 200
    assert_shown_as_text(
        html(response), [*scene.school_texts, *shown_groups], scene.clean["list"]
    )


def test_case_page_shows_every_stored_text_as_text(scene):
    coordinator = scene.world.sign_in("coordinator")
    pupil_texts = [
        text for pupil in scene.pupils for text in (pupil.first_name, pupil.last_name)
    ]

    for report, chunk in zip(scene.reports, CHUNKS, strict=True):
        response = coordinator.get(f"/staff/reports/{report.report_id}")

        assert response.status_code == 200
        assert_shown_as_text(
            html(response),
            [*chunk, "\n".join(chunk), *pupil_texts, *scene.staff_texts],
            scene.clean["detail"],
        )


def test_teacher_case_page_shows_observations_as_text(scene):
    teacher = scene.world.sign_in("teacher")

    for report, chunk in zip(scene.reports, CHUNKS, strict=True):
        response = teacher.get(f"/staff/reports/{report.report_id}")

        assert response.status_code == 200
        assert_shown_as_text(
            html(response), [*chunk, "\n".join(chunk)], scene.clean["teacher_detail"]
        )


def test_audit_page_shows_no_stored_text_and_stays_clean(scene):
    coordinator = scene.world.sign_in("coordinator")

    for report in scene.reports:
        response = coordinator.get(f"/staff/reports/{report.report_id}/audit")

        assert response.status_code == 200
        assert_shown_as_text(html(response), [], scene.clean["audit"])
        assert report.description not in html(response)


def test_pupil_history_shows_names_and_labels_as_text(scene):
    coordinator = scene.world.sign_in("coordinator")

    for pupil, report in zip(scene.pupils, scene.reports, strict=True):
        response = coordinator.get(f"/staff/pupils/{pupil.pupil_id}")

        assert response.status_code == 200
        assert_shown_as_text(
            html(response),
            [f"{pupil.first_name} {pupil.last_name}"],
            scene.clean["history"],
        )
        assert report.report_id in html(response)
