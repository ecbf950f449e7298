"""Home, search, item guide and bundle pages (public, no login)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tongban.access.dependencies import OptionalActor
from tongban.catalog import service as catalog_service
from tongban.deps import SessionDep
from tongban.web import labels
from tongban.web.page_cache import anonymous_page
from tongban.web.rendering import render

router = APIRouter(include_in_schema=False)
POPULAR_COUNT = 12
PAGE_SIZE = 20


@router.get("/")
def home(request: Request, session: SessionDep, actor: OptionalActor) -> Response:
    def build() -> Response:
        bundles = catalog_service.list_bundles(session)
        popular = catalog_service.list_items(session, page=1, size=POPULAR_COUNT)
        context = {"actor": actor, "bundles": bundles, "items": popular.items, "labels": labels}
        return render(request, "portal/home.html", context)

    return anonymous_page(request, session, build)


@router.get("/search")
def search(
    request: Request, session: SessionDep, actor: OptionalActor, q: str = "", page: int = 1
) -> Response:
    return anonymous_page(request, session, lambda: _search(request, session, actor, q, page))


def _search(
    request: Request, session: SessionDep, actor: OptionalActor, q: str, page: int
) -> Response:
    q = q.strip()[:100]
    page = max(page, 1)
    results = None
    bundles = []
    if q:
        results = catalog_service.search_items(session, q=q, page=page, size=PAGE_SIZE)
        bundles = catalog_service.search_bundles(session, q=q) if page == 1 else []
    context = {
        "actor": actor,
        "q": q,
        "results": results,
        "bundles": bundles,
        "labels": labels,
        "page": page,
        "has_next": bool(results and results.total > page * PAGE_SIZE),
    }
    return render(request, "portal/search.html", context)


@router.get("/items/{code}")
def item_guide(request: Request, code: str, session: SessionDep, actor: OptionalActor) -> Response:
    def build() -> Response:
        item = catalog_service.get_item(session, code=code)
        return render(request, "portal/item.html", {"actor": actor, "item": item, "labels": labels})

    return anonymous_page(request, session, build)


@router.get("/bundles/{code}")
def bundle_page(request: Request, code: str, session: SessionDep, actor: OptionalActor) -> Response:
    def build() -> Response:
        bundle = catalog_service.get_bundle(session, code=code)
        context = {"actor": actor, "bundle": bundle, "labels": labels}
        return render(request, "portal/bundle.html", context)

    return anonymous_page(request, session, build)
