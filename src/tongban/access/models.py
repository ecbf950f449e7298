from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db import Base, IdMixin, TimestampMixin, UTCDateTime
from tongban.privacy.crypto import EncryptedText


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(64), default="")
    region_code: Mapped[str | None] = mapped_column(String(12))
    department_code: Mapped[str | None] = mapped_column(String(18))
    # The applicant's own identity, so that "my cases" can match cases filed for them.
    # Stored encrypted; the blind index answers "which user has this identity number".
    id_number: Mapped[str | None] = mapped_column(EncryptedText("users.id_number"))
    id_number_index: Mapped[str | None] = mapped_column(String(32), index=True)
    phone: Mapped[str | None] = mapped_column(EncryptedText("users.phone"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class LoginThrottle(Base):
    """Consecutive failed sign-ins per username (known or not), and the lock they cause."""

    __tablename__ = "login_throttles"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
