"""Asking a provider service, as a consumer: authorize, sign, send, check, record.

The same path serves a provider on this node (its source is asked here, the
response signed with this node's key) and a provider on a peer node (the signed
request goes over HTTP; the response must carry the peer's signature). Either way
the consumer checks that the response is signed by the right key and bound to its
request's hash, and the exchange is written to the audit log and the monitoring
table in the caller's transaction. Nothing here raises for a provider being down:
that is the outcome "unavailable".
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.config import get_settings
from tongban.errors import DomainError, NotFound
from tongban.exchange import journal, protocol, repository
from tongban.exchange.elements import load_registry
from tongban.exchange.keys import node_keys
from tongban.exchange.protocol import ConsentAssertion, ProtocolError, RequestBody, ResponseBody
from tongban.exchange.provider import answer, check_offered, grant_for, verifier_of
from tongban.exchange.rules import consent_missing, consent_valid, consumer_label
from tongban.exchange.specs import ProviderConfig
from tongban.exchange.transport import send
from tongban.kit.clock import now
from tongban.privacy.crypto import person_ref

OUTCOMES = {"answered": "answered", "refused": "denied", "unavailable": "unavailable"}


@dataclass(frozen=True)
class Ask:
    """What a consumer asks: elements to fetch, or one yes/no claim, about one subject."""

    consumer_kind: str  # item (a service item's code) or role
    consumer: str
    service_code: str
    subject: str  # the key the provider looks up: an identity number, a credit code …
    purpose: str
    elements: tuple[str, ...] = ()  # codes (DE0002) or ids (name)
    claim: str | None = None
    claim_values: Mapping[str, str] = field(default_factory=dict)
    case_no: str = ""
    related: bool | None = None  # tied to a case the asker works on (for the audit log)


@dataclass(frozen=True)
class Exchanged:
    request_id: str
    service_code: str
    provider_code: str
    source: str
    at: datetime
    outcome: str  # answered, denied, unavailable
    claim_holds: bool | None = None
    records: tuple[dict[str, str | int], ...] = ()
    problems: tuple[dict[str, str], ...] = ()
    error: DomainError | None = None
    attempts: int = 0
    latency_ms: float = 0.0


def exchange(session: Session, *, actor: Actor | None, ask: Ask) -> Exchanged:
    started = time.perf_counter()
    at = now()
    target = repository.service_target(session, ask.service_code)
    if target is None:
        raise NotFound(
            "exchange_service_not_found",
            f"共享服务不存在：{ask.service_code}",
            f"No such exchange service: {ask.service_code}",
        )
    service, provider = target
    elements = [_element_code(e) for e in ask.elements]
    check_offered(service, elements, ask.claim, ask.claim_values)
    settings = get_settings()
    body = RequestBody(
        request_id=protocol.new_id(),
        consumer_node=settings.exchange_node_id,
        consumer=consumer_label(ask.consumer_kind, ask.consumer),
        provider_node=provider.mapping if provider.kind == "node" else settings.exchange_node_id,
        service=service.code,
        elements=elements,
        claim=ask.claim,
        claim_values=dict(ask.claim_values),
        subject=ask.subject.strip().upper(),
        purpose=ask.purpose,
        legal_basis="law",
        case_no=ask.case_no,
        issued_at=protocol.iso(at),
        nonce=protocol.new_id(),
    )
    record = _Recorder(session, actor, ask, provider, body, started, at)
    try:
        grant = grant_for(session, consumer_node="", body=body)
        consent = _consent(session, body) if grant.legal_basis == "consent" else None
    except DomainError as denial:
        return record.denied(denial)
    body = body.model_copy(update={"legal_basis": grant.legal_basis, "consent": consent})
    if provider.kind == "node":
        return _ask_peer(session, record, provider, body)
    signer = node_keys().current  # this node is both ends: its key signs and checks
    message = protocol.signed_request(body, signer)
    request_hash = protocol.message_hash(message)
    response, attempts = answer(provider, service, body, request_hash)
    reply = protocol.signed_response(response, signer)
    checked = _checked(message, reply, verifier=signer, node=body.provider_node)
    return record.done(message, reply, checked, attempts, grant.legal_basis)


def _ask_peer(
    session: Session, record: _Recorder, provider: ProviderConfig, body: RequestBody
) -> Exchanged:
    peer = repository.peer(session, provider.mapping)
    if peer is None or peer.status != "active":
        failure = DomainError(
            "exchange_unknown_node",
            f"未登记或已停用的节点：{provider.mapping}",
            f"Unknown or revoked node: {provider.mapping}",
        )
        return record.unavailable(None, failure, 0, body.legal_basis)
    if provider.status != "enabled":
        failure = DomainError(
            "exchange_provider_disabled",
            f"数据提供方{provider.name}未启用",
            f"Provider {provider.code} is not enabled",
        )
        return record.unavailable(None, failure, 0, body.legal_basis)
    settings = get_settings()
    try:
        (message, reply), attempts = send(provider, body, backoff=settings.exchange_backoff_seconds)
    except DomainError as failure:
        return record.unavailable(None, failure, getattr(failure, "attempts", 1), body.legal_basis)
    try:
        checked = _checked(message, reply, verifier=verifier_of(peer), node=peer.node_id)
    except ProtocolError as failure:
        return record.unavailable(message, failure, attempts, body.legal_basis)
    sent = RequestBody.model_validate(message["body"])
    return record.done(message, reply, checked, attempts, body.legal_basis, sent=sent)


def _checked(
    message: dict[str, Any], reply: dict[str, Any], *, verifier: Any, node: str
) -> ResponseBody:
    """The response, when signed by ``node``'s key and bound to exactly this request."""
    if not protocol.signature_holds(reply, protocol.RESPONSE_CONTEXT, verifier):
        raise ProtocolError(
            "exchange_response_forged",
            "应答签名无效，结果不予采信。",
            "The response's signature does not verify; its result is not used.",
            details={"node": node, "key_id": protocol.signer_of(reply)},
        )
    response = protocol.parse_response(reply)
    request = message["body"]
    if (
        response.request_hash != protocol.message_hash(message)
        or response.request_id != request["request_id"]
        or response.provider_node != node
    ):
        raise ProtocolError(
            "exchange_response_unbound",
            "应答与请求不对应，结果不予采信。",
            "The response is not bound to this request; its result is not used.",
            details={"node": node},
        )
    return response


def _consent(session: Session, body: RequestBody) -> ConsentAssertion:
    at = now()
    for row in repository.consents(
        session, person_ref=person_ref(body.subject), service_code=body.service
    ):
        valid = consent_valid(
            given_at=row.given_at, expires_at=row.expires_at, revoked_at=row.revoked_at, at=at
        )
        if valid and row.consumer == body.consumer and row.purpose == body.purpose:
            return ConsentAssertion(
                ref=str(row.id),
                given_at=protocol.iso(row.given_at),
                expires_at=protocol.iso(row.expires_at),
            )
    raise consent_missing(body.consumer, body.service, body.purpose)


def _element_code(code_or_id: str) -> str:
    try:
        return load_registry().element(code_or_id).code
    except KeyError:
        return code_or_id  # check_offered names it as not offered


class _Recorder:
    """Writes the journal of one exchange and builds what the caller gets back."""

    def __init__(
        self,
        session: Session,
        actor: Actor | None,
        ask: Ask,
        provider: ProviderConfig,
        body: RequestBody,
        started: float,
        at: datetime,
    ) -> None:
        self.session, self.actor, self.ask = session, actor, ask
        self.provider_code, self.provider_kind = provider.code, provider.kind
        self.body, self.started, self.at = body, started, at

    @property
    def side(self) -> str:
        return "consumer" if self.provider_kind == "node" else "local"

    def _write(self, **entry: Any) -> float:
        latency = (time.perf_counter() - self.started) * 1000
        journal.write(
            self.session,
            actor=self.actor,
            journal=journal.Journal(
                side=self.side,
                provider_code=self.provider_code,
                latency_ms=latency,
                related=self.ask.related,
                **entry,
            ),
            at=self.at,
        )
        return latency

    def _result(self, **fields: Any) -> Exchanged:
        return Exchanged(
            request_id=self.body.request_id,
            service_code=self.body.service,
            provider_code=self.provider_code,
            at=self.at,
            **fields,
        )

    def denied(self, denial: DomainError) -> Exchanged:
        latency = self._write(
            request=self.body,
            request_hash="",
            response=None,
            response_hash="",
            outcome="denied",
            basis=None,
            error_code=denial.code,
            attempts=0,
        )
        return self._result(source="", outcome="denied", error=denial, latency_ms=latency)

    def unavailable(
        self, message: dict[str, Any] | None, failure: DomainError, attempts: int, basis: str
    ) -> Exchanged:
        latency = self._write(
            request=self.body,
            request_hash=protocol.message_hash(message) if message else "",
            response=None,
            response_hash="",
            outcome="unavailable",
            basis=basis,
            error_code=failure.code,
            attempts=attempts,
        )
        return self._result(
            source="", outcome="unavailable", error=failure, attempts=attempts, latency_ms=latency
        )

    def done(
        self,
        message: dict[str, Any],
        reply: dict[str, Any],
        response: ResponseBody,
        attempts: int,
        basis: str,
        sent: RequestBody | None = None,
    ) -> Exchanged:
        outcome = OUTCOMES[response.status]
        error = (
            DomainError(
                response.error["code"], response.error["message"], response.error["message_en"]
            )
            if response.error
            else None
        )
        latency = self._write(
            request=sent or self.body,
            request_hash=protocol.message_hash(message),
            response=response,
            response_hash=protocol.message_hash(reply),
            outcome=outcome,
            basis=basis,
            error_code=error.code if error else "",
            attempts=attempts,
        )
        return self._result(
            source=response.source,
            outcome=outcome,
            claim_holds=response.claim_holds,
            records=tuple(response.records),
            problems=tuple(response.problems),
            error=error,
            attempts=attempts,
            latency_ms=latency,
        )
