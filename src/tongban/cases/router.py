"""JSON API for cases: thin — parse, call the service, return."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Header, Query, UploadFile
from fastapi.responses import Response

from tongban.access.dependencies import CurrentActor, require
from tongban.access.rules import Actor
from tongban.cases import service
from tongban.cases.schemas import (
    ActionIn,
    CaseCreate,
    CaseDetail,
    CasePage,
    ProgressRead,
    TaskPage,
    UploadRead,
)
from tongban.deps import SessionDep

router = APIRouter(tags=["cases"])


@router.post("/uploads", response_model=UploadRead, status_code=201)
def upload(
    file: Annotated[UploadFile, File()],
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("uploads.create"))],
) -> UploadRead:
    content = file.file.read()
    return service.save_upload(session, actor=actor, filename=file.filename or "", content=content)


@router.post("/cases", response_model=CaseDetail, status_code=201)
def submit(
    body: CaseCreate,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("cases.submit"))],
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> CaseDetail:
    return service.submit_case(session, actor=actor, data=body, idempotency_key=idempotency_key)


@router.get("/cases", response_model=CasePage)
def list_cases(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("cases.read"))],
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CasePage:
    return service.my_cases(session, actor=actor, page=page, size=size)


@router.get("/cases/{case_no}", response_model=CaseDetail)
def get_case(
    case_no: str, session: SessionDep, actor: Annotated[Actor, Depends(require("cases.read"))]
) -> CaseDetail:
    return service.get_case(session, actor=actor, case_no=case_no)


@router.post("/cases/{case_no}/actions", response_model=CaseDetail)
def act(
    case_no: str,
    body: ActionIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("cases.act"))],
) -> CaseDetail:
    return service.act(session, actor=actor, case_no=case_no, action=body)


@router.get("/cases/{case_no}/materials/{material_id}")
def material(case_no: str, material_id: int, session: SessionDep, actor: CurrentActor) -> Response:
    filename, content_type, content = service.read_material(
        session, actor=actor, case_no=case_no, material_id=material_id
    )
    return Response(
        content,
        media_type=content_type,
        headers={"content-disposition": f"attachment; filename*=UTF-8''{_quote(filename)}"},
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@router.get("/progress", response_model=ProgressRead)
def progress(
    session: SessionDep,
    case_no: Annotated[str, Query(min_length=1, max_length=32)],
    code: Annotated[str, Query(min_length=1, max_length=16)],
) -> ProgressRead:
    return service.progress(session, case_no=case_no, query_code=code)


@router.get("/workbench/queue", response_model=CasePage | TaskPage)
def workbench_queue(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("workbench.queue"))],
    kind: Annotated[str | None, Query(pattern="^(acceptance|tasks)$")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 50,
) -> CasePage | TaskPage:
    """Clerks see the acceptance queue; reviewers their department's tasks by deadline."""
    if kind == "tasks" or (kind is None and actor.role.value == "reviewer"):
        return service.task_queue(session, actor=actor, page=page, size=size)
    return service.acceptance_queue(session, actor=actor, page=page, size=size)
