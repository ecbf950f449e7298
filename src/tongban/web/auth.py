"""Sign-in and sign-out pages, and the actor dependencies the web pages share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.access.dependencies import OptionalActor
from tongban.access.rules import Actor, Role
from tongban.deps import SessionDep
from tongban.errors import DomainError, Forbidden
from tongban.web.csrf import CsrfForm, rotate_csrf_token
from tongban.web.rendering import error_message, redirect, render

router = APIRouter(include_in_schema=False)

HOME_BY_ROLE = {
    Role.APPLICANT: "/my/cases",
    # Staff land on their queues' counts: a landing page reads nobody's personal data.
    Role.CLERK: "/workbench",
    Role.REVIEWER: "/workbench",
    Role.ADMIN: "/workbench",
    Role.AUDITOR: "/audit/alerts",
}


def signed_in(actor: OptionalActor) -> Actor:
    """Any signed-in user; a GET without a session is sent to /login (see render_error)."""
    if actor is None:
        raise access_service.UNAUTHENTICATED
    return actor


def _roles(*roles: Role) -> Callable[[Actor], Actor]:
    def check(actor: Annotated[Actor, Depends(signed_in)]) -> Actor:
        if actor.role not in roles:
            raise Forbidden(
                "forbidden",
                "您的角色无权访问此页面。",
                "Your role may not open this page.",
                details={"role": actor.role.value},
            )
        return actor

    return check


SignedIn = Annotated[Actor, Depends(signed_in)]
Applicant = Annotated[Actor, Depends(_roles(Role.APPLICANT))]
Filer = Annotated[Actor, Depends(_roles(Role.APPLICANT, Role.CLERK, Role.ADMIN))]
Staff = Annotated[Actor, Depends(_roles(Role.CLERK, Role.REVIEWER, Role.ADMIN))]
Auditor = Annotated[Actor, Depends(_roles(Role.AUDITOR))]
Clerk = Annotated[Actor, Depends(_roles(Role.CLERK))]
Handler = Annotated[Actor, Depends(_roles(Role.REVIEWER, Role.ADMIN))]  # complaints, 差评
CenterAdmin = Annotated[Actor, Depends(_roles(Role.ADMIN))]


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect after login would help phishing."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("/login")
def login_page(request: Request, actor: OptionalActor, next: str | None = None) -> Response:
    return render(request, "login.html", {"actor": actor, "next": safe_next(next) or ""})


@router.post("/login")
def login(request: Request, session: SessionDep, form: CsrfForm) -> Response:
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or ""))
    try:
        actor = access_service.authenticate(
            session, username=username, password=password, address=client_address(request)
        )
    except DomainError as error:
        context = {"error": error_message(request, error), "username": username, "next": target}
        return render(request, "login.html", context, status=error.status)
    start_session(request, session, actor)
    return redirect(target or HOME_BY_ROLE[actor.role])


def client_address(request: Request) -> str:
    """The client's address; behind the reverse proxy, uvicorn's proxy-headers support
    (``tongban serve``, trusted proxies only) has already put the real client here."""
    return request.client.host if request.client else ""


def start_session(request: Request, session: Session, actor: Actor) -> None:
    """A new session on sign-in: nothing from before it (a planted id, an old flash) survives.

    The cookie carries only the id of a server-side session record (access.sessions).
    """
    end_session(request, session)
    request.session.clear()
    request.session["sid"] = access_service.start_cookie_session(session, actor)
    rotate_csrf_token(request)


def end_session(request: Request, session: Session) -> None:
    """The browser's server-side session ends (on every app server) and the cookie empties."""
    access_service.end_cookie_session(session, request.session.get("sid"))
    request.session.clear()


@router.post("/logout")
def logout(request: Request, session: SessionDep, form: CsrfForm) -> Response:
    end_session(request, session)
    return redirect("/")
