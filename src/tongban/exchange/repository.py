"""Every query of the exchange domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tongban.exchange.models import (
    ExchangeAuthorization,
    ExchangeCall,
    ExchangeConsent,
    ExchangeNonce,
    ExchangePeer,
    ExchangeProvider,
    ExchangeService,
)
from tongban.exchange.specs import ProviderConfig, ServiceSpec

# ----------------------------------------------------------------- registry


def provider(session: Session, code: str) -> ExchangeProvider | None:
    return session.scalar(select(ExchangeProvider).where(ExchangeProvider.code == code))


def providers(session: Session) -> Sequence[ExchangeProvider]:
    query = select(ExchangeProvider).options(selectinload(ExchangeProvider.services))
    return session.scalars(query.order_by(ExchangeProvider.code)).all()


def service(session: Session, code: str) -> ExchangeService | None:
    return session.scalar(select(ExchangeService).where(ExchangeService.code == code))


# The hot path's statements are built once: constructing a select costs more than running it.
_SERVICE_TARGET = (
    select(
        ExchangeService.code,
        ExchangeService.name,
        ExchangeService.elements,
        ExchangeService.claims,
        ExchangeProvider.code,
        ExchangeProvider.name,
        ExchangeProvider.department_code,
        ExchangeProvider.kind,
        ExchangeProvider.location,
        ExchangeProvider.mapping,
        ExchangeProvider.status,
        ExchangeProvider.timeout_seconds,
        ExchangeProvider.retries,
        ExchangeProvider.breaker_failures,
        ExchangeProvider.breaker_cooldown_seconds,
    )
    .join(ExchangeProvider, ExchangeService.provider_id == ExchangeProvider.id)
    .where(ExchangeService.code == bindparam("code"))
)
_GRANTS = select(
    ExchangeAuthorization.id,
    ExchangeAuthorization.purpose,
    ExchangeAuthorization.legal_basis,
    ExchangeAuthorization.elements,
    ExchangeAuthorization.claims,
    ExchangeAuthorization.valid_until,
    ExchangeAuthorization.purpose_label,
).where(
    ExchangeAuthorization.service_code == bindparam("service_code"),
    ExchangeAuthorization.consumer == bindparam("consumer"),
    ExchangeAuthorization.consumer_kind == bindparam("consumer_kind"),
    ExchangeAuthorization.consumer_node == bindparam("consumer_node"),
    ExchangeAuthorization.status == "active",
)
_INSERT_CALL = insert(ExchangeCall)


def service_target(session: Session, code: str) -> tuple[ServiceSpec, ProviderConfig] | None:
    """A service and its provider, in one query (the hot path reads nothing else)."""
    row = session.connection().execute(_SERVICE_TARGET, {"code": code}).first()
    if row is None:
        return None
    return ServiceSpec(*row[:4]), ProviderConfig(*row[4:])


def add(session: Session, row: Any) -> None:
    session.add(row)
    session.flush()


# ----------------------------------------------------------------- authorizations, consents


def grants(
    session: Session, *, service_code: str, consumer_node: str, consumer_kind: str, consumer: str
) -> Sequence[Any]:
    """(id, purpose, legal basis, elements, claims, valid until, purpose label) of active grants."""
    parameters = {
        "service_code": service_code,
        "consumer": consumer,
        "consumer_kind": consumer_kind,
        "consumer_node": consumer_node,
    }
    return session.connection().execute(_GRANTS, parameters).all()


def authorization(session: Session, authorization_id: int) -> ExchangeAuthorization | None:
    return session.get(ExchangeAuthorization, authorization_id)


def authorizations(
    session: Session, *, service_code: str | None
) -> Sequence[ExchangeAuthorization]:
    query = select(ExchangeAuthorization).order_by(ExchangeAuthorization.id)
    if service_code:
        query = query.where(ExchangeAuthorization.service_code == service_code)
    return session.scalars(query).all()


def consents(
    session: Session, *, person_ref: str, service_code: str | None = None
) -> Sequence[ExchangeConsent]:
    query = select(ExchangeConsent).where(ExchangeConsent.person_ref == person_ref)
    if service_code:
        query = query.where(ExchangeConsent.service_code == service_code)
    return session.scalars(query.order_by(ExchangeConsent.id.desc())).all()


def consent(session: Session, consent_id: int) -> ExchangeConsent | None:
    return session.get(ExchangeConsent, consent_id)


# ----------------------------------------------------------------- peers and nonces


def peer(session: Session, node_id: str) -> ExchangePeer | None:
    return session.scalar(select(ExchangePeer).where(ExchangePeer.node_id == node_id))


def peers(session: Session) -> Sequence[ExchangePeer]:
    return session.scalars(select(ExchangePeer).order_by(ExchangePeer.node_id)).all()


def remember_nonce(session: Session, *, node_id: str, nonce: str, at: datetime) -> bool:
    """Store a peer's nonce; False when it was seen before (a replay)."""
    try:
        with session.begin_nested():
            session.execute(insert(ExchangeNonce).values(node_id=node_id, nonce=nonce, seen_at=at))
    except IntegrityError:
        return False
    return True


def forget_nonces(session: Session, *, before: datetime) -> None:
    session.execute(delete(ExchangeNonce).where(ExchangeNonce.seen_at < before))


# ----------------------------------------------------------------- calls (monitoring)


def insert_call(session: Session, row: dict[str, Any]) -> None:
    session.connection().execute(_INSERT_CALL, row)


def calls_since(session: Session, since: datetime) -> Sequence[Any]:
    """(provider, service, outcome, error code, latency) of every call since ``since``."""
    return session.execute(
        select(
            ExchangeCall.provider_code,
            ExchangeCall.service_code,
            ExchangeCall.outcome,
            ExchangeCall.error_code,
            ExchangeCall.latency_ms,
        ).where(ExchangeCall.at >= since)
    ).all()
