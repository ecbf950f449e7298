"""Public pages that are the same for every visitor, cached by the catalog's version.

The home page, search results, item guides and bundle pages shown to a visitor who is not
signed in depend only on the catalog, the language, 长辈模式 and the address. They are built
once per catalog version (``catalog.service.catalog_version``: one primary-key read, raised in
the transaction that saves an item or a bundle, so every app server sees a change at its next
request) and then served from memory with an ETag (``kit/http_cache.py``); a browser or proxy
that already has the page gets 304. Signed-in visitors, pages with a message to show once
(flash), ``?lang=`` (it sets a cookie) and anything but a 200 are never cached.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tongban.catalog import service as catalog_service
from tongban.kit.http_cache import AnswerCache, address_of, cached
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
