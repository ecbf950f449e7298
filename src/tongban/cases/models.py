from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.db import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow
from tongban.privacy.crypto import EncryptedJSON, EncryptedText


class Case(IdMixin, TimestampMixin, Base):
    """办件: one application for an item or a bundle (一件事)."""

    __tablename__ = "cases"

    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    query_code: Mapped[str] = mapped_column(String(8))
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    item_code: Mapped[str | None] = mapped_column(String(64))
    bundle_code: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(128))
    lead_department_code: Mapped[str] = mapped_column(String(18))
    lead_department_name: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(24), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    # Filed with 长辈模式 (elder mode) switched on in the portal: indicator I2 counts it.
    elder_mode: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    applicant_kind: Mapped[str] = mapped_column(String(16))
    applicant_name: Mapped[str] = mapped_column(String(64))
    # Sensitive personal data is stored encrypted (privacy/policy.toml); the blind
    # index finds a person's cases without storing the identity number in plain.
    applicant_id_number: Mapped[str] = mapped_column(EncryptedText("cases.applicant_id_number"))
    applicant_id_index: Mapped[str] = mapped_column(String(32), index=True, default="")
    applicant_phone: Mapped[str] = mapped_column(EncryptedText("cases.applicant_phone"), default="")
    applicant_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    submitted_by_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # On what footing the filer acted: self, enterprise (a linked enterprise), delegation
    # (委托, ``delegation_id``) or window (staff filing with the person present).
    filing_basis: Mapped[str] = mapped_column(String(16), default="self", server_default="self")
    delegation_id: Mapped[int | None] = mapped_column(Integer)
    form_data: Mapped[dict[str, Any]] = mapped_column(
        EncryptedJSON("cases.form_data"), default=dict
    )
    limit_days: Mapped[int] = mapped_column(Integer)
    statutory_limit_days: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    statutory_deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_note: Mapped[str] = mapped_column(EncryptedText("cases.decision_note"), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_method: Mapped[str | None] = mapped_column(String(16))
    # How the applicant asked to receive the result (送达方式): pickup, mail, electronic.
    delivery_preference: Mapped[str] = mapped_column(
        String(16), default="pickup", server_default="pickup"
    )
    # Who decides (the item's decided_by): the lead department, or the window.
    decided_by: Mapped[str] = mapped_column(
        String(16), default="department", server_default="department"
    )
    # The decision document (决定书) as first issued: its file in storage, by content hash.
    decision_document_sha256: Mapped[str | None] = mapped_column(String(64))
    last_event_seq: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    tasks: Mapped[list[Task]] = relationship(back_populates="case", order_by="Task.id")
    materials: Mapped[list[CaseMaterial]] = relationship(
        back_populates="case", order_by="CaseMaterial.id"
    )
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.seq")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Task(IdMixin, Base):
    """部门任务: one department's part of a case; a case's tasks run in parallel."""

    __tablename__ = "case_tasks"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(64))
    item_name: Mapped[str] = mapped_column(String(128))
    department_code: Mapped[str] = mapped_column(String(18), index=True)
    department_name: Mapped[str] = mapped_column(String(128))
    # pending (办理中), approved, denied; waiting (an earlier stage of the bundle is still
    # open) and cancelled (an earlier stage was denied).
    state: Mapped[str] = mapped_column(String(16), default="pending")
    stage: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    note: Mapped[str] = mapped_column(EncryptedText("case_tasks.note"), default="")
    decided_by_user_id: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="tasks")


class CaseEvent(IdMixin, Base):
    """办件事件: the append-only log every timeline, clock and analysis reads from."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    national_code: Mapped[int | None] = mapped_column(Integer)
    task_id: Mapped[int | None] = mapped_column(Integer)
    department_code: Mapped[str | None] = mapped_column(String(18))
    note: Mapped[str] = mapped_column(EncryptedText("case_events.note"), default="")
    # The supplement notice's list is typed by staff and may carry personal data.
    payload: Mapped[dict[str, Any]] = mapped_column(
        EncryptedJSON("case_events.payload"), default=dict
    )

    case: Mapped[Case] = relationship(back_populates="events")


class Upload(IdMixin, Base):
    """A file as received, stored by content hash; attached to a case when submitted."""

    __tablename__ = "uploads"

    token: Mapped[str] = mapped_column(String(32), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(EncryptedText("uploads.filename"))
    owner_user_id: Mapped[int] = mapped_column(Integer, index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseMaterial(IdMixin, Base):
    __tablename__ = "case_materials"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    requirement_id: Mapped[int] = mapped_column(Integer)
    requirement_name: Mapped[str] = mapped_column(String(128))
    item_code: Mapped[str] = mapped_column(String(64))
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id"))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    note: Mapped[str] = mapped_column(EncryptedText("case_materials.note"), default="")

    case: Mapped[Case] = relationship(back_populates="materials")
    upload: Mapped[Upload] = relationship()


class CaseSequence(Base):
    """Per region and day counter behind case numbers; an atomic upsert keeps them unique."""

    __tablename__ = "case_sequences"

    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyRecord(IdMixin, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    user_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    case_no: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseVerification(IdMixin, Base):
    """One shared-data check made for a case instead of a paper material (免提交).

    Written at submission; the outcome never changes. A check that did not pass is
    resolved by the clerk recording that the paper document was checked.
    """

    __tablename__ = "case_verifications"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    requirement_id: Mapped[int] = mapped_column(Integer)
    requirement_name: Mapped[str] = mapped_column(String(128))
    item_code: Mapped[str] = mapped_column(String(64))
    service_code: Mapped[str] = mapped_column(String(64))
    provider_code: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(128), default="")
    claim: Mapped[str | None] = mapped_column(String(64))
    claim_holds: Mapped[bool] = mapped_column(Boolean, default=True)  # the answer that replaces
    elements: Mapped[list[str]] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(String(16))  # verified mismatch unavailable denied
    code: Mapped[str] = mapped_column(String(64), default="")
    message_zh: Mapped[str] = mapped_column(Text, default="")
    message_en: Mapped[str] = mapped_column(Text, default="")
    # Compared fields, already masked by the exchange; encrypted all the same (names).
    fields: Mapped[list[dict[str, Any]]] = mapped_column(
        EncryptedJSON("case_verifications.fields"), default=list
    )
    request_id: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paper_checked_by_user_id: Mapped[int | None] = mapped_column(Integer)
    paper_checked_by_name: Mapped[str] = mapped_column(String(64), default="")
    paper_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
