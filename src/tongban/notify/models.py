"""The notification outbox and the demo SMS gateway's log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db import Base, IdMixin, UTCDateTime, utcnow
from tongban.privacy.crypto import EncryptedJSON, EncryptedText


class Notification(IdMixin, Base):
    """One message to one recipient on one channel: a row of the outbox.

    Written in the transaction of the event that causes it. A ``site`` row *is* the
    in-site message (站内信, status ``sent`` at once, ``read_at`` when read); ``email``
    and ``sms`` rows wait as ``pending`` until a worker claims (``sending``) and
    delivers them. The unique ``dedupe_key`` makes queuing idempotent and also names
    the message at the receiving end (e-mail Message-ID, SMS Idempotency-Key).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index("ix_notifications_inbox", "recipient_user_id", "channel", "read_at"),
    )

    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(8))  # site | email | sms
    recipient_user_id: Mapped[int | None] = mapped_column(Integer)
    # Phone number or e-mail address ("" for site messages), and everything said.
    address: Mapped[str] = mapped_column(EncryptedText("notifications.address"), default="")
    params: Mapped[dict[str, Any]] = mapped_column(
        EncryptedJSON("notifications.params"), default=dict
    )
    subject: Mapped[str] = mapped_column(EncryptedText("notifications.subject"), default="")
    body: Mapped[str] = mapped_column(EncryptedText("notifications.body"), default="")
    # pending → sending → sent | pending (retry) | failed; skipped, expired
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When a pending row is due; while sending, when the claim lapses (a crashed worker).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # one-time codes
    last_error: Mapped[str] = mapped_column(String(200), default="")
    provider_ref: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DemoSms(IdMixin, Base):
    """What the demo SMS gateway "sent": shown on /demo/sms (never in production)."""

    __tablename__ = "demo_sms"

    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str] = mapped_column(EncryptedText("demo_sms.phone"))
    text: Mapped[str] = mapped_column(EncryptedText("demo_sms.text"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
