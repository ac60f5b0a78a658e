"""Jinja2 environment for staff pages, mails and the sample school page."""

from __future__ import annotations

import functools
from datetime import timedelta

from jinja2 import Environment, FileSystemLoader, select_autoescape

from chalicelib.config import APP_ROOT
from chalicelib.i18n import translations
from chalicelib.weeks import SCHOOL_TZ

TEMPLATE_DIR = APP_ROOT / "templates"


@functools.cache
def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["tz"] = SCHOOL_TZ
    env.globals["timedelta"] = timedelta
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def render(template: str, language: str = "nl", **context: object) -> str:
    return (
        _environment(language)
        .get_template(template)
        .render(language=language, **context)
    )
