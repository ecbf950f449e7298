"""Signed checkpoints of the audit tree, and the witness file outside the database.

A checkpoint signs (log origin, tree size, root hash, time). The origin is the log's
random id, drawn when its first entry is appended: it names the log, so checkpoints
of another database (a dropped development database, another county) in the same
witness file are told apart.

Each checkpoint is stored in ``audit_checkpoints`` and, once the transaction that
made it has committed, appended as one JSON line to ``settings.audit_checkpoint_file``
(fsynced). Whoever rewrites the database cannot take back a line already written
there, so cutting entries off the log's tail is caught by ``verify`` — keep the file
on storage the database's administrators cannot rewrite (docs/audit.md).
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from tongban.audit import merkle, repository, signing
from tongban.audit.models import AuditCheckpoint
from tongban.config import get_settings
from tongban.kit.clock import now

log = logging.getLogger(__name__)

SIGNED_HEADER = "tongban-audit-checkpoint/1"
_PENDING = "tongban.audit.pending_checkpoints"


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head, as stored in the database and in the witness file."""

    origin: str  # leaf hash of entry 1
    tree_size: int
    root_hash: str  # hex
    signed_at: datetime  # UTC
    algorithm: str
    key_id: str
    signature: str  # base64

    def signed_bytes(self) -> bytes:
        return signed_text(self.origin, self.tree_size, self.root_hash, self.signed_at)

    def to_line(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["signed_at"] = _iso(self.signed_at)
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_line(cls, line: str) -> Checkpoint:
        data = json.loads(line)
        data["signed_at"] = datetime.fromisoformat(data["signed_at"])
        return cls(**data)

    @classmethod
    def from_row(cls, row: AuditCheckpoint, origin: str) -> Checkpoint:
        return cls(
            origin=origin,
            tree_size=row.tree_size,
            root_hash=row.root_hash,
            signed_at=row.signed_at,
            algorithm=row.algorithm,
            key_id=row.key_id,
            signature=row.signature,
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def signed_text(origin: str, tree_size: int, root_hash: str, signed_at: datetime) -> bytes:
    """The exact bytes a checkpoint signature covers (one field a line)."""
    return f"{SIGNED_HEADER}\n{origin}\n{tree_size}\n{root_hash}\n{_iso(signed_at)}\n".encode()


def signature_problem(checkpoint: Checkpoint, keys: signing.SigningKeys) -> str | None:
    """None when the signature is valid; else why not (unknown key or bad signature)."""
    verifier = keys.verifier(checkpoint.key_id)
    if verifier is None or verifier.algorithm != checkpoint.algorithm:
        return "unknown_key"
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except ValueError:
        return "bad_signature"
    if not verifier.verify(checkpoint.signed_bytes(), signature):
        return "bad_signature"
    return None


# -- making checkpoints --------------------------------------------------------------


def checkpoint_if_due(session: Session) -> Checkpoint | None:
    """Checkpoint after an append when enough entries or time have passed since the last."""
    head = repository.head(session)
    if head is None:
        return None
    return checkpoint_after_append(
        session,
        tree_size=head.tree_size,
        last_checkpoint_size=head.last_checkpoint_size,
        last_checkpoint_at=head.last_checkpoint_at,
    )


def checkpoint_after_append(
    session: Session,
    *,
    tree_size: int,
    last_checkpoint_size: int,
    last_checkpoint_at: datetime | None,
) -> Checkpoint | None:
    """``checkpoint_if_due`` for ``service.record_many``, which holds the head lock and
    passes the head's values: a not-yet-due check costs no query."""
    if tree_size <= last_checkpoint_size:
        return None
    settings = get_settings()
    due = (
        tree_size - last_checkpoint_size >= settings.audit_checkpoint_every
        or last_checkpoint_at is None
        or now() - last_checkpoint_at >= timedelta(seconds=settings.audit_checkpoint_seconds)
    )
    return create_checkpoint(session) if due else None


def create_checkpoint(session: Session) -> Checkpoint | None:
    """Sign the current tree head; None when no entry was added since the last checkpoint.

    The witness line is written after this transaction commits (nothing if it rolls back).
    """
    head = repository.lock_head(session)
    if head.tree_size == 0 or repository.checkpoint_at(session, head.tree_size) is not None:
        return None
    log_origin = head.log_id
    root_hash = merkle.root_from_frontier([bytes.fromhex(h) for h in head.frontier]).hex()
    signed_at = now().astimezone(UTC)
    signer = signing.signing_keys().current
    signature = signer.sign(signed_text(log_origin, head.tree_size, root_hash, signed_at))
    row = AuditCheckpoint(
        tree_size=head.tree_size,
        root_hash=root_hash,
        signed_at=signed_at,
        algorithm=signer.algorithm,
        key_id=signer.key_id,
        signature=base64.b64encode(signature).decode(),
    )
    repository.add_checkpoint(session, row)
    repository.save_head(
        session, head, last_checkpoint_size=head.tree_size, last_checkpoint_at=signed_at
    )
    checkpoint = Checkpoint.from_row(row, log_origin)
    path = Path(get_settings().audit_checkpoint_file)
    session.info.setdefault(_PENDING, []).append((row, checkpoint, path))
    return checkpoint


def latest(session: Session) -> Checkpoint | None:
    row = repository.latest_checkpoint(session)
    return Checkpoint.from_row(row, origin(session)) if row else None


def origin(session: Session) -> str:
    head = repository.head(session)
    return head.log_id if head else ""


def stored(session: Session) -> list[Checkpoint]:
    """Every checkpoint in the database, smallest first."""
    log_origin = origin(session)
    return [Checkpoint.from_row(row, log_origin) for row in repository.all_checkpoints(session)]


# -- the witness file ----------------------------------------------------------------


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    # Releasing a savepoint fires this too: wait for the outermost commit.
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    by_path: dict[Path, list[str]] = {}
    for row, checkpoint, path in pending:
        # A checkpoint made inside a savepoint that was rolled back never reached the database.
        if inspect(row).persistent:
            by_path.setdefault(path, []).append(checkpoint.to_line())
    for path, lines in by_path.items():
        try:
            append_lines(path, lines)
        except OSError:
            # The data is committed; `tongban audit checkpoint` publishes what is missing.
            log.exception("could not append %d checkpoint(s) to %s", len(lines), path)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    # A savepoint rolled back keeps the outer transaction's checkpoints (those made
    # inside it are no longer persistent and are skipped when publishing).
    if session.in_nested_transaction():
        return
    session.info.pop(_PENDING, None)


def append_lines(path: Path, lines: list[str]) -> None:
    """Append whole lines under an exclusive lock, then fsync (and the folder, if new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, "".join(line + "\n" for line in lines).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


@dataclass
class Witness:
    """What the witness file says: checkpoints by origin, and lines it could not read."""

    checkpoints: list[Checkpoint]
    unreadable: list[int]  # line numbers

    def of(self, log_origin: str) -> list[Checkpoint]:
        return [c for c in self.checkpoints if c.origin == log_origin]


def read_witness(path: Path | None = None) -> Witness:
    path = Path(path or get_settings().audit_checkpoint_file)
    witness = Witness([], [])
    if not path.exists():
        return witness
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                witness.checkpoints.append(Checkpoint.from_line(line))
            except (ValueError, TypeError, KeyError):
                witness.unreadable.append(number)
    return witness


def publish_missing(session: Session, path: Path | None = None) -> int:
    """Append to the witness file the stored checkpoints it lacks (after a failed write)."""
    path = Path(path or get_settings().audit_checkpoint_file)
    log_origin = origin(session)
    have = {c.tree_size for c in read_witness(path).of(log_origin)}
    missing = [c.to_line() for c in stored(session) if c.tree_size not in have]
    if missing:
        append_lines(path, missing)
    return len(missing)
