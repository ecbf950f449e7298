"""Every query of the notifications domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tongban.notify.models import DemoSms, Notification
from tongban.notify.rules import CLAIMABLE


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def add_unless_queued(session: Session, values: dict[str, Any]) -> bool:
    """Insert the outbox row unless its dedupe key exists; True when this call created it.

    ON CONFLICT DO NOTHING waits for a concurrent insert of the same key to commit and
    then does nothing: of two transactions queuing one message, one row results.
    """
    statement = (
        _insert(session)(Notification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Notification.id)
    )
    # RETURNING, not rowcount: drivers differ in what rowcount says for DO NOTHING.
    return session.scalar(statement) is not None


# --- delivery --------------------------------------------------------------------------


def _due(at: datetime) -> Any:
    return and_(Notification.status.in_(CLAIMABLE), Notification.next_attempt_at <= at)


def claim_due(
    session: Session, *, at: datetime, limit: int, token: str, lease_until: datetime
) -> list[Notification]:
    """Claim up to ``limit`` due rows for one worker; safe with several workers.

    PostgreSQL skips rows another worker has locked (FOR UPDATE SKIP LOCKED); SQLite
    runs writers one at a time (BEGIN IMMEDIATE). Either way the UPDATE re-checks that
    each row is still due, so a row is claimed by one worker only. A claimed row's
    ``next_attempt_at`` becomes the end of the claim: if the worker dies, the row is
    due again then.
    """
    query = (
        select(Notification.id)
        .where(_due(at))
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if not ids:
        return []
    session.connection().execute(
        update(Notification)
        .where(Notification.id.in_(ids), _due(at))
        .values(
            status="sending",
            claim_token=token,
            next_attempt_at=lease_until,
            attempts=Notification.attempts + 1,
        )
    )
    claimed = select(Notification).where(Notification.claim_token == token)
    return list(session.scalars(claimed.order_by(Notification.id)))


def finish(session: Session, *, row_id: int, token: str, values: dict[str, Any]) -> bool:
    """Record an attempt's result, only if this worker still holds the claim."""
    result = session.connection().execute(
        update(Notification)
        .where(Notification.id == row_id, Notification.claim_token == token)
        .values(claim_token=None, **values)
    )
    return int(result.rowcount) == 1


# --- 我的消息 ----------------------------------------------------------------------------


def _inbox(user_id: int) -> Any:
    return and_(Notification.recipient_user_id == user_id, Notification.channel == "site")


def inbox(
    session: Session, user_id: int, *, offset: int, limit: int, unread_only: bool = False
) -> tuple[list[Notification], int]:
    condition = _inbox(user_id)
    if unread_only:
        condition = and_(condition, Notification.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Notification).where(condition)) or 0
    rows = session.scalars(
        select(Notification)
        .where(condition)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total)


def unread_statement(user_id: int) -> Any:
    """SELECT the unread count (the header's badge runs it outside the request's session)."""
    return (
        select(func.count())
        .select_from(Notification)
        .where(_inbox(user_id), Notification.read_at.is_(None))
    )


def unread_count(session: Session, user_id: int) -> int:
    return int(session.scalar(unread_statement(user_id)) or 0)


def inbox_message(session: Session, user_id: int, message_id: int) -> Notification | None:
    return session.scalar(
        select(Notification).where(_inbox(user_id), Notification.id == message_id)
    )


def mark_read(session: Session, user_id: int, ids: Sequence[int] | None, at: datetime) -> int:
    """Mark the given messages (None: all) of this user read; returns how many changed."""
    condition = and_(_inbox(user_id), Notification.read_at.is_(None))
    if ids is not None:
        condition = and_(condition, Notification.id.in_(list(ids)))
    result = session.connection().execute(update(Notification).where(condition).values(read_at=at))
    return int(result.rowcount)


# --- operations ------------------------------------------------------------------------


def failed(session: Session, *, offset: int, limit: int) -> tuple[list[Notification], int]:
    condition = Notification.status == "failed"
    total = session.scalar(select(func.count()).select_from(Notification).where(condition)) or 0
    rows = session.scalars(
        select(Notification)
        .where(condition)
        .order_by(Notification.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total)


def status_counts(session: Session) -> list[tuple[str, str, int]]:
    """(channel, status, rows) over the whole outbox."""
    query = select(Notification.channel, Notification.status, func.count()).group_by(
        Notification.channel, Notification.status
    )
    return [(str(c), str(s), int(n)) for c, s, n in session.execute(query)]


def oldest_due(session: Session, at: datetime) -> datetime | None:
    query = select(func.min(Notification.next_attempt_at)).where(
        Notification.status == "pending", Notification.next_attempt_at <= at
    )
    return session.scalar(query)


# --- the demo SMS gateway --------------------------------------------------------------


def add_demo_sms(session: Session, *, key: str, phone: str, text: str, at: datetime) -> bool:
    statement = (
        _insert(session)(DemoSms)
        .values(idempotency_key=key, phone=phone, text=text, created_at=at)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(DemoSms.id)
    )
    return session.scalar(statement) is not None


def recent_demo_sms(session: Session, *, limit: int) -> list[DemoSms]:
    query = select(DemoSms).order_by(DemoSms.id.desc()).limit(limit)
    return list(session.scalars(query))
