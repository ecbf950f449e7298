"""gettext for the web pages: Chinese is the source language, other locales come from .po files.

Catalogs are read from ``locales/<locale>/LC_MESSAGES/messages.po`` with Babel at first
use, so running from a checkout needs no compile step. The locale of a request comes
from ``?lang=`` (which also stores a cookie), then the cookie, then the configured default.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from fastapi import Request

LOCALES_DIR = Path(__file__).parent / "locales"
SOURCE_LOCALE = "zh_CN"
LOCALES: dict[str, str] = {"zh_CN": "中文", "en": "English"}
LANG_COOKIE = "tongban_lang"
# Short codes people type into the address bar → the catalog that serves them.
_ALIASES = {
    "zh": "zh_CN",
    "zh_cn": "zh_CN",
    "zh-cn": "zh_CN",
    "en": "en",
    "en_us": "en",
    "en-us": "en",
}
# The <html lang> value for each catalog (BCP 47).
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}

Gettext = Callable[..., str]


def normalize_locale(value: str | None) -> str | None:
    if not value:
        return None
    return _ALIASES.get(value.strip().lower())


@cache
def catalog(locale: str) -> dict[str, str]:
    """msgid → translated text; the source locale needs no catalog."""
    if locale == SOURCE_LOCALE:
        return {}
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        po = read_po(fh, locale=locale)
    return {
        str(message.id): str(message.string)
        for message in po
        if message.id and message.string and not message.fuzzy and isinstance(message.id, str)
    }


def make_gettext(locale: str) -> Gettext:
    """A gettext that falls back to the Chinese source text and fills ``%(name)s`` fields."""
    messages = catalog(locale)

    def gettext(message: str, **params: Any) -> str:
        text = messages.get(message, message)
        return text % params if params else text

    return gettext


def request_locale(request: Request) -> str:
    from tongban.config import get_settings

    chosen = normalize_locale(request.query_params.get("lang"))
    if chosen:
        return chosen
    stored = normalize_locale(request.cookies.get(LANG_COOKIE))
    if stored:
        return stored
    return normalize_locale(get_settings().default_locale) or SOURCE_LOCALE


def gettext_for(request: Request) -> Gettext:
    """The request's translator, cached on request.state for the helpers that need it."""
    cached = getattr(request.state, "gettext", None)
    if cached is None:
        locale = request_locale(request)
        request.state.locale = locale
        cached = request.state.gettext = make_gettext(locale)
    return cached


def _(message: str) -> str:
    """Marks module-level text for extraction; translate it at use time with gettext_for."""
    return message
