"""JSON API: my in-site messages (any signed-in user) and delivery failures (admin)."""

from __future__ import annotations

from fastapi import APIRouter

from tongban.access.dependencies import CurrentActor
from tongban.deps import SessionDep
from tongban.kit.params import PageNumber, PageSize, RowId
from tongban.notify import service
from tongban.notify.schemas import FailedPage, MessagePage, MessageRead, NotifyStats

router = APIRouter(tags=["notifications"])
Page = PageNumber
Size = PageSize
MessageId = RowId


@router.get("/me/messages", response_model=MessagePage)
def my_messages(
    session: SessionDep,
    actor: CurrentActor,
    page: Page = 1,
    size: Size = 20,
    unread_only: bool = False,
) -> MessagePage:
    """我的消息: my in-site messages, newest first, with the unread count."""
    return service.my_messages(session, actor=actor, page=page, size=size, unread_only=unread_only)


@router.post("/me/messages/{message_id}/read", response_model=MessageRead)
def mark_read(message_id: MessageId, session: SessionDep, actor: CurrentActor) -> MessageRead:
    """Mark one of my messages read (idempotent; 404 for anyone else's)."""
    return service.mark_read(session, actor=actor, message_id=message_id)


@router.get("/notifications/failed", response_model=FailedPage)
def failed(session: SessionDep, actor: CurrentActor, page: Page = 1, size: Size = 50) -> FailedPage:
    """Center admin: e-mails and SMS given up on after the last retry (address masked)."""
    return service.failed_messages(session, actor=actor, page=page, size=size)


@router.get("/notifications/stats", response_model=NotifyStats)
def stats(session: SessionDep, actor: CurrentActor) -> NotifyStats:
    """Center admin: outbox rows per channel and status, and the oldest overdue one."""
    return service.stats(session, actor=actor)
