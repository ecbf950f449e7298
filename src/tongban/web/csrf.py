"""CSRF protection for the server-rendered forms: a per-session token in a hidden field.

The token lives in the signed session cookie; every POST form carries it back and
``csrf_form`` compares the two in constant time before the endpoint runs.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from tongban.errors import Forbidden

FIELD = "csrf_token"
_KEY = "csrf"


def csrf_failed() -> Forbidden:
    return Forbidden(
        "csrf_failed",
        "页面已过期或请求来源不明，请返回上一页刷新后重新提交。",
        "The page has expired or the request did not come from this site; "
        "reload the page and submit again.",
    )


def csrf_token(request: Request) -> str:
    token = request.session.get(_KEY)
    if not token:
        token = request.session[_KEY] = secrets.token_urlsafe(32)
    return str(token)


def rotate_csrf_token(request: Request) -> str:
    """A fresh token after login, so a token planted before it is worthless."""
    request.session[_KEY] = secrets.token_urlsafe(32)
    return str(request.session[_KEY])


def verify_csrf(request: Request, form: FormData) -> None:
    expected = request.session.get(_KEY)
    sent = form.get(FIELD)
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise csrf_failed()


async def csrf_form(request: Request) -> FormData:
    """Dependency: the parsed form (multipart or urlencoded), after the token check."""
    form = await request.form(max_files=50, max_fields=500)
    verify_csrf(request, form)
    return form


CsrfForm = Annotated[FormData, Depends(csrf_form)]
