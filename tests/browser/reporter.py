"""The report form as a reporter uses it: answers, step by step, and what is stored."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from axe_playwright_python.sync_playwright import Axe
from boto3.dynamodb.types import TypeDeserializer
from faker import Faker
from playwright.sync_api import Page, expect

SCHOOL = "obs-de-regenboog"
FORM_PATH = f"/s/{SCHOOL}/"
REPORTS_TABLE = "m5-local-reports"
RECEIPT_CODE = re.compile(r"^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$")
# Suffixes that test storage end to end: Dutch diacritics, emoji (outside the
# BMP), Hebrew and Arabic (right to left).
UNICODE_SUFFIXES = ("Ĳsselmeer-Çelik 🌈", "שָׁלוֹם 😀", "مريم ✨", "Zoë Noël 🧒🏽")

_axe = Axe()


@dataclass
class Person:
    name: str
    group: str | None = None


@dataclass
class Answers:
    """One complete report, in the API's own values."""

    role: str
    categories: list[str]
    description: str
    location: str
    occurred_on: str
    part_of_day: str
    frequency: str
    told: list[str]
    danger_now: str
    contact: dict[str, str] | None = None
    hurt_self: bool = False
    hurt: list[Person] = field(default_factory=list)
    did_it_unknown: bool = False
    did_it: list[Person] = field(default_factory=list)
    location_note: str | None = None
    witnesses: str | None = None


def school_today() -> date:
    return datetime.now(ZoneInfo("Europe/Amsterdam")).date()


def unicode_name(fake: Faker, index: int) -> str:
    suffix = UNICODE_SUFFIXES[index % len(UNICODE_SUFFIXES)]
    return f"{fake.first_name()} {fake.last_name()} {suffix}"


def rich_answers(seed: int) -> Answers:
    """Answers full of names and text that must survive the trip unchanged."""
    fake = Faker("nl_NL")
    fake.seed_instance(seed)
    hurt = unicode_name(fake, 0)
    return Answers(
        role="pupil",
        categories=["pesten", "uitschelden"],
        description=(
            f"In de pauze lachten ze {hurt} uit. 😢\n"
            f"Ze zeiden: “{fake.sentence(nb_words=6)}”\n"
            "שלום — مرحبا — ĳs, één, café.\n"
            f"kenmerk {seed}-{fake.uuid4()}"
        ),
        hurt_self=True,
        hurt=[Person(hurt, "g-5")],
        did_it=[
            Person(unicode_name(fake, 1), "g-6"),
            Person(unicode_name(fake, 2), None),
        ],
        location="plein",
        location_note="Bij het klimrek 🧗, achter de zandbak — naast de ‘groene’ bank",
        occurred_on=(school_today() - timedelta(days=2)).isoformat(),
        part_of_day="break",
        frequency="several",
        told=["teacher", "friend"],
        witnesses=f"{unicode_name(fake, 3)} zag het ook.\nEn juf {fake.first_name()}.",
        danger_now="no",
    )


def step_heading(page: Page, step: int) -> Any:
    return page.locator(f"#step-{step}-title")


def assert_accessible(page: Page, where: str) -> None:
    results = _axe.run(page)
    assert results.violations_count == 0, f"{where}:\n{results.generate_report()}"


SMALL_TAP_TARGETS = """() => Array.from(document.querySelectorAll(
    "button, a[href], input, select, textarea, .choice label"))
  .filter((node) => !node.matches(".choice input") && node.getClientRects().length)
  .map((node) => [node.id || node.textContent.trim(), node.getBoundingClientRect()])
  .filter(([, box]) => box.height < 44 || box.width < 44)
  .map(([name, box]) => `${name}: ${Math.round(box.width)}x${Math.round(box.height)}`)
"""


def assert_big_tap_targets(page: Page, where: str) -> None:
    """Everything a finger has to hit is at least 44 by 44 CSS pixels."""
    small = page.evaluate(SMALL_TAP_TARGETS)
    assert small == [], where


class ReportForm:
    """Drives static_form/ through its own controls, the way a reporter would."""

    def __init__(self, page: Page, check: Callable[[str], None] | None = None):
        self.page = page
        self.check = check or (lambda where: None)

    def open(self, path: str = FORM_PATH) -> ReportForm:
        self.page.goto(path)
        return self.ready()

    def ready(self) -> ReportForm:
        expect(self.page.locator("#report")).to_be_visible()
        return self

    def switch_language(self) -> None:
        self.page.click("#lang-switch")

    def next(self, expect_step: int | None = None) -> None:
        self.page.click("#next")
        if expect_step is not None:
            expect(step_heading(self.page, expect_step)).to_be_focused()

    def persons(self, role: str, people: list[Person]) -> None:
        prefix = role.replace("_", "-")
        for index, person in enumerate(people):
            if index > 0:
                self.page.click(f"#{prefix}-add")
            self.page.fill(f"#{prefix}-{index}-name", person.name)
            self.page.select_option(f"#{prefix}-{index}-group", person.group or "")

    def fill_step(self, step: int, a: Answers) -> None:
        fillers = {
            1: self._who,
            2: self._what,
            3: self._hurt,
            4: self._did_it,
            5: self._where,
            6: self._when,
            7: self._told_and_danger,
        }
        fillers[step](a)

    def _who(self, a: Answers) -> None:
        self.page.check(f"#role-{a.role}")
        if a.contact is None:
            self.page.check("#anonymous-yes")
            return
        self.page.check("#anonymous-no")
        self.page.fill("#contact-name", a.contact["name"])
        self.page.fill("#contact-email", a.contact.get("email", ""))
        self.page.fill("#contact-phone", a.contact.get("phone", ""))

    def _what(self, a: Answers) -> None:
        for category in a.categories:
            self.page.check(f"#category-{category}")
        self.page.fill("#description", a.description)

    def _hurt(self, a: Answers) -> None:
        if a.hurt_self:
            self.page.check("#hurt-self")
        self.persons("hurt", a.hurt)

    def _did_it(self, a: Answers) -> None:
        if a.did_it_unknown:
            self.page.check("#did-it-unknown")
        else:
            self.persons("did_it", a.did_it)

    def _where(self, a: Answers) -> None:
        self.page.check(f"#location-{a.location}")
        self.page.fill("#location-note", a.location_note or "")

    def _when(self, a: Answers) -> None:
        self.page.fill("#occurred-on", a.occurred_on)
        self.page.check(f"#part_of_day-{a.part_of_day}")
        self.page.check(f"#frequency-{a.frequency}")

    def _told_and_danger(self, a: Answers) -> None:
        for told in a.told:
            self.page.check(f"#told-{told}")
        self.page.fill("#witnesses", a.witnesses or "")
        self.page.check(f"#danger-{a.danger_now}")

    def complete(self, a: Answers, until: int = 7) -> None:
        """Answer steps 1..until, checking each step before going on."""
        for step in range(1, until + 1):
            expect(step_heading(self.page, step)).to_be_visible()
            self.fill_step(step, a)
            self.check(f"step {step}")
            self.next(step + 1 if step < 7 else None)
        if until == 7:
            expect(self.page.locator("#review-title")).to_be_focused()

    def send(self) -> str:
        self.page.click("#send")
        code = self.page.locator("#receipt-code")
        expect(code).to_have_text(RECEIPT_CODE)
        return code.inner_text()


def storage_dump(page: Page) -> str:
    return page.evaluate(
        """() => JSON.stringify({
            session: Object.fromEntries(Object.entries(sessionStorage)),
            local: Object.fromEntries(Object.entries(localStorage)),
        })"""
    )


def stored_reports(client: Any, school: str = SCHOOL) -> list[dict[str, Any]]:
    """A school's reports, newest first, as plain Python values."""
    deserializer = TypeDeserializer()
    items: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {
        "TableName": REPORTS_TABLE,
        "KeyConditionExpression": "school_id = :school",
        "ExpressionAttributeValues": {":school": {"S": school}},
        "ScanIndexForward": False,
    }
    while True:
        page = client.query(**arguments)
        items += [
            {k: deserializer.deserialize(v) for k, v in item.items()}
            for item in page["Items"]
        ]
        if "LastEvaluatedKey" not in page:
            return items
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def newest_report(client: Any, school: str = SCHOOL) -> dict[str, Any]:
    deserializer = TypeDeserializer()
    found = client.query(
        TableName=REPORTS_TABLE,
        KeyConditionExpression="school_id = :school",
        ExpressionAttributeValues={":school": {"S": school}},
        ScanIndexForward=False,
        Limit=1,
    )["Items"]
    assert found, f"no report stored for {school}"
    return {k: deserializer.deserialize(v) for k, v in found[0].items()}


def as_stored(a: Answers, language: str) -> dict[str, Any]:
    """What the report item must hold for these answers."""
    persons = [("hurt", p) for p in a.hurt] + [
        ("did_it", p) for p in ([] if a.did_it_unknown else a.did_it)
    ]
    return {
        "language": language,
        "reporter_role": a.role,
        "anonymous": a.contact is None,
        "contact": a.contact,
        "categories": a.categories,
        "description": a.description,
        "hurt_self": a.hurt_self,
        "did_it_unknown": a.did_it_unknown,
        "persons": [{"role": r, "name": p.name, "group": p.group} for r, p in persons],
        "groups": sorted({p.group for _, p in persons if p.group}),
        "location": a.location,
        "location_note": a.location_note,
        "occurred_on": a.occurred_on,
        "part_of_day": a.part_of_day,
        "frequency": a.frequency,
        "told": a.told,
        "witnesses": a.witnesses,
        "danger_now": a.danger_now,
    }


def answers_of(item: dict[str, Any]) -> dict[str, Any]:
    """The answers in a stored item, in the shape of as_stored()."""
    contact = item.get("contact")
    if contact is not None:
        contact = {k: v for k, v in contact.items() if v is not None}
    return {
        "language": item["language"],
        "reporter_role": item["reporter_role"],
        "anonymous": item["anonymous"],
        "contact": contact,
        "categories": item["categories"],
        "description": item["description"],
        "hurt_self": item.get("hurt_self", False),
        "did_it_unknown": item.get("did_it_unknown", False),
        "persons": [
            {"role": p["role"], "name": p["name"], "group": p.get("group")}
            for p in item.get("persons", [])
        ],
        "groups": item.get("groups", []),
        "location": item["location"],
        "location_note": item.get("location_note"),
        "occurred_on": item["occurred_on"],
        "part_of_day": item["part_of_day"],
        "frequency": item["frequency"],
        "told": item.get("told", []),
        "witnesses": item.get("witnesses"),
        "danger_now": item["danger_now"],
    }
