"""Queued appends: entries written without the head lock, integrated into the tree in batches.

A writer that finds the head row locked by another transaction (PostgreSQL; or every
writer, with ``audit_append = "queue"``) does not wait for it: it inserts its entries
into ``audit_queue`` in its own transaction, with a MAC over their queued canonical
bytes. The data leaves only once that transaction has committed, so "no audit entry,
no data" holds: the entry is durable and keyed before the reader sees anything.

Integration (``integrate``) takes the head lock, reads the queued rows visible to it in
id order, checks each MAC, appends them to the tree exactly as a direct append would
(seq, leaf hash, entry MAC), deletes them from the queue, stores the head and signs a
checkpoint when one is due — all in one transaction. It runs in each app server's
background thread (``audit.integrator``), in ``tongban audit integrate``, in
``service.integrate_pending`` for the job runner, and inline in any writer that holds
the head anyway. A queued row whose MAC does not match is left where it is and named
by ``verify``.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from tongban.audit import checkpoints, merkle, repository
from tongban.audit.models import AuditQueued
from tongban.audit.repository import HeadValues
from tongban.config import get_settings

log = logging.getLogger(__name__)

QUEUE = cast(Table, AuditQueued.__table__)
BATCH = 2000  # queued entries integrated per transaction
QUEUED_PREFIX = b"tongban-audit-queued/1\n"
_REPORTED: set[int] = set()  # queued rows already logged as failing their MAC

# The queued entry's fields as stored, in the order the integrator reads them.
QUEUED_FIELDS = (
    "at",
    "actor_user_id",
    "actor_username",
    "actor_name",
    "actor_role",
    "actor_department_code",
    "action",
    "subject_kind",
    "subject_ref",
    "person_ref",
    "fields",
    "purpose_code",
    "purpose_text",
    "result",
    "related",
    "client_addr",
)
_INSERT = insert(QUEUE)
_PENDING = select(QUEUE.c.id, QUEUE.c.mac, *(QUEUE.c[name] for name in QUEUED_FIELDS)).order_by(
    QUEUE.c.id
)


def queued_canonical(row: dict[str, Any]) -> bytes:
    """The bytes a queued entry's MAC covers: the entry's canonical JSON with seq 0 (no
    entry of the tree has it), after a prefix no leaf hash or entry MAC input starts with."""
    from tongban.audit import service

    return QUEUED_PREFIX + service.canonical({**row, "seq": 0})


def queued_mac(row: dict[str, Any], key: bytes) -> str:
    return hmac.digest(key, queued_canonical(row), "sha256").hex()


def enqueue(session: Session, rows: Sequence[dict[str, Any]], key: bytes) -> None:
    """Queue entries (no seq) in the caller's transaction; no head lock is taken."""
    values = [{**row, "mac": queued_mac(row, key)} for row in rows]
    session.execute(_INSERT, values)


def head_if_free(session: Session) -> HeadValues | None:
    """The head, locked, when this transaction may append directly; None: queue instead.

    SQLite writers are serial (BEGIN IMMEDIATE), so the head is always free there. On
    PostgreSQL the lock is asked with SKIP LOCKED: a writer never waits for another
    writer's append — it queues, and whoever holds or next takes the head integrates.
    """
    mode = get_settings().audit_append
    if mode == "queue":
        return None
    if mode == "wait" or session.get_bind().dialect.name != "postgresql":
        return repository.lock_head_values(session)
    return repository.try_lock_head_values(session)


def may_hold_queued(session: Session) -> bool:
    """Whether a direct append should look at the queue first: on PostgreSQL, where
    writers queue while another holds the head; on SQLite only with audit_append=queue
    set somewhere (the integrator thread drains it anyway) — one statement saved per
    append on the path every audited read takes."""
    return session.get_bind().dialect.name == "postgresql" or (
        get_settings().audit_append == "queue"
    )


def append_locked(
    session: Session, head: HeadValues, rows: Sequence[dict[str, Any]], key: bytes
) -> tuple[HeadValues, list[int]]:
    """Append entries (without seq) to the tree under the head lock the caller holds;
    returns the new head values (stored) and the entries' seqs."""
    from tongban.audit import service

    if not rows:
        return head, []
    frontier = [bytes.fromhex(h) for h in head.frontier]
    size = head.tree_size
    entries = []
    for row in rows:
        entry = {**row, "seq": size + 1}
        leaf = merkle.leaf_hash(service.canonical(entry))
        entry["leaf_hash"] = leaf.hex()
        entry["mac"] = service.entry_mac(entry["leaf_hash"], key)
        merkle.append_leaf(frontier, size, leaf)
        size += 1
        entries.append(entry)
    repository.insert_entries(session, entries)
    repository.store_head(session, tree_size=size, frontier=[h.hex() for h in frontier])
    return head._replace(tree_size=size, frontier=[h.hex() for h in frontier]), [
        entry["seq"] for entry in entries
    ]


def integrate_locked(
    session: Session, head: HeadValues, key: bytes, *, limit: int = BATCH
) -> tuple[HeadValues, int]:
    """Integrate up to ``limit`` queued entries, oldest id first, under the caller's head
    lock; a row whose MAC fails stays queued (logged here, named by verify)."""
    pending = session.execute(_PENDING.limit(limit)).all()
    if not pending:
        return head, 0
    good: list[dict[str, Any]] = []
    done: list[int] = []
    for queued in pending:
        row = dict(zip(QUEUED_FIELDS, queued[2:], strict=True))
        if hmac.compare_digest(queued_mac(row, key), queued.mac or ""):
            good.append(row)
            done.append(queued.id)
        elif queued.id not in _REPORTED:
            _REPORTED.add(queued.id)
            log.error("queued audit entry %s fails its MAC: left in the queue", queued.id)
    head, _ = append_locked(session, head, good, key)
    if done:
        session.execute(delete(QUEUE).where(QUEUE.c.id.in_(done)))
    return head, len(pending)


def checkpoint_if_due(session: Session, head: HeadValues) -> None:
    checkpoints.checkpoint_after_append(
        session,
        tree_size=head.tree_size,
        last_checkpoint_size=head.last_checkpoint_size,
        last_checkpoint_at=head.last_checkpoint_at,
    )


def integrate(session: Session, *, limit: int = BATCH) -> int:
    """One batch: lock the head, integrate what is queued, checkpoint if due; returns the
    number of queued rows looked at (fewer than ``limit``: the queue is drained)."""
    from tongban.audit import service

    head = repository.lock_head_values(session)
    head, seen = integrate_locked(session, head, service.mac_key(), limit=limit)
    if seen:
        checkpoint_if_due(session, head)
    return seen


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(QUEUE)) or 0


def pending_rows(session: Session) -> list[Any]:
    """Every queued row as stored (for verification): id, mac, then QUEUED_FIELDS."""
    return list(session.execute(_PENDING))
