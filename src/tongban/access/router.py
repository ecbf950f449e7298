from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tongban.access import service
from tongban.access.dependencies import CurrentActor
from tongban.access.schemas import TokenRequest, TokenResponse, UserRead
from tongban.config import get_settings
from tongban.deps import SessionDep
from tongban.errors import DomainError, error_responses

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    responses=error_responses(e401="bad credentials", e429="locked"),
)
def create_token(body: TokenRequest, session: SessionDep) -> TokenResponse | JSONResponse:
    try:
        actor = service.authenticate(session, username=body.username, password=body.password)
    except DomainError as error:
        # Returned, not raised: the failure counter must be committed with this request.
        return JSONResponse(error.to_dict(), status_code=error.status)
    return TokenResponse(
        access_token=service.issue_token(actor),
        expires_in=get_settings().token_ttl_seconds,
        role=actor.role.value,
    )


@router.get("/auth/me", response_model=UserRead)
def me(actor: CurrentActor) -> UserRead:
    return UserRead(
        id=actor.user_id,
        username=actor.username,
        role=actor.role.value,
        display_name=actor.display_name,
        region_code=actor.region_code,
        department_code=actor.department_code,
        assurance_level=actor.assurance_level,
    )
