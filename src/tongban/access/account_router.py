"""JSON API for citizen accounts: sign-up by phone code, 实名认证, password, sessions,
enterprise links and delegations (委托); window staff register citizens in person.

Refusals that counted an attempt (a wrong code, a failed identity check) are answered,
not raised, so that the count is committed with the request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tongban.access import accounts, delegations, enterprises, identity
from tongban.access.dependencies import CurrentActor, require
from tongban.access.rules import Actor
from tongban.access.schemas import (
    AccountRead,
    DelegationRead,
    DelegationRequest,
    DelegationsRead,
    EnterpriseLinkRequest,
    EnterpriseRead,
    IdentityRequest,
    InPersonRead,
    InPersonRegistration,
    PasswordChange,
    PasswordReset,
    PhoneCodeConfirm,
    PhoneCodeRequest,
    PhoneCodeSent,
    PhoneProof,
    RegisterRequest,
    TokenResponse,
    WindowDelegationRequest,
)
from tongban.access.service import issue_token
from tongban.access.throttle import CountedRefusal
from tongban.catalog import service as catalog_service
from tongban.config import get_settings
from tongban.deps import SessionDep
from tongban.errors import error_responses
from tongban.kit.params import RowId

router = APIRouter(tags=["accounts"])
T = TypeVar("T")
COUNTED: dict[int | str, dict[str, Any]] = error_responses(
    e422="refused (the attempt is counted)", e429="throttled"
)
CreditCode = Annotated[str, Path(min_length=1, max_length=32)]


def _answered(call: Callable[[], T]) -> T | JSONResponse:
    try:
        return call()
    except CountedRefusal as refusal:
        return JSONResponse(refusal.to_dict(), status_code=refusal.status)


@router.post("/auth/phone-codes", response_model=PhoneCodeSent, status_code=202, responses=COUNTED)
def request_code(body: PhoneCodeRequest, session: SessionDep) -> PhoneCodeSent:
    """Send a one-time code by SMS (and e-mail if given); a reset for an unknown number is
    answered the same way and sends nothing."""
    sent = accounts.request_code(session, phone=body.phone, purpose=body.purpose, email=body.email)
    return PhoneCodeSent(expires_in=sent.expires_in)


@router.post("/auth/phone-codes/confirm", response_model=PhoneProof, responses=COUNTED)
def confirm_code(body: PhoneCodeConfirm, session: SessionDep) -> PhoneProof | JSONResponse:
    return _answered(
        lambda: PhoneProof(
            phone_proof=accounts.confirm_code(
                session, phone=body.phone, purpose=body.purpose, code=body.code
            )
        )
    )


@router.post("/auth/register", response_model=TokenResponse, status_code=201)
def register(body: RegisterRequest, session: SessionDep) -> TokenResponse:
    """A citizen account (实名认证 level 1) on a confirmed number; returns a token."""
    actor = accounts.register(
        session, proof=body.phone_proof, password=body.password, email=body.email
    )
    return _token(session, actor)


def _token(session: Session, actor: Actor) -> TokenResponse:
    return TokenResponse(
        access_token=issue_token(session, actor),
        expires_in=get_settings().token_ttl_seconds,
        role=actor.role.value,
    )


@router.post("/auth/password-reset", status_code=204)
def reset_password(body: PasswordReset, session: SessionDep) -> Response:
    """A new password on a confirmed number: every session and token of the account ends."""
    accounts.reset_password(session, proof=body.phone_proof, password=body.password)
    return Response(status_code=204)


@router.post("/auth/sign-out-everywhere", status_code=204)
def sign_out_everywhere(session: SessionDep, actor: CurrentActor) -> Response:
    accounts.sign_out_everywhere(session, actor=actor)
    return Response(status_code=204)


@router.post("/me/password", status_code=204)
def change_password(body: PasswordChange, session: SessionDep, actor: CurrentActor) -> Response:
    accounts.change_password(session, actor=actor, old=body.old_password, new=body.new_password)
    return Response(status_code=204)


@router.get("/me/account", response_model=AccountRead)
def my_account(session: SessionDep, actor: CurrentActor) -> AccountRead:
    return AccountRead.model_validate(accounts.account_view(session, actor=actor).__dict__)


@router.post("/me/identity", response_model=AccountRead, responses=COUNTED)
def verify_identity(
    body: IdentityRequest, session: SessionDep, actor: CurrentActor
) -> AccountRead | JSONResponse:
    """实名认证: name + 居民身份证号 checked against the population register (level 2)."""

    def verify() -> AccountRead:
        identity.verify_identity(session, actor=actor, name=body.name, id_number=body.id_number)
        return AccountRead.model_validate(accounts.account_view(session, actor=actor).__dict__)

    return _answered(verify)


@router.get("/me/enterprises", response_model=list[EnterpriseRead])
def my_enterprises(session: SessionDep, actor: CurrentActor) -> list[EnterpriseRead]:
    return [EnterpriseRead.model_validate(e) for e in enterprises.linked(session, actor=actor)]


@router.post("/me/enterprises", response_model=EnterpriseRead, status_code=201, responses=COUNTED)
def link_enterprise(
    body: EnterpriseLinkRequest, session: SessionDep, actor: CurrentActor
) -> EnterpriseRead | JSONResponse:
    """Link an enterprise as its legal representative or agent (checked with the register)."""
    return _answered(
        lambda: EnterpriseRead.model_validate(
            enterprises.link(
                session, actor=actor, credit_code=body.credit_code, capacity=body.capacity
            )
        )
    )


@router.post("/me/enterprises/{credit_code}/unlink", status_code=204)
def unlink_enterprise(
    credit_code: CreditCode, session: SessionDep, actor: CurrentActor
) -> Response:
    enterprises.unlink(session, actor=actor, credit_code=credit_code)
    return Response(status_code=204)


@router.get("/me/delegations", response_model=DelegationsRead)
def my_delegations(session: SessionDep, actor: CurrentActor) -> DelegationsRead:
    """Delegations I gave (as principal) and received (as agent)."""
    return DelegationsRead(
        given=[_read(d) for d in delegations.given(session, actor=actor)],
        received=[_read(d) for d in delegations.received(session, actor=actor)],
    )


def _read(view: Any) -> DelegationRead:
    return DelegationRead.model_validate(view)


def _known_items(session: SessionDep, codes: list[str]) -> None:
    for code in codes:
        catalog_service.get_item(session, code=code[:64])  # 404 item_not_found if unknown


@router.post(
    "/me/delegations",
    response_model=DelegationRead,
    status_code=201,
    responses=error_responses(e404="no account with the agent's mobile number"),
)
def give_delegation(
    body: DelegationRequest, session: SessionDep, actor: CurrentActor
) -> DelegationRead:
    """委托 an agent (by their registered mobile number) for these items until a date."""
    _known_items(session, body.item_codes)
    return _read(
        delegations.give(
            session,
            principal=actor,
            agent_phone=body.agent_phone,
            item_codes=body.item_codes,
            valid_until=body.valid_until,
            note=body.note,
        )
    )


@router.post("/delegations/{delegation_id}/revoke", response_model=DelegationRead)
def revoke_delegation(
    delegation_id: RowId, session: SessionDep, actor: CurrentActor
) -> DelegationRead:
    """The principal, the agent or window staff end a delegation."""
    return _read(delegations.revoke(session, actor=actor, delegation_id=delegation_id))


Clerk = Annotated[Actor, Depends(require("accounts.in_person"))]


@router.post(
    "/delegations",
    response_model=DelegationRead,
    status_code=201,
    responses=error_responses(e404="no account with the agent's mobile number"),
)
def record_delegation(
    body: WindowDelegationRequest, session: SessionDep, actor: Clerk
) -> DelegationRead:
    """Window staff record a delegation, the principal present and consenting."""
    _known_items(session, body.item_codes)
    return _read(
        delegations.record_at_window(
            session,
            clerk=actor,
            principal_name=body.principal_name,
            principal_id_number=body.principal_id_number,
            agent_phone=body.agent_phone,
            item_codes=body.item_codes,
            valid_until=body.valid_until,
            consent=body.consent,
        )
    )


@router.post("/accounts/in-person", response_model=InPersonRead, status_code=201)
def register_in_person(
    body: InPersonRegistration, session: SessionDep, actor: Clerk
) -> InPersonRead:
    """Register a citizen (or raise their account) to level 3 with the person present; the
    citizen's consent is recorded with the check."""
    user, _ = identity.register_in_person(
        session,
        clerk=actor,
        person=identity.InPerson(body.name, body.id_number, body.place, body.consent),
        password=body.password,
        phone=body.phone,
    )
    return InPersonRead(
        username=user.username,
        display_name=user.display_name,
        assurance_level=user.assurance_level,
    )
