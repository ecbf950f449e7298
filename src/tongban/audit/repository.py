"""Every query of the audit domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tongban.audit.models import AuditEntry, AuditHead

HEAD_ID = 1


def lock_head(session: Session) -> AuditHead:
    """The head row, locked until the transaction ends: appends happen one at a time.

    SQLite transactions here start with BEGIN IMMEDIATE and so are already serial;
    on PostgreSQL the row lock orders concurrent appenders.
    """
    dialect = session.get_bind().dialect.name
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        upsert(AuditHead)
        .values(id=HEAD_ID, tree_size=0, frontier=[], last_checkpoint_size=0)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    head = session.scalar(
        select(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert head is not None
    return head


def head(session: Session) -> AuditHead | None:
    return session.get(AuditHead, HEAD_ID)


def insert_entries(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(AuditEntry), list(rows))


def save_head(session: Session, head: AuditHead, **values: Any) -> None:
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(**values))
    for key, value in values.items():
        setattr(head, key, value)
