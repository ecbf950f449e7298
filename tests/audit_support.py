"""Helpers for the audit log tests: settings per test, appending entries, tampering with SQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update

from tongban.access.rules import Actor, Role
from tongban.audit import merkle, service, signing
from tongban.audit.models import AuditEntry, AuditHead
from tongban.config import get_settings
from tongban.db import get_engine, transaction

# Applicants reading their own case: recorded like any read, and no misuse rule
# (watched for staff only) runs, so these tests see the log and nothing else.
ENTRIES = AuditEntry.__table__
READER = Actor(user_id=900001, username="applicant_audit", role=Role.APPLICANT, display_name="马某")


@contextmanager
def audit_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **values: Any
) -> Iterator[Path]:
    """A witness file of the test's own, and other audit settings; restored afterwards."""
    witness = tmp_path / "witness.jsonl"
    monkeypatch.setenv("TONGBAN_AUDIT_CHECKPOINT_FILE", str(witness))
    for name, value in values.items():
        monkeypatch.setenv(f"TONGBAN_{name.upper()}", str(value))
    get_settings.cache_clear()
    signing.reset_signing_keys()
    try:
        yield witness
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        signing.reset_signing_keys()


def access(number: int, **changes: Any) -> service.Access:
    values: dict[str, Any] = {
        "action": "read",
        "subject_kind": "case",
        "subject_ref": f"TB2026{number:06d}",
        "person_ref": f"{number:032x}",
        "fields": ("applicant_name", "applicant_id_number"),
        "purpose_code": "self",
        "purpose_text": "查看本人办件",
    }
    values.update(changes)
    return service.Access(**values)


def append(
    url: str, *, batches: int, per_batch: int, actor: Actor | None = READER
) -> list[int | None]:
    """Append ``batches`` transactions of ``per_batch`` entries; returns all sequence numbers."""
    seqs: list[int | None] = []
    for batch in range(batches):
        with transaction(url) as session:
            accesses = [access(batch * per_batch + i) for i in range(per_batch)]
            seqs += service.record_many(session, actor=actor, accesses=accesses)
    return seqs


def execute(url: str, sql: str, **params: Any) -> Any:
    with get_engine(url).begin() as conn:
        return conn.execute(text(sql), params)


def rows(url: str) -> list[dict[str, Any]]:
    """Every entry as the database holds it (typed: datetimes, lists)."""
    with get_engine(url).connect() as conn:
        result = conn.execute(select(ENTRIES).order_by(ENTRIES.c.seq))
        return [dict(row._mapping) for row in result]


def leaf_of(row: dict[str, Any]) -> str:
    return merkle.leaf_hash(service.canonical(row)).hex()


def rehash_head(url: str) -> None:
    """What an attacker with the database (not the keys) can do: make the head fit the rows."""
    frontier: list[bytes] = []
    stored = rows(url)
    for size, row in enumerate(stored):
        merkle.append_leaf(frontier, size, bytes.fromhex(row["leaf_hash"]))
    with get_engine(url).begin() as conn:
        conn.execute(
            update(AuditHead).values(
                tree_size=len(stored),
                frontier=[node.hex() for node in frontier],
                last_checkpoint_size=0,
            )
        )


def insert_row(url: str, row: dict[str, Any]) -> None:
    with get_engine(url).begin() as conn:
        conn.execute(insert(ENTRIES), [row])


def update_row(url: str, seq: int, **values: Any) -> None:
    with get_engine(url).begin() as conn:
        conn.execute(update(ENTRIES).where(ENTRIES.c.seq == seq).values(**values))


def witness_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []
