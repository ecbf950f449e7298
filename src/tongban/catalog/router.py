"""Catalog JSON API: public reading and search; item editing for center admins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from tongban.access.dependencies import require
from tongban.access.rules import Actor
from tongban.catalog import service
from tongban.catalog.schemas import BundleRead, ItemCreate, ItemPage, ItemRead
from tongban.deps import SessionDep
from tongban.kit.documented import pattern
from tongban.kit.http_cache import AnswerCache, address_of, cached
from tongban.kit.params import MAX_ID, CodePath, PageNumber
from tongban.openapi_text import text_pattern
from tongban.regions import service as regions_service
from tongban.regions.schemas import DepartmentRead

router = APIRouter(tags=["catalog"])
# Given, the words may not be blank (empty_query); absent, everything is listed.
SearchWords = Annotated[
    str | None,
    Query(
        max_length=100,
        description="搜索词 / search words",
        json_schema_extra=pattern(text_pattern(min_length=1)),
    ),
]


ANSWERS = AnswerCache()
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not Modified: the answer named by If-None-Match is still current"}
}


def _public(request: Request, session: Session, build: Callable[[], Any]) -> Response:
    """A public catalog answer, kept per catalog version (kit/http_cache.py): the same for
    everyone, so built once per version and then served with an ETag (304 when unchanged)."""
    key = f"api|{service.catalog_version(session)}|{address_of(request)}"

    def answer() -> Response:
        return JSONResponse(jsonable_encoder(build()))

    return cached(request, ANSWERS, key, answer, vary="Accept-Encoding")


@router.get("/items", response_model=ItemPage, responses=NOT_MODIFIED)
def list_or_search_items(
    request: Request,
    session: SessionDep,
    q: SearchWords = None,
    department: Annotated[
        str | None, Query(max_length=32, description="实施部门统一社会信用代码")
    ] = None,
    page: PageNumber = 1,
    size: Annotated[int, Query(ge=1, le=service.MAX_PAGE_SIZE)] = 20,
) -> Response:
    def build() -> ItemPage:
        if q is not None:
            return service.search_items(session, q=q, page=page, size=size)
        return service.list_items(session, department_code=department, page=page, size=size)

    return _public(request, session, build)


@router.get("/items/{code}", response_model=ItemRead, responses=NOT_MODIFIED)
def get_item(request: Request, code: CodePath, session: SessionDep) -> Response:
    return _public(request, session, lambda: service.get_item(session, code=code))


@router.post("/items", response_model=ItemRead)
def upsert_item(
    body: ItemCreate,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("catalog.manage"))],
    if_match: Annotated[
        int | None, Header(ge=0, le=MAX_ID, description="the item version being edited")
    ] = None,
) -> ItemRead:
    return service.upsert_item(session, data=body, expected_version=if_match, actor=actor)


@router.get("/bundles", response_model=list[BundleRead], responses=NOT_MODIFIED)
def list_bundles(request: Request, session: SessionDep, q: SearchWords = None) -> Response:
    def build() -> list[BundleRead]:
        if q is not None:
            return service.search_bundles(session, q=q)
        return service.list_bundles(session)

    return _public(request, session, build)


@router.get("/bundles/{code}", response_model=BundleRead, responses=NOT_MODIFIED)
def get_bundle(request: Request, code: CodePath, session: SessionDep) -> Response:
    return _public(request, session, lambda: service.get_bundle(session, code=code))


@router.get("/departments", response_model=list[DepartmentRead])
def list_departments(
    session: SessionDep,
    region: Annotated[str | None, Query(max_length=12, description="行政区划代码")] = None,
) -> list[DepartmentRead]:
    return regions_service.list_departments(session, region)
