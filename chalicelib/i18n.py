"""Server-side translations through gettext catalogs.

Sources are English msgids; Dutch lives in `chalicelib/locale/nl/.../messages.po`,
compiled to `.mo` by Babel at build time (`python -m local.build`), so Babel itself
never ships in the Lambda package. API errors carry both languages at once.
"""

from __future__ import annotations

import functools
import gettext
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    # fallback=False: a missing compiled catalog is a build error, not English text.
    return gettext.translation("messages", LOCALE_DIR, languages=[language])


def gettext_for(language: str, msgid: str) -> str:
    return translations(language).gettext(msgid)


def both(msgid: str, **values: object) -> dict[str, str]:
    """The message in every interface language, Dutch first."""
    return {lang: gettext_for(lang, msgid).format(**values) for lang in LANGUAGES}


def normalise_language(value: object) -> str:
    return value if isinstance(value, str) and value in LANGUAGES else DEFAULT_LANGUAGE


def N_(msgid: str) -> str:
    """Mark a message for extraction where it is defined, translated later."""
    return msgid
