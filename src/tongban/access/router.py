from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from tongban.access import admin, service
from tongban.access.dependencies import CurrentActor, require
from tongban.access.rules import Actor
from tongban.access.schemas import SessionsEnded, TokenRequest, TokenResponse, UserRead
from tongban.config import get_settings
from tongban.deps import SessionDep
from tongban.errors import DomainError, error_responses

router = APIRouter(tags=["auth"])
UserAdmin = Annotated[Actor, Depends(require("users.manage"))]
Username = Annotated[str, Path(min_length=1, max_length=64)]


def _client_address(request: Request) -> str:
    # Behind the reverse proxy uvicorn's proxy-headers support (trusted proxies only)
    # has already put the real client here.
    return request.client.host if request.client else ""


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    responses=error_responses(e401="bad credentials", e429="locked or throttled"),
)
def create_token(
    body: TokenRequest, request: Request, session: SessionDep
) -> TokenResponse | JSONResponse:
    try:
        actor = service.authenticate(
            session,
            username=body.username,
            password=body.password,
            address=_client_address(request),
        )
    except DomainError as error:
        # Returned, not raised: on SQLite the failure counter is committed with this request.
        headers = _retry_after(error)
        return JSONResponse(error.to_dict(), status_code=error.status, headers=headers)
    return TokenResponse(
        access_token=service.issue_token(session, actor),
        expires_in=get_settings().token_ttl_seconds,
        role=actor.role.value,
    )


def _retry_after(error: DomainError) -> dict[str, str]:
    seconds = (error.details or {}).get("retry_after_seconds")
    return {"Retry-After": str(seconds)} if error.status == 429 and seconds else {}


@router.post("/auth/logout", status_code=204, responses=error_responses(e401="not signed in"))
def logout(request: Request, session: SessionDep, actor: CurrentActor) -> Response:
    """End this bearer token on the server: it is refused on every app server from now on."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        service.revoke_token(session, header[7:].strip())
    return Response(status_code=204)


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


@router.post(
    "/users/{username}/sessions/end",
    response_model=SessionsEnded,
    tags=["users"],
    responses=error_responses(e401="not signed in", e403="not an admin", e404="no such user"),
)
def end_user_sessions(username: Username, session: SessionDep, actor: UserAdmin) -> SessionsEnded:
    """End every session and token of the account (audited as users.end_sessions)."""
    ended = admin.end_sessions(session, actor=actor, username=username)
    return SessionsEnded(username=username, ended=ended)


@router.post(
    "/users/{username}/unlock",
    status_code=204,
    tags=["users"],
    responses=error_responses(e401="not signed in", e403="not an admin", e404="no such user"),
)
def unlock_user(username: Username, session: SessionDep, actor: UserAdmin) -> Response:
    """Lift the failed sign-in lock of the account from every address (audited as users.unlock)."""
    admin.unlock(session, actor=actor, username=username)
    return Response(status_code=204)
