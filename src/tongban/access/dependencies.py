"""FastAPI dependencies: the current actor and permission checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from anyio import to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from tongban.access import service
from tongban.access.rules import Actor
from tongban.deps import short_read, short_write, write_turn
from tongban.errors import Forbidden

T = TypeVar("T")


async def optional_actor(request: Request) -> Actor | None:
    """The signed-in actor, looked up outside the endpoint's transaction (docs/concurrency.md)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        return await looked_up(request, lambda session: service.actor_from_token(session, token))
    if "session" not in request.scope or "sid" not in request.session:
        return None
    if not service.cookie_may_authenticate(request.method, request.url.path):
        return None  # JSON API writes take a bearer token only: no CSRF through the cookie
    session_id = request.session["sid"]
    return await looked_up(
        request, lambda session: service.actor_from_cookie_session(session, session_id)
    )


async def looked_up(request: Request, lookup: Callable[[Session], T]) -> T:
    """``lookup`` in a short read of its own, closed before the endpoint runs: checking who
    is asking never opens, or waits inside, the endpoint's transaction. Should the lookup
    want to write (a sliding session's expiry, now and then), it runs again in a short
    write transaction of its own, in the request's write turn, committed at once."""

    def read() -> tuple[T, bool]:
        with short_read(request) as session:
            found = lookup(session)
            return found, bool(session.new or session.dirty or session.deleted)

    def write() -> T:
        with short_write(request) as session:
            return lookup(session)

    found, wants_to_write = await to_thread.run_sync(read)
    if not wants_to_write:
        return found
    async with write_turn(request):
        return await to_thread.run_sync(write)


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
