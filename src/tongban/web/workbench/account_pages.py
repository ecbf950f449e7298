"""账号管理 for the center administrator: look an account up by its username, see whether it
is locked and how many sessions are live, lift the lock or end every session (both
audited). The same operations as the admin API, for people who do not use curl."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from tongban.access import admin
from tongban.deps import SessionDep
from tongban.errors import DomainError
from tongban.web import i18n
from tongban.web.auth import CenterAdmin
from tongban.web.csrf import CsrfForm
from tongban.web.rendering import error_message, flash, redirect, render

router = APIRouter(prefix="/workbench", include_in_schema=False)
Username = Annotated[str, Path(min_length=1, max_length=64)]


def _back(username: str) -> Response:
    return redirect(f"/workbench/accounts?username={quote(username)}")


@router.get("/accounts")
def accounts(
    request: Request,
    session: SessionDep,
    actor: CenterAdmin,
    username: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    status, error, code = None, "", 200
    wanted = username.strip()
    if wanted:
        try:
            status = admin.account_status(session, actor=actor, username=wanted)
        except DomainError as problem:
            error, code = error_message(request, problem), problem.status
    context = {"actor": actor, "username": wanted, "status": status, "error": error}
    return render(request, "workbench/accounts.html", context, status=code)


@router.post("/accounts/{username}/unlock")
def unlock(
    request: Request, username: Username, session: SessionDep, actor: CenterAdmin, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    try:
        admin.unlock(session, actor=actor, username=username)
    except DomainError as problem:
        flash(request, error_message(request, problem), "error")
        return _back(username)
    flash(request, gettext("已解除该账号的登录锁定。"))
    return _back(username)


@router.post("/accounts/{username}/sessions/end")
def end_sessions(
    request: Request, username: Username, session: SessionDep, actor: CenterAdmin, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    try:
        ended = admin.end_sessions(session, actor=actor, username=username)
    except DomainError as problem:
        flash(request, error_message(request, problem), "error")
        return _back(username)
    flash(request, gettext("已结束该账号的全部会话：%(count)d 个。") % {"count": ended})
    return _back(username)
