"""JSON API of the audit domain: alerts and histories for auditors; 我的数据被谁用了."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from tongban.access.dependencies import CurrentActor, require
from tongban.access.rules import Actor
from tongban.audit import service
from tongban.audit.schemas import (
    AccountHistory,
    AlertPage,
    AlertRead,
    AlertStatusIn,
    AuditStatusRead,
    DataAccessPage,
)
from tongban.deps import SessionDep
from tongban.kit.params import PageNumber, PageSize, RowId

router = APIRouter(tags=["audit"])
Reader = Annotated[Actor, Depends(require("audit.read"))]
Manager = Annotated[Actor, Depends(require("audit.manage"))]
Page = PageNumber
Size = PageSize
Username = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/audit/alerts", response_model=AlertPage)
def list_alerts(
    session: SessionDep,
    actor: Reader,
    status: Annotated[str | None, Query(pattern="^(open|acknowledged|closed)$")] = None,
    page: Page = 1,
    size: Size = 20,
) -> AlertPage:
    return service.alerts(session, status=status, page=page, size=size)


@router.post("/audit/alerts/{alert_id}", response_model=AlertRead)
def change_alert(
    alert_id: RowId, body: AlertStatusIn, session: SessionDep, actor: Manager
) -> AlertRead:
    """Acknowledge or close an alert; closing needs a note."""
    return service.set_alert_status(
        session, actor=actor, alert_id=alert_id, status=body.status, note=body.note
    )


@router.get("/audit/accounts/{username}/accesses", response_model=AccountHistory)
def account_accesses(
    username: Username, session: SessionDep, actor: Reader, page: Page = 1, size: Size = 50
) -> AccountHistory:
    return service.account_history(session, actor=actor, username=username, page=page, size=size)


@router.get("/audit/status", response_model=AuditStatusRead)
def audit_status(session: SessionDep, actor: Reader) -> AuditStatusRead:
    """Log size, latest signed checkpoints and verification runs, alerts by status."""
    return service.audit_status(session)


@router.get("/me/data-accesses", response_model=DataAccessPage)
def my_data_accesses(
    session: SessionDep, actor: CurrentActor, page: Page = 1, size: Size = 20
) -> DataAccessPage:
    """Who accessed my data, when and why (staff names masked) — applicants only."""
    return service.my_data_accesses(session, actor=actor, page=page, size=size)
