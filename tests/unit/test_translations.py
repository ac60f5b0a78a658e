"""Every server-side message and template text has a Dutch translation."""

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from chalicelib.i18n import both

ROOT = Path(__file__).resolve().parents[2]
PO_FILE = ROOT / "chalicelib" / "locale" / "nl" / "LC_MESSAGES" / "messages.po"


def _extracted_msgids() -> set[str]:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    # both(msgid) in the API; fail(field, code, msgid) in validation;
    # _invalid(field, msgid) in casework.
    keywords = {
        **DEFAULT_KEYWORDS,
        "both": None,
        "fail": (3,),
        "_invalid": (2,),
        "N_": None,
    }
    return {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            ROOT, method_map, options_map, keywords=keywords
        )
    }


def _catalog():
    with PO_FILE.open("rb") as source:
        return read_po(source)


def test_every_message_in_code_and_templates_has_a_dutch_translation():
    catalog = _catalog()

    missing = sorted(
        msgid
        for msgid in _extracted_msgids()
        if not (catalog.get(msgid) and catalog.get(msgid).string)
    )

    assert missing == []


def test_catalog_has_no_fuzzy_or_unused_entries():
    used = _extracted_msgids()

    entries = [m for m in _catalog() if m.id]

    assert [m.id for m in entries if m.fuzzy] == []
    assert sorted(m.id for m in entries if m.id not in used) == []


def test_api_messages_come_in_dutch_and_english():
    message = both("This school is not known.")

    assert message == {
        "nl": "Deze school kennen we niet.",
        "en": "This school is not known.",
    }
