"""Catalog JSON API: public reading and search; item editing for center admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from tongban.access.dependencies import require
from tongban.access.rules import Actor
from tongban.catalog import service
from tongban.catalog.schemas import BundleRead, ItemCreate, ItemPage, ItemRead
from tongban.deps import SessionDep
from tongban.kit.params import MAX_ID, CodePath, PageNumber, SearchWords
from tongban.regions import service as regions_service
from tongban.regions.schemas import DepartmentRead

router = APIRouter(tags=["catalog"])


@router.get("/items", response_model=ItemPage)
def list_or_search_items(
    session: SessionDep,
    q: SearchWords = None,
    department: Annotated[
        str | None, Query(max_length=32, description="实施部门统一社会信用代码")
    ] = None,
    page: PageNumber = 1,
    size: Annotated[int, Query(ge=1, le=service.MAX_PAGE_SIZE)] = 20,
) -> ItemPage:
    if q is not None:
        return service.search_items(session, q=q, page=page, size=size)
    return service.list_items(session, department_code=department, page=page, size=size)


@router.get("/items/{code}", response_model=ItemRead)
def get_item(code: CodePath, session: SessionDep) -> ItemRead:
    return service.get_item(session, code=code)


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


@router.get("/bundles", response_model=list[BundleRead])
def list_bundles(
    session: SessionDep,
    q: SearchWords = None,
) -> list[BundleRead]:
    if q is not None:
        return service.search_bundles(session, q=q)
    return service.list_bundles(session)


@router.get("/bundles/{code}", response_model=BundleRead)
def get_bundle(code: CodePath, session: SessionDep) -> BundleRead:
    return service.get_bundle(session, code=code)


@router.get("/departments", response_model=list[DepartmentRead])
def list_departments(
    session: SessionDep,
    region: Annotated[str | None, Query(max_length=12, description="行政区划代码")] = None,
) -> list[DepartmentRead]:
    return regions_service.list_departments(session, region)
