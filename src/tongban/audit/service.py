"""The audit log's use cases: record accesses (same transaction as the data), and more.

"No audit entry, no data": callers record before they return personal data, in the
request's own transaction, so a failed append rolls the read back with it.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.audit import context, merkle, repository
from tongban.kit.clock import now
from tongban.privacy import crypto
from tongban.privacy.scanner import mask_text


@dataclass(frozen=True)
class Access:
    """One access to record: what was touched, whose data, which fields, why."""

    action: str  # read, unmask, download, export, exchange, or a privileged action
    subject_kind: str  # case, upload, user, item, calendar, key, alert …
    subject_ref: str = ""
    person_ref: str | None = None  # crypto.person_ref of the data subject
    fields: tuple[str, ...] = ()
    purpose_code: str = ""
    purpose_text: str = ""
    result: str = "ok"  # ok, denied, refused
    related: bool | None = None  # tied to a case or task assigned to the reader?


# The entry's fields that its leaf hash covers, in this order.
HASHED_FIELDS = (
    "seq",
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


def canonical(entry: dict[str, Any]) -> bytes:
    """The bytes a leaf hashes: the entry's fields as compact, key-sorted JSON."""
    data = {name: entry[name] for name in HASHED_FIELDS}
    at = data["at"]
    if isinstance(at, datetime):
        data["at"] = at.isoformat(timespec="microseconds")
    data["fields"] = list(data["fields"] or [])
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def entry_mac(leaf_hex: str) -> str:
    """A keyed hash of the leaf: without the key (outside the database) it cannot be forged."""
    key = crypto.keyring().derive(b"tongban audit entry mac")
    return hmac.new(key, bytes.fromhex(leaf_hex), "sha256").hexdigest()


def record(session: Session, *, actor: Actor | None, access: Access) -> int:
    """Append one entry; returns its sequence number."""
    return record_many(session, actor=actor, accesses=[access])[-1]


def record_many(session: Session, *, actor: Actor | None, accesses: Sequence[Access]) -> list[int]:
    """Append entries in order under the head lock; returns their sequence numbers."""
    if not accesses:
        return []
    head = repository.lock_head(session)
    frontier = [bytes.fromhex(h) for h in head.frontier]
    size = head.tree_size
    at = now()
    rows = []
    for access in accesses:
        row = _row(actor, access, seq=size + 1, at=at)
        leaf = merkle.leaf_hash(canonical(row))
        row["leaf_hash"] = leaf.hex()
        row["mac"] = entry_mac(row["leaf_hash"])
        merkle.append_leaf(frontier, size, leaf)
        size += 1
        rows.append(row)
    repository.insert_entries(session, rows)
    repository.save_head(session, head, tree_size=size, frontier=[h.hex() for h in frontier])
    _after_append(session, actor, rows)
    return [row["seq"] for row in rows]


def _row(actor: Actor | None, access: Access, *, seq: int, at: datetime) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": at,
        "actor_user_id": actor.user_id if actor else None,
        "actor_username": actor.username if actor else "",
        "actor_name": (actor.display_name or actor.username) if actor else "",
        "actor_role": actor.role.value if actor else "anonymous",
        "actor_department_code": actor.department_code if actor else None,
        "action": access.action,
        "subject_kind": access.subject_kind,
        "subject_ref": access.subject_ref,
        "person_ref": access.person_ref,
        "fields": list(access.fields),
        "purpose_code": access.purpose_code,
        # a reason typed by staff may itself hold a number: keep it masked
        "purpose_text": mask_text(access.purpose_text),
        "result": access.result,
        "related": access.related,
        "client_addr": context.client_addr.get(),
    }


def _after_append(session: Session, actor: Actor | None, rows: list[dict[str, Any]]) -> None:
    from tongban.audit import alerts, checkpoints

    checkpoints.checkpoint_if_due(session)
    alerts.evaluate(session, actor, rows)
