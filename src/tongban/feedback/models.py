from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db import Base, IdMixin, UTCDateTime, utcnow
from tongban.privacy.crypto import EncryptedText


class Rating(IdMixin, Base):
    """好差评: one rating per case (一次一评), online by the applicant or offline at the window."""

    __tablename__ = "ratings"

    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    item_code: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(128))
    department_code: Mapped[str] = mapped_column(String(18), index=True)
    department_name: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(8))  # online / offline
    level: Mapped[int] = mapped_column(Integer)
    indicators: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(EncryptedText("ratings.comment"), default="")
    rater_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    recorded_by_user_id: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Appeal of a mistaken or malicious rating: "" / pending / upheld / rejected.
    appeal_state: Mapped[str] = mapped_column(String(12), default="")
    appeal_reason_code: Mapped[str] = mapped_column(String(16), default="")
    appeal_reason: Mapped[str] = mapped_column(EncryptedText("ratings.appeal_reason"), default="")
    appeal_decision: Mapped[str] = mapped_column(
        EncryptedText("ratings.appeal_decision"), default=""
    )
    appeal_decided_by_user_id: Mapped[int | None] = mapped_column(Integer)
    appeal_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FollowUp(IdMixin, Base):
    """The handling department's follow-up of a 差评: 回访 → 整改/说明 → 反馈."""

    __tablename__ = "rating_follow_ups"

    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id"), unique=True)
    case_no: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    department_code: Mapped[str] = mapped_column(String(18), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True, default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    last_event_seq: Mapped[int] = mapped_column(Integer, default=0)


class Complaint(IdMixin, Base):
    """吐槽专区: a complaint or suggestion with a response and a result deadline."""

    __tablename__ = "complaints"

    complaint_no: Mapped[str] = mapped_column(String(24), unique=True)
    query_code: Mapped[str] = mapped_column(String(8))  # lets an anonymous complainant back in
    kind: Mapped[str] = mapped_column(String(12))  # complaint / suggestion
    category: Mapped[str] = mapped_column(String(16))
    target_kind: Mapped[str] = mapped_column(String(12))  # item / department / case / platform
    target_ref: Mapped[str] = mapped_column(String(64), default="")
    target_name: Mapped[str] = mapped_column(String(128), default="")
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    department_code: Mapped[str] = mapped_column(String(18), index=True, default="")  # "" center
    department_name: Mapped[str] = mapped_column(String(128), default="")
    text: Mapped[str] = mapped_column(EncryptedText("complaints.text"))
    complainant_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    contact_name: Mapped[str] = mapped_column(EncryptedText("complaints.contact_name"), default="")
    contact_phone: Mapped[str] = mapped_column(
        EncryptedText("complaints.contact_phone"), default=""
    )
    state: Mapped[str] = mapped_column(String(12), index=True)
    cycle: Mapped[int] = mapped_column(Integer, default=1)  # 1 + times reopened
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cycle_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    response_due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    result_due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    result_due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_text: Mapped[str] = mapped_column(
        EncryptedText("complaints.response_text"), default=""
    )
    resolution_text: Mapped[str] = mapped_column(
        EncryptedText("complaints.resolution_text"), default=""
    )
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    last_event_seq: Mapped[int] = mapped_column(Integer, default=0)


class FeedbackEvent(IdMixin, Base):
    """Append-only history of a complaint or a follow-up, like the case event log."""

    __tablename__ = "feedback_events"
    __table_args__ = (UniqueConstraint("subject_kind", "subject_id", "seq"),)

    subject_kind: Mapped[str] = mapped_column(String(12))  # complaint / follow_up
    subject_id: Mapped[int] = mapped_column(Integer, index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(EncryptedText("feedback_events.note"), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FeedbackAlarm(IdMixin, Base):
    """A warning or escalation raised by the worker. The unique key makes it happen once,
    however many workers sweep at the same time."""

    __tablename__ = "feedback_alarms"
    __table_args__ = (UniqueConstraint("subject_kind", "subject_id", "cycle", "deadline", "level"),)

    subject_kind: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[int] = mapped_column(Integer)
    cycle: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[str] = mapped_column(String(12))  # response / result / follow_up
    level: Mapped[int] = mapped_column(Integer)  # rules.WARNING / DEPARTMENT_HEAD / CENTER_ADMIN
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    department_code: Mapped[str] = mapped_column(String(18), default="")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
