"""Public pages that are the same for every visitor, cached by the catalog's version.

The home page, search results, item guides and bundle pages shown to a visitor who is not
signed in depend only on the catalog, the language, 长辈模式 and the address. They are built
once per catalog version (``catalog.service.catalog_version``: one primary-key read, raised in
the transaction that saves an item or a bundle, so every app server sees a change at its next
request) and then served from memory with an ETag (``kit/http_cache.py``); a browser or proxy
that already has the page gets 304. Signed-in visitors, pages with a message to show once
(flash), ``?lang=`` (it sets a cookie) and anything but a 200 are never cached.

A visitor without a session cookie or credentials is answered before the app runs
(``kit/shared_answers.py``, installed by ``install``): the page as it was sent to the first
such visitor — with the same security headers and compression — under the catalog version,
read once for all the requests arriving at that moment and never before a request arrived
(``kit/shared_read.py``), so a save on any app server still shows at the next request.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.requests import cookie_parser
from starlette.types import Scope

from tongban.catalog import service as catalog_service
from tongban.catalog.version import shared_reader
from tongban.config import get_settings
from tongban.kit.http_cache import AnswerCache, address_of, cached
from tongban.kit.shared_answers import SharedAnswers, Variant
from tongban.web import elder, i18n

PAGES = AnswerCache()
# A form token in the session changes nothing on a catalog page (it has no form to post).
SHARED_SESSION_KEYS = frozenset({"csrf"})
VARY = "Cookie"  # the language and 长辈模式 are cookies


def anonymous_page(request: Request, session: Session, build: Callable[[], Response]) -> Response:
    """``build()``'s page, from the cache when the visitor is anonymous and nothing changed."""
    if not _cacheable(request):
        return build()
    mode = "elder" if elder.is_on(request) else "standard"
    version = catalog_service.catalog_version(session)
    key = f"page|{version}|{i18n.request_locale(request)}|{mode}|{address_of(request)}"
    return cached(request, PAGES, key, build, vary=VARY)


def _cacheable(request: Request) -> bool:
    if request.headers.get("authorization"):
        return False
    # Anything kept for this visitor but a form token (signed in, a message to show once …)
    # makes the page theirs; ?lang= sets a cookie, so it is built every time.
    session = request.scope.get("session") or {}
    return not (set(session) - SHARED_SESSION_KEYS) and "lang" not in request.query_params


def install(app: FastAPI, *, session_cookie: str) -> None:
    """Answer a visitor's shareable pages and catalog API answers before the app runs. Add
    it outside the session, security-header and compression middlewares and inside the
    request id and metrics ones, so a kept answer carries what an uncached one does."""
    app.add_middleware(
        SharedAnswers,
        version=shared_reader(app.state.database_url),
        variant=visitor_variant(session_cookie),
    )


def visitor_variant(session_cookie: str) -> Variant:
    """What a shared answer depends on besides the catalog: the address (parameters in a
    stable order), the language and 长辈模式 cookies, and whether it is compressed. None —
    through the app — for a request with credentials, any session or ``?lang=``."""

    def variant(scope: Scope) -> str | None:
        cookie = encoding = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                return None
            if name == b"cookie":
                cookie = value.decode("latin-1")
            elif name == b"accept-encoding":
                encoding = "gzip" if b"gzip" in value else ""  # as GZipMiddleware decides
        cookies = cookie_parser(cookie) if cookie else {}
        if session_cookie in cookies:
            return None
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        if any(name == "lang" for name, _ in query):
            return None
        locale = i18n.normalize_locale(cookies.get(i18n.LANG_COOKIE)) or _default_locale()
        mode = "elder" if cookies.get(elder.COOKIE) == "1" else "standard"
        return f"{locale}|{mode}|{encoding}|{scope['path']}?{urlencode(sorted(query))}"

    return variant


def _default_locale() -> str:
    return i18n.normalize_locale(get_settings().default_locale) or i18n.SOURCE_LOCALE
