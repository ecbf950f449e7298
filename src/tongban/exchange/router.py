"""JSON API of the exchange domain.

Administrators keep the registry, authorizations and statistics; staff roles run
checks as consumers; applicants give and revoke consents; peer nodes post signed
requests (authenticated by their signature, not by a user).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import JSONResponse

from tongban.access.dependencies import require
from tongban.access.rules import Actor
from tongban.deps import SessionDep
from tongban.errors import error_responses
from tongban.exchange import consents, metrics, provider, registry, service
from tongban.exchange.keys import node_identity
from tongban.exchange.schemas import (
    AuthorizationCreate,
    AuthorizationRead,
    CheckIn,
    ConsentCreate,
    ConsentRead,
    DecisionIn,
    FieldCheckRead,
    NodeRead,
    NoteIn,
    ProviderCreate,
    ProviderRead,
    StatsRead,
    StatusIn,
    VerificationRead,
)
from tongban.kit.params import CodePath, RowId

router = APIRouter(tags=["exchange"])
Manager = Annotated[Actor, Depends(require("exchange.manage"))]
Reader = Annotated[Actor, Depends(require("exchange.read"))]
Requester = Annotated[Actor, Depends(require("exchange.request"))]
Consenter = Annotated[Actor, Depends(require("exchange.consent"))]


@router.get("/exchange/providers", response_model=list[ProviderRead])
def list_providers(session: SessionDep, actor: Manager) -> list[ProviderRead]:
    """Registered providers, their services, status and circuit breaker state."""
    return registry.providers(session)


@router.post("/exchange/providers", response_model=ProviderRead, status_code=201)
def register_provider(body: ProviderCreate, session: SessionDep, actor: Manager) -> ProviderRead:
    """Register a provider with its services; it stays pending until another admin approves."""
    return registry.register_provider(session, actor=actor, data=body)


@router.post("/exchange/providers/{code}/decision", response_model=ProviderRead)
def decide_provider(
    code: CodePath, body: DecisionIn, session: SessionDep, actor: Manager
) -> ProviderRead:
    return registry.decide_provider(
        session, actor=actor, code=code, approve=body.decision == "approve", note=body.note
    )


@router.post("/exchange/providers/{code}/status", response_model=ProviderRead)
def provider_status(
    code: CodePath, body: StatusIn, session: SessionDep, actor: Manager
) -> ProviderRead:
    return registry.set_provider_status(
        session, actor=actor, code=code, enabled=body.status == "enabled", note=body.note
    )


@router.get("/exchange/services/{service_code}/openapi")
def service_openapi(service_code: CodePath, session: SessionDep, actor: Reader) -> dict[str, Any]:
    """The service's OpenAPI 3.1 description, generated from its data elements."""
    return service.openapi_of(session, service_code=service_code)


@router.get("/exchange/authorizations", response_model=list[AuthorizationRead])
def list_authorizations(
    session: SessionDep,
    actor: Manager,
    service_code: Annotated[str | None, Query(max_length=64)] = None,
) -> list[AuthorizationRead]:
    return registry.authorizations(session, service_code=service_code)


@router.post(
    "/exchange/authorizations",
    response_model=AuthorizationRead,
    status_code=201,
    responses=error_responses(e404="no such exchange service"),
)
def add_authorization(
    body: AuthorizationCreate, session: SessionDep, actor: Manager
) -> AuthorizationRead:
    return registry.add_authorization(session, actor=actor, data=body)


@router.post("/exchange/authorizations/{authorization_id}/revoke", response_model=AuthorizationRead)
def revoke_authorization(
    authorization_id: RowId, body: NoteIn, session: SessionDep, actor: Manager
) -> AuthorizationRead:
    return registry.revoke_authorization(
        session, actor=actor, authorization_id=authorization_id, note=body.note
    )


@router.get("/exchange/consents", response_model=list[ConsentRead])
def my_consents(session: SessionDep, actor: Consenter) -> list[ConsentRead]:
    """The signed-in applicant's consents (given, expired and revoked)."""
    return consents.my_consents(session, actor=actor)


@router.post("/exchange/consents", response_model=ConsentRead, status_code=201)
def give_consent(body: ConsentCreate, session: SessionDep, actor: Consenter) -> ConsentRead:
    return consents.give_consent(session, actor=actor, data=body)


@router.post("/exchange/consents/{consent_id}/revoke", response_model=ConsentRead)
def revoke_consent(consent_id: RowId, session: SessionDep, actor: Consenter) -> ConsentRead:
    return consents.revoke_consent(session, actor=actor, consent_id=consent_id)


@router.post(
    "/exchange/checks",
    response_model=VerificationRead,
    responses=error_responses(
        e404="no such exchange service",
        e503="the provider is unavailable (the check is recorded)",
    ),
)
def check(body: CheckIn, session: SessionDep, actor: Requester) -> JSONResponse:
    """A staff role checks a claim or compares values; answered 200, 403 or 503 by outcome.

    A refused or unavailable check is still recorded, so it is answered (and the
    transaction committed) rather than raised.
    """
    result = service.verify(
        session,
        actor=actor,
        service_code=body.service_code,
        subject=body.subject,
        purpose=body.purpose,
        claim=body.claim,
        claim_values=body.claim_values,
        expected=body.expected,
        case_no=body.case_no,  # recorded as given; whether it is the caller's is not known here
    )
    read = VerificationRead(
        outcome=result.outcome,
        code=result.code,
        message=result.message_zh,
        message_en=result.message_en,
        service_code=result.service_code,
        provider_code=result.provider_code,
        source=result.source,
        at=result.at,
        request_id=result.request_id,
        claim=result.claim,
        fields=[FieldCheckRead(**vars(f)) for f in result.fields],
    )
    status = {"denied": 403, "unavailable": 503}.get(result.outcome, 200)
    return JSONResponse(read.model_dump(mode="json"), status_code=status)


@router.get("/exchange/stats", response_model=StatsRead)
def stats(
    session: SessionDep,
    actor: Manager,
    minutes: Annotated[int, Query(ge=1, le=60 * 24 * 31)] = 60,
) -> StatsRead:
    """Per provider service: requests, outcomes, errors, p50/p95/p99 latency in the window."""
    return metrics.stats(session, minutes=minutes)


@router.get("/exchange/node", response_model=NodeRead)
def node() -> NodeRead:
    """This node's id and public key, for peers to register (public information)."""
    identity = node_identity()
    return NodeRead(**vars(identity))


@router.post("/exchange/requests")
def peer_request(session: SessionDep, message: Annotated[Any, Body()] = None) -> JSONResponse:
    """A signed request from a peer node (tongban-exchange/1); answered with a signed response."""
    signed, status = provider.handle_remote(session, message)
    return JSONResponse(signed, status_code=status)
