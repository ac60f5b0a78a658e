"""The reporter's pages' texts: every visible word comes from i18n/<lang>.json.

The report form and the status page are read by children and parents in two
languages; a key missing from one file shows an empty label, and a word typed into
a page or its script is never translated.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

FORM = Path(__file__).resolve().parents[2] / "static_form"
LANGUAGES = ("nl", "en")
# Attributes a person reads or hears; they may only be set from the texts.
HUMAN_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "aria-description"}
# Elements whose content is never shown as text.
NOT_SHOWN = {"script", "style", "template"}
VOID = {"meta", "link", "input", "br", "img", "hr", "source", "wbr", "col", "area"}
# The scripts name keys only as literals: t("key"), both("key") or fail(field, "key").
KEY_CALL = re.compile(
    r"""\b(?:t|both)\(\s*["']([^"']+)["']|\bfail\(\s*[^,()]+,\s*["']([^"']+)["']"""
)
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Each page of the reporter with its script.
PAGES = {"form": ("index.html", "form.js"), "status": ("status.html", "status.js")}
# The script both pages load before their own.
COMMON = "common.js"
# Texts of the report form that the status page shows as well.
SHARED_PREFIXES = ("page.", "lang.", "exit.", "danger.", "errors.prefix", "not_found.")


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in pairs]
    duplicates = {key for key in keys if keys.count(key) > 1}
    assert not duplicates, f"duplicate keys: {sorted(duplicates)}"
    return dict(pairs)


def load_texts(language: str) -> dict[str, object]:
    raw = (FORM / "i18n" / f"{language}.json").read_text(encoding="utf-8")
    return json.loads(raw, object_pairs_hook=_no_duplicates)


class FormPage(HTMLParser):
    """Collects the i18n keys of index.html and any text shown outside them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.keys: set[str] = set()
        self.stray_text: list[str] = []
        self.human_attributes: list[str] = []
        self.inline_code: list[str] = []
        self.scripts: list[str] = []
        self.open: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        key = attributes.get("data-i18n")
        if key:
            self.keys.add(key)
        for name, value in attrs:
            if name in HUMAN_ATTRIBUTES and value:
                self.human_attributes.append(f"<{tag} {name}={value!r}>")
            if name == "style" or name.startswith("on"):
                self.inline_code.append(f"<{tag} {name}>")
        if tag == "style" or (tag == "script" and not attributes.get("src")):
            self.inline_code.append(f"<{tag}>")
        if tag == "script" and attributes.get("src"):
            self.scripts.append(str(attributes["src"]))
        if tag not in VOID:
            inside = bool(key) or tag in NOT_SHOWN or self._inside_text_element()
            self.open.append((tag, inside))

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            opened, _ = self.open.pop()
            if opened == tag:
                break

    def handle_data(self, data: str) -> None:
        if data.strip() and not self._inside_text_element():
            self.stray_text.append(data.strip())

    def _inside_text_element(self) -> bool:
        return any(inside for _, inside in self.open)


def parse_page(name: str) -> FormPage:
    parser = FormPage()
    parser.feed((FORM / PAGES[name][0]).read_text(encoding="utf-8"))
    parser.close()
    return parser


def keys_in_script(name: str) -> set[str]:
    """The keys a page's own script names, and those of the common script."""
    scripts = (FORM / file for file in (COMMON, PAGES[name][1]))
    source = "\n".join(script.read_text(encoding="utf-8") for script in scripts)
    return {call or failure for call, failure in KEY_CALL.findall(source)}


@pytest.fixture(scope="module", params=sorted(PAGES))
def page_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def page(page_name: str) -> FormPage:
    return parse_page(page_name)


@pytest.fixture(scope="module")
def script_keys(page_name: str) -> set[str]:
    return keys_in_script(page_name)


def test_dutch_and_english_have_exactly_the_same_keys() -> None:
    nl, en = (load_texts(language) for language in LANGUAGES)

    assert sorted(set(nl) - set(en)) == [], "missing in en.json"
    assert sorted(set(en) - set(nl)) == [], "missing in nl.json"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_a_filled_in_string(language: str) -> None:
    texts = load_texts(language)

    empty = [key for key, value in texts.items() if not isinstance(value, str)]
    empty += [
        key
        for key, value in texts.items()
        if isinstance(value, str) and not value.strip()
    ]

    assert empty == []


def test_both_languages_use_the_same_placeholders() -> None:
    nl, en = (load_texts(language) for language in LANGUAGES)

    differing = [
        key
        for key in nl
        if set(PLACEHOLDER.findall(str(nl[key])))
        != set(PLACEHOLDER.findall(str(en.get(key, ""))))
    ]

    assert differing == []


def test_every_key_in_the_page_exists(page: FormPage) -> None:
    texts = load_texts("nl")

    assert page.keys, "the page uses no data-i18n keys"
    assert sorted(page.keys - set(texts)) == []


def test_every_key_in_the_script_exists(script_keys: set[str]) -> None:
    texts = load_texts("nl")

    assert script_keys, "the script uses no t()/both() keys"
    assert sorted(script_keys - set(texts)) == []


def test_every_text_is_used_somewhere() -> None:
    texts = load_texts("nl")

    used = set().union(
        *(parse_page(name).keys | keys_in_script(name) for name in PAGES)
    )

    assert sorted(set(texts) - used) == []


def test_the_status_page_uses_its_own_texts_or_shared_ones() -> None:
    used = parse_page("status").keys | keys_in_script("status")

    foreign = [
        key
        for key in used
        if not key.startswith("status.") and not key.startswith(SHARED_PREFIXES)
    ]

    assert sorted(foreign) == []


def test_the_page_shows_no_text_outside_data_i18n_elements(page: FormPage) -> None:
    assert page.stray_text == []


def test_the_page_has_no_hard_coded_labels_for_assistive_technology(
    page: FormPage,
) -> None:
    assert page.human_attributes == []


def test_the_page_has_nothing_inline_the_content_security_policy_refuses(
    page: FormPage,
) -> None:
    assert page.inline_code == []


def test_the_page_loads_the_common_script_before_its_own(
    page_name: str, page: FormPage
) -> None:
    own = PAGES[page_name][1]

    assert page.scripts == [f"/form-assets/{COMMON}", f"/form-assets/{own}"]


@pytest.mark.parametrize("script", [COMMON, "form.js", "status.js"])
def test_the_scripts_never_write_markup(script: str) -> None:
    # Names and texts typed by reporters, and the school's messages, are shown on
    # these pages; writing markup would let them run as HTML.
    source = (FORM / script).read_text(encoding="utf-8")

    assert (
        re.findall(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", source)
        == []
    )
