"""Every query of the audit domain."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Table,
    and_,
    func,
    insert,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from tongban.audit.models import (
    AuditAlert,
    AuditCheckpoint,
    AuditEntry,
    AuditHead,
    AuditQueued,
    AuditVerification,
)

HEAD_ID = 1


_HEAD = cast(Table, AuditHead.__table__)
_ENTRIES = cast(Table, AuditEntry.__table__)
_QUEUE = cast(Table, AuditQueued.__table__)  # entries not yet integrated (audit.queue)
_LOADED_HEAD = identity_key(AuditHead, HEAD_ID)

_LOCKED_HEAD = (
    select(AuditHead)
    .where(AuditHead.id == HEAD_ID)
    .with_for_update()
    .execution_options(populate_existing=True)
)
# The append path reads and writes the head as a plain row: loading an ORM object
# (and the unit of work's bookkeeping of it) cost more than the append's hashing.
_LOCKED_HEAD_VALUES = (
    select(
        _HEAD.c.log_id,
        _HEAD.c.tree_size,
        _HEAD.c.frontier,
        _HEAD.c.last_checkpoint_size,
        _HEAD.c.last_checkpoint_at,
    )
    .where(_HEAD.c.id == HEAD_ID)
    .with_for_update()
)
_UPDATE_HEAD = update(_HEAD).where(_HEAD.c.id == HEAD_ID)  # SET from the parameters' names
_INSERT_ENTRIES = insert(_ENTRIES)


class HeadValues(NamedTuple):
    """The head row as the append path needs it."""

    log_id: str
    tree_size: int
    frontier: list[str]
    last_checkpoint_size: int
    last_checkpoint_at: datetime | None


def lock_head(session: Session) -> AuditHead:
    """The head row, locked until the transaction ends: appends happen one at a time.

    SQLite transactions here start with BEGIN IMMEDIATE and so are already serial;
    on PostgreSQL the row lock orders concurrent appenders. The row is created by
    the log's first append (an upsert, so two first appends cannot both create it).
    """
    head = session.scalar(_LOCKED_HEAD)
    if head is None:
        _create_head(session)
        head = session.scalar(_LOCKED_HEAD)
    assert head is not None
    return head


def lock_head_values(session: Session) -> HeadValues:
    """``lock_head`` for the append path: the same lock, the row's values without an object."""
    # Flush first, as the ORM query did: writes already made are ordered before the lock.
    if session.autoflush:
        session.flush()
    row = session.execute(_LOCKED_HEAD_VALUES).first()
    if row is None:
        _create_head(session)
        row = session.execute(_LOCKED_HEAD_VALUES).first()
    assert row is not None
    return HeadValues(*row)


def try_lock_head_values(session: Session) -> HeadValues | None:
    """``lock_head_values`` without waiting: None while another transaction holds the head
    (PostgreSQL, SKIP LOCKED); a head that does not exist yet is created and locked."""
    if session.autoflush:
        session.flush()
    row = session.execute(_LOCKED_HEAD_VALUES.with_for_update(skip_locked=True)).first()
    if row is not None:
        return HeadValues(*row)
    exists = session.execute(select(_HEAD.c.id).where(_HEAD.c.id == HEAD_ID)).first()
    return None if exists else lock_head_values(session)


def _create_head(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        upsert(AuditHead)
        .values(
            id=HEAD_ID,
            log_id=secrets.token_hex(16),
            tree_size=0,
            frontier=[],
            last_checkpoint_size=0,
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )


def head(session: Session) -> AuditHead | None:
    return session.get(AuditHead, HEAD_ID)


def insert_entries(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """One executemany on the table (the ORM's bulk insert adds nothing these rows need)."""
    if rows:
        session.execute(_INSERT_ENTRIES, list(rows))


def save_head(session: Session, head: AuditHead, **values: Any) -> None:
    """One UPDATE; the loaded row is told the new values as already stored, so the
    unit of work does not write them a second time."""
    store_head(session, **values)
    for key, value in values.items():
        set_committed_value(head, key, value)


def store_head(session: Session, **values: Any) -> None:
    """One UPDATE of the head; a head object already loaded in the session is kept in step."""
    session.execute(_UPDATE_HEAD, values)
    loaded = session.identity_map.get(_LOADED_HEAD)
    if loaded is not None:
        for key, value in values.items():
            set_committed_value(loaded, key, value)


# --- The tree: checkpoints, streaming reads for verification and proofs ------------

STREAM_BATCH = 5000  # rows per fetch: a server-side cursor on PostgreSQL, bounded memory


def entry(session: Session, seq: int) -> AuditEntry | None:
    return session.get(AuditEntry, seq)


def stream_entries(session: Session, columns: Sequence[str]) -> Iterator[Any]:
    """Every entry's ``columns`` in seq order, fetched in batches."""
    table = AuditEntry.__table__
    query = select(*(table.c[name] for name in columns)).order_by(table.c.seq)
    return iter(session.execute(query.execution_options(yield_per=STREAM_BATCH)))


def stream_entry_values(session: Session, columns: Sequence[str]) -> Iterator[Sequence[Any]]:
    """Every entry's ``columns`` in seq order as the driver gives them, in batches.

    For a whole-log pass (verification): no ORM rows and no type processing — a
    datetime comes back as the driver's value (text on SQLite), JSON as text on
    SQLite. The session's transaction (its snapshot) is used; on PostgreSQL through
    a server-side (named) cursor, so memory stays flat for any size.
    """
    listed = ", ".join(columns)
    sql = f"SELECT {listed} FROM {_ENTRIES.name} ORDER BY seq"  # names from HASHED_FIELDS
    dbapi: Any = session.connection().connection.driver_connection
    postgres = session.get_bind().dialect.name == "postgresql"
    cursor = dbapi.cursor(name="tongban_audit_stream") if postgres else dbapi.cursor()
    try:
        if postgres:
            cursor.itersize = STREAM_BATCH
        cursor.execute(sql)
        while batch := cursor.fetchmany(STREAM_BATCH):
            yield from batch
    finally:
        cursor.close()


def stream_leaf_hashes(session: Session, up_to: int) -> Iterator[str]:
    query = (
        select(AuditEntry.leaf_hash)
        .where(AuditEntry.seq <= up_to)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=STREAM_BATCH)
    )
    return iter(session.scalars(query))


def add_checkpoint(session: Session, checkpoint: AuditCheckpoint) -> None:
    session.add(checkpoint)
    session.flush()


def checkpoint_at(session: Session, tree_size: int) -> AuditCheckpoint | None:
    return session.get(AuditCheckpoint, tree_size)


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()))


def all_checkpoints(session: Session) -> list[AuditCheckpoint]:
    return list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)))


def add_verification(session: Session, values: dict[str, Any]) -> AuditVerification:
    verification = AuditVerification(**values)
    session.add(verification)
    session.flush()
    return verification


# --- Misuse alerts and the auditor's views --------------------------------------------
# Window counts use the (actor_user_id, at) index, a person's accesses the (person_ref, at) one.


def _personal_read(table: Table, read_actions: Sequence[str]) -> Any:
    return and_(
        table.c.action.in_(read_actions),
        table.c.person_ref.is_not(None),
        table.c.result == "ok",
    )


def persons_read_since(
    session: Session, *, user_id: int, read_actions: Sequence[str], since: datetime
) -> set[str]:
    """The persons the account read since then, in the tree or still queued."""
    found: set[str] = set()
    for table in (_ENTRIES, _QUEUE):
        rows = session.scalars(
            select(table.c.person_ref)
            .distinct()
            .where(
                table.c.actor_user_id == user_id,
                table.c.at >= since,
                _personal_read(table, read_actions),
            )
        )
        found.update(person for person in rows if person)
    return found


def recent_alert(
    session: Session, *, rule: str, user_id: int, since: datetime
) -> AuditAlert | None:
    return session.scalar(
        select(AuditAlert)
        .where(
            AuditAlert.rule == rule,
            AuditAlert.actor_user_id == user_id,
            AuditAlert.created_at >= since,
        )
        .order_by(AuditAlert.created_at.desc())
        .limit(1)
    )


def insert_alert(session: Session, values: dict[str, Any]) -> bool:
    """Insert unless (rule, account, window) already has one; True when inserted.

    ON CONFLICT DO NOTHING on both backends, so a concurrent or repeated crossing
    neither fails the reader's transaction nor duplicates the alert.
    """
    dialect = session.get_bind().dialect.name
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    inserted = session.scalar(
        upsert(AuditAlert)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["rule", "actor_user_id", "window_key"])
        .returning(AuditAlert.id)
    )
    return inserted is not None


def update_alert(session: Session, alert_id: int, **values: Any) -> None:
    session.execute(update(AuditAlert).where(AuditAlert.id == alert_id).values(**values))


def has_unresolved_alert(session: Session, *, rule: str, user_id: int) -> bool:
    """An alert of this rule not yet closed (open, or acknowledged and under review)."""
    found = session.scalar(
        select(AuditAlert.id)
        .where(
            AuditAlert.rule == rule,
            AuditAlert.actor_user_id == user_id,
            AuditAlert.status != "closed",
        )
        .limit(1)
    )
    return found is not None


def alert(session: Session, alert_id: int) -> AuditAlert | None:
    """The alert, locked and fresh (its figures may have been updated by a statement)."""
    return session.get(AuditAlert, alert_id, with_for_update=True, populate_existing=True)


def alerts_page(
    session: Session, *, status: str | None, offset: int, limit: int
) -> tuple[list[AuditAlert], int]:
    query = select(AuditAlert)
    if status:
        query = query.where(AuditAlert.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    newest_first = query.order_by(AuditAlert.created_at.desc(), AuditAlert.id.desc())
    rows = session.scalars(newest_first.offset(offset).limit(limit))
    return list(rows), total


def alert_counts_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(AuditAlert.status, func.count()).group_by(AuditAlert.status))
    return {status: int(count) for status, count in rows}


# The columns an auditor or a data subject sees (schemas.AccessRead); a queued entry
# has no seq yet.
_SHOWN = (
    "at",
    "actor_username",
    "actor_name",
    "actor_role",
    "actor_department_code",
    "action",
    "subject_kind",
    "subject_ref",
    "fields",
    "purpose_code",
    "purpose_text",
    "result",
    "related",
    "client_addr",
)


def _entries_page(
    session: Session, condition_of: Callable[[Table], Any], *, offset: int, limit: int
) -> tuple[list[Any], int]:
    """Entries of the tree and of the queue (not yet integrated) matching the condition,
    newest first: whoever looks sees an access the moment it was recorded."""
    total = 0
    for table in (_ENTRIES, _QUEUE):
        count = select(func.count()).select_from(table).where(condition_of(table))
        total += session.scalar(count) or 0
    no_number = null().cast(Integer)
    integrated = select(
        _ENTRIES.c.seq, no_number.label("queued_id"), *(_ENTRIES.c[name] for name in _SHOWN)
    ).where(condition_of(_ENTRIES))
    queued = select(
        no_number.label("seq"), _QUEUE.c.id.label("queued_id"), *(_QUEUE.c[n] for n in _SHOWN)
    ).where(condition_of(_QUEUE))
    both = union_all(integrated, queued).subquery()
    newest_first = (both.c.at.desc(), both.c.seq.desc().nulls_first(), both.c.queued_id.desc())
    rows = session.execute(select(both).order_by(*newest_first).offset(offset).limit(limit))
    return list(rows), total


def person_accesses(
    session: Session,
    *,
    person_ref: str,
    roles: Sequence[str],
    purposes: Sequence[str] = (),
    offset: int,
    limit: int,
) -> tuple[list[Any], int]:
    """Entries about a person by these roles, or (whoever read) for these purposes."""

    def condition(table: Table) -> ColumnElement[bool]:
        by: ColumnElement[bool] = table.c.actor_role.in_(roles)
        if purposes:
            by = or_(by, table.c.purpose_code.in_(purposes))
        return and_(table.c.person_ref == person_ref, by)

    return _entries_page(session, condition, offset=offset, limit=limit)


def account_entries(
    session: Session, *, user_id: int | None, username: str, offset: int, limit: int
) -> tuple[list[Any], int]:
    # By id where the account exists (indexed); by name for one removed since.
    def condition(table: Table) -> ColumnElement[bool]:
        if user_id is not None:
            return table.c.actor_user_id == user_id
        return table.c.actor_username == username

    return _entries_page(session, condition, offset=offset, limit=limit)


def latest_verifications(session: Session, limit: int) -> list[AuditVerification]:
    rows = session.scalars(
        select(AuditVerification)
        .order_by(AuditVerification.ran_at.desc(), AuditVerification.id.desc())
        .limit(limit)
    )
    return list(rows)


def latest_checkpoints(session: Session, limit: int) -> list[AuditCheckpoint]:
    rows = session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(limit)
    )
    return list(rows)
