"""Exchange tables: providers and their services, authorizations, consents, peer nodes,
seen nonces, and one row per call for monitoring.

The payload of a call is never stored here: the audit log holds who asked what for
which person (as a blind index) and the hashes of the signed request and response;
``exchange_calls`` holds only what operations needs (latency, outcome, error code).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.db import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow
from tongban.privacy.crypto import EncryptedText


class ExchangeProvider(IdMixin, TimestampMixin, Base):
    """数据提供方: a department system (or a peer node) and how to reach it."""

    __tablename__ = "exchange_providers"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    department_code: Mapped[str] = mapped_column(String(18))
    kind: Mapped[str] = mapped_column(String(8))  # sql, file, rest, node
    # A SQLAlchemy URL may carry a password: the location is stored encrypted.
    location: Mapped[str] = mapped_column(EncryptedText("exchange_providers.location"))
    mapping: Mapped[str] = mapped_column(String(64))  # mapping name; node: the peer's node id
    status: Mapped[str] = mapped_column(String(16), default="pending")
    timeout_seconds: Mapped[float] = mapped_column(Float)
    retries: Mapped[int] = mapped_column(Integer)
    breaker_failures: Mapped[int] = mapped_column(Integer)
    breaker_cooldown_seconds: Mapped[float] = mapped_column(Float)
    registered_by: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    status_changed_by: Mapped[str | None] = mapped_column(String(64))
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    services: Mapped[list[ExchangeService]] = relationship(
        back_populates="provider", order_by="ExchangeService.code"
    )


class ExchangeService(IdMixin, Base):
    """A service a provider offers: the elements it returns and the yes/no claims it answers.

    ``claims`` maps a claim name to ``{"label", "equals": [codes the asker supplies],
    "fixed": {code: value}}``; an empty claim asks whether any record exists.
    """

    __tablename__ = "exchange_services"

    provider_id: Mapped[int] = mapped_column(ForeignKey("exchange_providers.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    elements: Mapped[list[str]] = mapped_column(JSON, default=list)
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[str] = mapped_column(Text, default="")

    provider: Mapped[ExchangeProvider] = relationship(back_populates="services")


class ExchangeAuthorization(IdMixin, TimestampMixin, Base):
    """Who may ask a service for what, why and on which legal basis (deny by default)."""

    __tablename__ = "exchange_authorizations"
    __table_args__ = (Index("ix_exchange_authorizations_lookup", "service_code", "consumer"),)

    consumer_node: Mapped[str] = mapped_column(String(64), default="")  # "" = this node
    consumer_kind: Mapped[str] = mapped_column(String(8))  # item, role
    consumer: Mapped[str] = mapped_column(String(64))  # service item code or role
    service_code: Mapped[str] = mapped_column(String(64))
    elements: Mapped[list[str]] = mapped_column(JSON, default=list)
    claims: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(String(32))
    purpose_label: Mapped[str] = mapped_column(String(128), default="")
    legal_basis: Mapped[str] = mapped_column(String(8))  # law, consent
    legal_reference: Mapped[str] = mapped_column(Text, default="")
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, revoked
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ExchangeConsent(IdMixin, Base):
    """A person's consent that a consumer may ask a service for a purpose (PIPL §14)."""

    __tablename__ = "exchange_consents"
    __table_args__ = (Index("ix_exchange_consents_lookup", "person_ref", "service_code"),)

    person_ref: Mapped[str] = mapped_column(String(32))  # privacy.crypto.person_ref
    consumer: Mapped[str] = mapped_column(String(64))
    service_code: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(32))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(16), default="online")  # online, window
    recorded_by: Mapped[str] = mapped_column(String(64))


class ExchangePeer(IdMixin, TimestampMixin, Base):
    """Another tongban node: its id, where it answers and the key its messages are signed with."""

    __tablename__ = "exchange_peers"

    node_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    base_url: Mapped[str] = mapped_column(String(255))
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(200))  # base64
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, revoked
    added_by: Mapped[str] = mapped_column(String(64))


class ExchangeNonce(Base):
    """Nonces of signed requests from peers, kept while their timestamp is acceptable."""

    __tablename__ = "exchange_nonces"

    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ExchangeCall(IdMixin, Base):
    """One call as operations sees it: no personal data, only timing and outcome."""

    __tablename__ = "exchange_calls"
    __table_args__ = (Index("ix_exchange_calls_service_at", "service_code", "at"),)

    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    request_id: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))  # local, consumer, provider
    provider_code: Mapped[str] = mapped_column(String(64))
    service_code: Mapped[str] = mapped_column(String(64))
    consumer_node: Mapped[str] = mapped_column(String(64), default="")
    consumer: Mapped[str] = mapped_column(String(72))
    purpose: Mapped[str] = mapped_column(String(32))
    case_no: Mapped[str] = mapped_column(String(32), default="")
    outcome: Mapped[str] = mapped_column(String(16))  # answered, denied, unavailable
    error_code: Mapped[str] = mapped_column(String(48), default="")
    latency_ms: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    request_hash: Mapped[str] = mapped_column(String(64), default="")
    response_hash: Mapped[str] = mapped_column(String(64), default="")
