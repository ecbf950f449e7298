from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db import Base, IdMixin, UTCDateTime, utcnow


class AuditEntry(Base):
    """One access to personal data or one privileged action; a leaf of the Merkle tree.

    ``seq`` is the leaf index + 1, assigned under the head row's lock so the log has
    no gaps; ``leaf_hash`` is the RFC 6962 leaf hash of the canonical entry and
    ``mac`` a keyed hash of it (key outside the database), which pinpoints an entry
    whose content and hash were both rewritten.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_actor_at", "actor_user_id", "at"),
        Index("ix_audit_entries_person_at", "person_ref", "at"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_username: Mapped[str] = mapped_column(String(64), default="")
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    actor_role: Mapped[str] = mapped_column(String(16), default="")
    actor_department_code: Mapped[str | None] = mapped_column(String(18))
    action: Mapped[str] = mapped_column(String(32))  # read, unmask, download, export, …
    subject_kind: Mapped[str] = mapped_column(String(24))  # case, upload, user, item, …
    subject_ref: Mapped[str] = mapped_column(String(64), default="")
    person_ref: Mapped[str | None] = mapped_column(String(32))  # privacy.crypto.person_ref
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose_code: Mapped[str] = mapped_column(String(32), default="")
    purpose_text: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(String(16), default="ok")  # ok, denied, refused
    related: Mapped[bool | None] = mapped_column(default=None)  # tied to the reader's work?
    client_addr: Mapped[str | None] = mapped_column(String(64))
    leaf_hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The one row that serializes appends: tree size and the compact range (frontier)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Random, drawn when the log starts: names this log in the checkpoints and the
    # witness file, so the logs of two databases never share an identity.
    log_id: Mapped[str] = mapped_column(String(32), default="")
    tree_size: Mapped[int] = mapped_column(Integer, default=0)
    frontier: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_checkpoint_size: Mapped[int] = mapped_column(Integer, default=0)
    last_checkpoint_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditCheckpoint(Base):
    """A signed (tree size, root hash); also appended to a file outside the database."""

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    algorithm: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)


class AuditAlert(IdMixin, Base):
    """A possible misuse, raised to the security auditors; once per rule, account and window."""

    __tablename__ = "audit_alerts"
    __table_args__ = (UniqueConstraint("rule", "actor_user_id", "window_key"),)

    rule: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))  # low, medium, high
    actor_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_username: Mapped[str] = mapped_column(String(64), default="")
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    window_key: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_note: Mapped[str] = mapped_column(Text, default="")


class AuditVerification(IdMixin, Base):
    """The outcome of each `tongban audit verify` run, shown on the auditor's status page."""

    __tablename__ = "audit_verifications"

    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    tree_size: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column()
    problem: Mapped[str] = mapped_column(Text, default="")
    first_bad_seq: Mapped[int | None] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(default=0.0)


class AuditCounter(Base):
    """A misuse-rule counter of one account in one time bucket, kept up to date on append.

    Minute buckets for the sliding-window rules (persons whose latest read falls in the
    minute, unrelated reads, unmask requests) and day buckets for the persons read that
    Beijing day, so that evaluating the rules sums a bounded number of rows instead of
    counting the account's entries of the day.
    """

    __tablename__ = "audit_counters"

    actor_user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    counter: Mapped[str] = mapped_column(String(16), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class AuditReaderPerson(Base):
    """When an account last read a person's data: makes "distinct persons" countable on append."""

    __tablename__ = "audit_reader_persons"

    actor_user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    person_ref: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_read_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditQueued(Base):
    """An entry written in the reader's transaction, not yet integrated into the tree.

    The same fields as ``AuditEntry`` without a position: ``seq``, the leaf hash and
    its MAC are given at integration, under the head lock, in queue order. ``mac`` is a
    keyed hash of the entry's queued canonical bytes (key outside the database), so a
    queued entry rewritten before integration is refused and named (docs/audit.md).
    """

    __tablename__ = "audit_queue"
    __table_args__ = (
        Index("ix_audit_queue_actor_at", "actor_user_id", "at"),
        Index("ix_audit_queue_person_at", "person_ref", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_username: Mapped[str] = mapped_column(String(64), default="")
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    actor_role: Mapped[str] = mapped_column(String(16), default="")
    actor_department_code: Mapped[str | None] = mapped_column(String(18))
    action: Mapped[str] = mapped_column(String(32))
    subject_kind: Mapped[str] = mapped_column(String(24))
    subject_ref: Mapped[str] = mapped_column(String(64), default="")
    person_ref: Mapped[str | None] = mapped_column(String(32))
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose_code: Mapped[str] = mapped_column(String(32), default="")
    purpose_text: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(String(16), default="ok")
    related: Mapped[bool | None] = mapped_column(default=None)
    client_addr: Mapped[str | None] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))
