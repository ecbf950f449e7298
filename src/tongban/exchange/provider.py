"""The provider's side: answer a request from the source, and serve requests from peer nodes.

``answer`` is shared by local requests and by requests from other nodes: it asks
the source under the provider's resilience policy and builds the signed response.
``handle_remote`` is the node-to-node endpoint's work: it checks the peer's
signature, the timestamp and nonce, this node's own authorization for that peer's
consumer (mutual authorization: the consumer node checked its side before sending)
and, when the basis is consent, the consumer node's signed consent assertion.
"""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from tongban.audit.signing import Verifier, verifier
from tongban.config import get_settings
from tongban.errors import DomainError, Forbidden, Invalid
from tongban.exchange import journal, protocol, repository
from tongban.exchange.keys import node_keys
from tongban.exchange.models import ExchangePeer
from tongban.exchange.protocol import ProtocolError, RequestBody, ResponseBody
from tongban.exchange.resilience import Unavailable
from tongban.exchange.rules import (
    ClaimSpec,
    Grant,
    authorize,
    claim_values,
    consent_missing,
    parse_consumer,
)
from tongban.exchange.sources import ask_source
from tongban.exchange.specs import ProviderConfig, ServiceSpec
from tongban.kit.clock import now

_prune_every = itertools.count()
PRUNE_EVERY = 500  # requests between sweeps of old nonces


def grant_for(
    session: Session,
    *,
    consumer_node: str,
    body: RequestBody,
) -> Grant:
    """The authorization covering ``body`` for a consumer on ``consumer_node`` ('' = here)."""
    kind, consumer = parse_consumer(body.consumer)
    rows = repository.grants(
        session,
        service_code=body.service,
        consumer_node=consumer_node,
        consumer_kind=kind,
        consumer=consumer,
    )
    grants = [
        Grant(
            id=grant_id,
            purpose=purpose,
            legal_basis=basis,
            elements=frozenset(elements),
            claims=frozenset(claims),
            valid_until=valid_until,
            purpose_label=label,
        )
        for grant_id, purpose, basis, elements, claims, valid_until, label in rows
    ]
    who = f"{body.consumer}@{consumer_node}" if consumer_node else body.consumer
    return authorize(
        grants,
        purpose=body.purpose,
        elements=body.elements,
        claim=body.claim,
        at=now(),
        who=who,
        service=body.service,
    )


def answer(
    config: ProviderConfig, service: ServiceSpec, body: RequestBody, request_hash: str
) -> tuple[ResponseBody, int]:
    """The response to an authorized request, from the source (never raises for a source)."""
    claim = (body.claim, ClaimSpec.from_json(service.claims[body.claim])) if body.claim else None
    base = {
        "request_id": body.request_id,
        "request_hash": request_hash,
        "provider_node": get_settings().exchange_node_id,
    }
    if config.status != "enabled":
        error = DomainError(
            "exchange_provider_disabled",
            f"数据提供方{config.name}未启用",
            f"Provider {config.code} is not enabled",
        )
        return _failed(base, "unavailable", error), 0
    try:
        found, attempts = ask_source(
            config,
            subject=body.subject,
            elements=list(body.elements),
            claim=claim,
            claim_given=dict(body.claim_values),
            backoff=get_settings().exchange_backoff_seconds,
        )
    except Unavailable as error:
        return _failed(base, "unavailable", error), error.attempts
    except DomainError as error:  # the source answered, but cannot vouch (bad key, bad record)
        return _failed(base, "unavailable", error), 1
    response = ResponseBody(
        **base,
        status="answered",
        claim_holds=found.claim_holds,
        records=found.records,
        problems=found.problems,
        source=found.source,
        issued_at=protocol.iso(now()),
    )
    return response, attempts


def refusal(body: RequestBody, request_hash: str, error: DomainError) -> ResponseBody:
    base = {
        "request_id": body.request_id,
        "request_hash": request_hash,
        "provider_node": get_settings().exchange_node_id,
    }
    return _failed(base, "refused", error)


def _failed(
    base: dict[str, Any], status: protocol.ResponseStatus, error: DomainError
) -> ResponseBody:
    return ResponseBody(
        **base,
        status=status,
        error={"code": error.code, "message": error.message_zh, "message_en": error.message_en},
        issued_at=protocol.iso(now()),
    )


@lru_cache(maxsize=256)
def peer_verifier(algorithm: str, public_key: str) -> Verifier:
    return verifier(algorithm, base64.b64decode(public_key))


def verifier_of(peer: ExchangePeer) -> Verifier:
    return peer_verifier(peer.algorithm, peer.public_key)


def check_offered(
    service: ServiceSpec,
    elements: Sequence[str],
    claim: str | None,
    claim_given: Mapping[str, str],
) -> None:
    """The request asks either elements the service offers or one claim it answers."""
    if bool(elements) == (claim is not None):
        raise Invalid(
            "exchange_bad_request",
            "请求须且只能指明要获取的数据元或一个核验项。",
            "A request names either the data elements to fetch or one claim to check.",
        )
    strays = sorted(set(elements) - set(service.elements))
    if strays:
        raise Invalid(
            "exchange_element_not_offered",
            f"共享服务{service.code}不提供这些数据元：{'、'.join(strays)}",
            f"Service {service.code} does not offer these data elements: {strays}",
            details={"service": service.code, "elements": strays},
        )
    if claim is not None:
        if claim not in service.claims:
            raise Invalid(
                "exchange_claim_not_offered",
                f"共享服务{service.code}不提供核验项：{claim}",
                f"Service {service.code} answers no claim {claim}",
                details={"service": service.code, "claims": sorted(service.claims)},
            )
        claim_values(ClaimSpec.from_json(service.claims[claim]), claim, claim_given)


HTTP_STATUS = {"answered": 200, "refused": 403, "unavailable": 503}


def handle_remote(session: Session, message: Any) -> tuple[dict[str, Any], int]:
    """A peer's signed request → this node's signed response and its HTTP status.

    Messages that cannot be attributed (malformed, unknown node, bad signature,
    stale, replayed) raise ProtocolError and leave nothing behind; everything
    attributable is answered with a signed response and recorded.
    """
    started = time.perf_counter()
    body = protocol.parse_request(message)
    settings = get_settings()
    peer = repository.peer(session, body.consumer_node)
    if peer is None or peer.status != "active":
        raise ProtocolError(
            "exchange_unknown_node",
            f"未登记或已停用的节点：{body.consumer_node}",
            f"Unknown or revoked node: {body.consumer_node}",
            details={"node": body.consumer_node},
        )
    if not protocol.signature_holds(message, protocol.REQUEST_CONTEXT, verifier_of(peer)):
        raise ProtocolError(
            "exchange_bad_signature",
            "请求签名无效。",
            "The request's signature does not verify.",
            details={"node": body.consumer_node, "key_id": protocol.signer_of(message)},
        )
    if body.provider_node != settings.exchange_node_id:
        raise ProtocolError(
            "exchange_wrong_node",
            f"请求发往节点 {body.provider_node}，本节点为 {settings.exchange_node_id}。",
            f"The request is for node {body.provider_node}; this is {settings.exchange_node_id}.",
            status=400,
        )
    at = now()
    protocol.check_fresh(
        body.issued_at, now=at, max_skew_seconds=settings.exchange_max_skew_seconds
    )
    _remember(session, body, at, settings.exchange_max_skew_seconds)
    request_hash = protocol.message_hash(message)
    response, attempts, provider_code, basis = _serve(session, peer, body, request_hash)
    signed = protocol.signed_response(response, node_keys().current)
    outcome = {"answered": "answered", "refused": "denied", "unavailable": "unavailable"}
    journal.write(
        session,
        actor=None,
        journal=journal.Journal(
            side="provider",
            provider_code=provider_code,
            request=body,
            request_hash=request_hash,
            response=response,
            response_hash=protocol.message_hash(signed),
            outcome=outcome[response.status],
            basis=basis,
            error_code=response.error["code"] if response.error else "",
            latency_ms=(time.perf_counter() - started) * 1000,
            attempts=attempts,
        ),
        at=at,
    )
    return signed, HTTP_STATUS[response.status]


def _remember(session: Session, body: RequestBody, at: Any, skew: int) -> None:
    if not repository.remember_nonce(session, node_id=body.consumer_node, nonce=body.nonce, at=at):
        raise ProtocolError(
            "exchange_replayed",
            "该请求已处理过（重放），已拒绝。",
            "This request was seen before (a replay) and is refused.",
            status=409,
            details={"request_id": body.request_id},
        )
    if next(_prune_every) % PRUNE_EVERY == 0:
        repository.forget_nonces(session, before=at - timedelta(seconds=2 * skew))


def _serve(
    session: Session, peer: ExchangePeer, body: RequestBody, request_hash: str
) -> tuple[ResponseBody, int, str, str | None]:
    """(response, attempts, provider code, legal basis) for an attributed peer request."""
    target = repository.service_target(session, body.service)
    if target is None or target[1].kind == "node":  # no relaying through this node
        error = Forbidden(
            "exchange_service_not_found",
            f"本节点不提供共享服务：{body.service}",
            f"This node offers no service {body.service}",
        )
        return refusal(body, request_hash, error), 0, "", None
    service, provider = target
    try:
        check_offered(service, body.elements, body.claim, body.claim_values)
        grant = grant_for(session, consumer_node=peer.node_id, body=body)
        if grant.legal_basis == "consent" and not _consent_asserted(body):
            raise consent_missing(body.consumer, body.service, body.purpose)
    except DomainError as error:
        return refusal(body, request_hash, error), 0, provider.code, None
    response, attempts = answer(provider, service, body, request_hash)
    return response, attempts, provider.code, grant.legal_basis


def _consent_asserted(body: RequestBody) -> bool:
    """The consumer node vouches, in its signed request, for a consent valid now."""
    if body.consent is None:
        return False
    try:
        given = protocol.parse_iso(body.consent.given_at)
        expires = protocol.parse_iso(body.consent.expires_at)
    except ValueError:
        return False
    return given <= now() < expires
