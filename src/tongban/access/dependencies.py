"""FastAPI dependencies: the current actor and permission checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from tongban.access import service
from tongban.access.rules import Actor
from tongban.deps import SessionDep
from tongban.errors import Forbidden


def optional_actor(request: Request, session: SessionDep) -> Actor | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return service.actor_from_token(session, header[7:].strip())
    user_id = request.session.get("uid") if "session" in request.scope else None
    if not isinstance(user_id, int):
        return None
    return service.actor_by_id(session, user_id, int(request.session.get("epoch", 0)))


def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise service.UNAUTHENTICATED
    return actor


def require(permission: str) -> Callable[[Actor], Actor]:
    """Endpoint dependency: the actor must hold ``permission`` (scope is the repository's job)."""

    def check(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if not actor.can(permission):
            raise Forbidden(
                "forbidden",
                "您的角色无权执行此操作。",
                "Your role may not do this.",
                details={"permission": permission, "role": actor.role.value},
            )
        return actor

    check.permission = permission  # type: ignore[attr-defined]
    return check


OptionalActor = Annotated[Actor | None, Depends(optional_actor)]
CurrentActor = Annotated[Actor, Depends(current_actor)]
__all__ = ["CurrentActor", "OptionalActor", "Session", "require"]
