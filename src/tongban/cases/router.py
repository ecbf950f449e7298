"""JSON API for cases: thin — parse, call the service, return."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Header, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from tongban.access.dependencies import CurrentActor, require
from tongban.access.rules import Actor
from tongban.cases import rules, service
from tongban.cases.queue_rules import Queue
from tongban.cases.schemas import (
    ActionIn,
    CaseCreate,
    CaseDetail,
    CasePage,
    ProgressRead,
    QueueOverview,
    TaskPage,
    UnmaskIn,
    UnmaskRead,
    UploadRead,
)
from tongban.deps import SessionDep, WritesOnRead
from tongban.errors import DomainError, error_responses
from tongban.kit.documented import enum_of
from tongban.kit.params import CaseNo, PageNumber, PageSize, RowId
from tongban.kit.text import clean_text

router = APIRouter(tags=["cases"])
MATERIAL_TYPES = ("application/pdf", "image/jpeg", "image/png", "application/ofd")


@router.post(
    "/uploads",
    response_model=UploadRead,
    status_code=201,
    responses=error_responses(e415="not an accepted file type (PDF, JPEG, PNG …)"),
)
def upload(
    file: Annotated[UploadFile, File()],
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("uploads.create"))],
) -> UploadRead:
    content = file.file.read()
    # The file's name is text like any other (a NUL in it cannot be stored); long names are cut.
    filename = clean_text((file.filename or "")[:255], field="file.filename", max_length=255)
    return service.save_upload(session, actor=actor, filename=filename, content=content)


@router.post(
    "/cases",
    response_model=CaseDetail,
    status_code=201,
    responses=error_responses(e404="no such item, bundle or upload"),
)
def submit(
    body: CaseCreate,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("cases.submit"))],
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> CaseDetail:
    return service.submit_case(session, actor=actor, data=body, idempotency_key=idempotency_key)


ItemCodeFilter = Annotated[str | None, Query(max_length=64, description="only this item's cases")]
StateFilter = Annotated[
    str | None,
    Query(
        max_length=24,
        description="only cases in this state",
        json_schema_extra=enum_of(lambda: rules.STATE_LABELS),
    ),
]


@router.get("/cases", response_model=CasePage)
def list_cases(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("cases.read"))],
    page: PageNumber = 1,
    size: PageSize = 20,
    item_code: ItemCodeFilter = None,
    state: StateFilter = None,
) -> CasePage:
    """The cases in your scope, newest first; personal values masked by role, reads audited."""
    return service.my_cases(
        session, actor=actor, page=page, size=size, item_code=item_code, state=state
    )


@router.get(
    "/cases/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **error_responses(e403="export refused")},
)
def export_cases(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("cases.export"))],
    item_code: ItemCodeFilter = None,
    state: StateFilter = None,
) -> Response:
    """CSV (UTF-8 with BOM) of the cases in your scope, masked; refused past the alert limits."""
    result = service.export_cases(session, actor=actor, item_code=item_code, state=state)
    if isinstance(result, DomainError):
        # Returned, not raised: the refusal's audit entry and alert must be committed.
        return JSONResponse(result.to_dict(), status_code=result.status)
    return Response(
        result.content,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f"attachment; filename*=UTF-8''{_quote(result.filename)}",
            "cache-control": "no-store",
        },
    )


@router.get("/cases/{case_no}", response_model=CaseDetail)
def get_case(
    case_no: CaseNo, session: SessionDep, actor: Annotated[Actor, Depends(require("cases.read"))]
) -> CaseDetail:
    return service.get_case(session, actor=actor, case_no=case_no)


@router.post("/cases/{case_no}/actions", response_model=CaseDetail)
def act(
    case_no: CaseNo,
    body: ActionIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("cases.act"))],
) -> CaseDetail:
    return service.act(session, actor=actor, case_no=case_no, action=body)


@router.post("/cases/{case_no}/unmask", response_model=UnmaskRead)
def unmask(
    case_no: CaseNo,
    body: UnmaskIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("privacy.unmask"))],
    response: Response,
) -> UnmaskRead:
    """The plain values of masked fields, with a purpose; for this response only, audited."""
    values = service.unmask(
        session,
        actor=actor,
        case_no=case_no,
        fields=body.fields,
        reason_code=body.reason_code,
        reason_text=body.reason_text,
    )
    response.headers["cache-control"] = "no-store"
    return UnmaskRead(case_no=case_no, values=values)


@router.get(
    "/cases/{case_no}/materials/{material_id}",
    response_class=Response,
    responses={
        200: {
            "description": "the file as uploaded",
            "content": {t: {} for t in MATERIAL_TYPES},
        }
    },
)
def material(
    case_no: CaseNo, material_id: RowId, session: SessionDep, actor: CurrentActor
) -> Response:
    filename, content_type, content = service.read_material(
        session, actor=actor, case_no=case_no, material_id=material_id
    )
    return Response(
        content,
        media_type=content_type,
        headers={
            "content-disposition": f"attachment; filename*=UTF-8''{_quote(filename)}",
            "cache-control": "no-store",
        },
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@router.get(
    "/progress",
    response_model=ProgressRead,
    dependencies=[WritesOnRead],
    responses=error_responses(e404="wrong case number or query code"),
)
def progress(
    session: SessionDep,
    case_no: Annotated[str, Query(min_length=1, max_length=32)],
    code: Annotated[str, Query(min_length=1, max_length=16)],
) -> ProgressRead:
    return service.progress(session, case_no=case_no, query_code=code)


@router.get("/workbench/queues", response_model=QueueOverview)
def workbench_queues(
    session: SessionDep, actor: Annotated[Actor, Depends(require("workbench.queue"))]
) -> QueueOverview:
    """Every work queue your role owns, with how many cases wait in it (no personal data)."""
    return service.queue_overview(session, actor=actor)


@router.get("/workbench/queue", response_model=CasePage | TaskPage)
def workbench_queue(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require("workbench.queue"))],
    kind: Annotated[
        str | None,
        Query(
            max_length=16,
            description="a queue you own",
            json_schema_extra=enum_of(lambda: [queue.value for queue in Queue]),
        ),
    ] = None,
    channel: Annotated[
        str | None,
        Query(
            max_length=16,
            description="deliver queue: pickup, mail, electronic",
            json_schema_extra=enum_of(lambda: rules.DELIVERY_METHODS),
        ),
    ] = None,
    page: PageNumber = 1,
    size: PageSize = 50,
) -> CasePage | TaskPage:
    """One of your queues (GET /workbench/queues lists them): reviewers' department tasks by
    deadline, the window's acceptance queue, cases to decide, close or deliver …"""
    kind = kind or service.default_queue(actor)
    return service.work_queue(
        session, actor=actor, kind=kind, page=page, size=size, channel=channel
    )


@router.get(
    "/cases/{case_no}/decision-document",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}},
        **error_responses(e409="not closed"),
    },
)
def decision_document(
    case_no: CaseNo, session: SessionDep, actor: Annotated[Actor, Depends(require("cases.read"))]
) -> Response:
    """The decision document (决定书) as PDF. The applicant's first download of a result
    delivered electronically records the delivery (送达回证)."""
    filename, content = service.decision_document(session, actor=actor, case_no=case_no)
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "content-disposition": f"attachment; filename*=UTF-8''{_quote(filename)}",
            "cache-control": "no-store",
        },
    )
