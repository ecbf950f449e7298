from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow
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
    # Stored encrypted; the blind index answers "which user has this identity number"
    # and, being unique, keeps one account per person.
    id_number: Mapped[str | None] = mapped_column(EncryptedText("users.id_number"))
    id_number_index: Mapped[str | None] = mapped_column(String(32), unique=True)
    phone: Mapped[str | None] = mapped_column(EncryptedText("users.phone"))
    # Sign-in and password reset by phone: one account per mobile number.
    phone_index: Mapped[str | None] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(EncryptedText("users.email"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # 实名认证 level of assurance: 0 none (staff), 1 phone confirmed, 2 identity
    # confirmed against the population register, 3 identity checked in person.
    assurance_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Raised by "sign out everywhere" and a password change: older sessions and
    # tokens carry a smaller number and stop working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class UserSession(Base):
    """One signed-in browser (kind ``cookie``) or one API token (kind ``token``).

    The signed cookie or token carries only this id; the row decides. Every app server
    reads the same row, so a revocation (logout, password change, an admin) holds
    everywhere at once.
    """

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_live", "user_id", "revoked_at"),)

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8))  # cookie | token
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # logout | password | everywhere | admin
    revoked_reason: Mapped[str | None] = mapped_column(String(24))


class LoginThrottle(Base):
    """Consecutive failed sign-ins per username (known or not), and the lock they cause."""

    __tablename__ = "login_throttles"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AttemptCounter(Base):
    """Attempts per (scope, key) in a fixed window: sign-up codes per phone, identity
    checks per identity number, code guesses per phone. Keys are blind indexes."""

    __tablename__ = "attempt_counters"

    scope: Mapped[str] = mapped_column(String(24), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PhoneCode(IdMixin, Base):
    """A one-time code sent to a mobile number (sign-up, password reset).

    Only a keyed hash of the code is stored; the number is kept encrypted with a blind
    index so that the code can be matched to the number it was sent to.
    """

    __tablename__ = "phone_codes"

    purpose: Mapped[str] = mapped_column(String(16))  # signup | reset
    phone: Mapped[str] = mapped_column(EncryptedText("phone_codes.phone"))
    phone_index: Mapped[str] = mapped_column(String(32), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    guesses: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdentityCheck(IdMixin, Base):
    """How an account reached its level of assurance: the record of each 实名认证 step."""

    __tablename__ = "identity_checks"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(24))  # phone_code | population_register | in_person
    outcome: Mapped[str] = mapped_column(String(16))  # verified | mismatch | unavailable
    request_id: Mapped[str] = mapped_column(String(64), default="")  # the exchange request
    checked_by_user_id: Mapped[int | None] = mapped_column(Integer)
    # In person: where (window or service station) and the citizen's recorded consent.
    place: Mapped[str] = mapped_column(String(128), default="")
    consent: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EnterpriseLink(IdMixin, Base):
    """A person acting for an enterprise, confirmed against the enterprise register."""

    __tablename__ = "enterprise_links"
    __table_args__ = (UniqueConstraint("user_id", "credit_code"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    enterprise_name: Mapped[str] = mapped_column(String(128))
    capacity: Mapped[str] = mapped_column(String(24))  # legal_representative | agent
    request_id: Mapped[str] = mapped_column(String(64), default="")
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delegation(IdMixin, Base):
    """委托: a person authorizes an agent to apply on their behalf, with scope and expiry.

    Given from the principal's own account, or recorded by staff at a window or service
    station with the principal present (then the principal may have no account).
    """

    __tablename__ = "delegations"

    principal_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    principal_name: Mapped[str] = mapped_column(String(64))
    principal_id_number: Mapped[str] = mapped_column(
        EncryptedText("delegations.principal_id_number")
    )
    principal_id_index: Mapped[str] = mapped_column(String(32), index=True)
    agent_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Item codes the agent may apply for; empty means every item.
    item_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    given_via: Mapped[str] = mapped_column(String(16))  # account | window
    recorded_by_user_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
