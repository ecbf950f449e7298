"""create_app(): middleware, error handlers and routers."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tongban import events
from tongban.api import API_PREFIX, api_routers
from tongban.audit import context as audit_context
from tongban.audit.integrator import with_integrator
from tongban.config import Settings, get_settings
from tongban.db import session_factory
from tongban.deps import limit_threads
from tongban.errors import ERROR_RESPONSES, Conflict, DomainError
from tongban.kit.text import (
    TEXT_ERROR_CODES,
    forbidden_character,
    has_forbidden_character,
    text_error,
)
from tongban.ops.wiring import install as install_operations
from tongban.web import page_cache
from tongban.web.api_docs import install_api_docs
from tongban.web.static_files import HashedStaticFiles

STATIC_DIR = Path(__file__).parent / "web" / "static"
SESSION_COOKIE = "tongban_session"

HTTP_ERROR_TEXT: dict[int, tuple[str, str, str]] = {
    404: ("not_found", "页面或资源不存在。", "Not found."),
    405: ("method_not_allowed", "不支持该请求方法。", "Method not allowed."),
    413: ("body_too_large", "请求内容过大。", "Request body too large."),
}


class BodySizeLimit:
    """Reject bodies over the limit before they are read into memory (413)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await _too_large(self.max_bytes)(scope, receive, send)
        except BaseExceptionGroup as group:  # raised inside a task group
            if group.subgroup(_BodyTooLarge) is None:
                raise
            await _too_large(self.max_bytes)(scope, receive, send)


class _BodyTooLarge(BaseException):
    """A BaseException on purpose: FastAPI answers 400 to any ``Exception`` raised while it
    reads a body (a chunked body has no Content-Length to refuse up front), and Starlette's
    error middleware would answer 500; this one passes them all and reaches BodySizeLimit."""


def _too_large(limit: int) -> JSONResponse:
    return _error_json(
        DomainError(
            "body_too_large",
            f"请求内容超过上限（{limit // (1024 * 1024)} MB）。",
            f"Request body exceeds the limit ({limit // (1024 * 1024)} MB).",
            status=413,
            details={"max_bytes": limit},
        )
    )


class CleanURL:
    """The input policy on the URL (``tongban.kit.text``): in the API, a control,
    bidi-formatting or NUL character in the path names nothing (404); in a query parameter
    it is refused (422 ``invalid_text`` naming the parameter) — before any lookup reaches
    the database. Page URLs are refused for NUL only (no database can look it up); the pages
    clean what they store and treat other odd characters in their parameters themselves
    (e.g. a ``next`` address with a tab sends you home)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        error = _url_problem(scope)
        if error is not None:
            await _render(Request(scope, receive), error)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _url_problem(scope: Scope) -> DomainError | None:
    path = scope.get("path", "")
    refused = has_forbidden_character if path.startswith(API_PREFIX) else _has_nul
    if refused(path):
        code, zh, en = HTTP_ERROR_TEXT[404]
        return DomainError(code, zh, en, status=404)
    query = scope.get("query_string", b"").decode("latin-1")
    if not query:
        return None
    for name, value in parse_qsl(query, keep_blank_values=True):
        for bad in (name, value):
            if refused(bad):
                character = "\x00" if refused is _has_nul else forbidden_character(bad) or ""
                return text_error(
                    "invalid_text", field=_printable(name), character=f"U+{ord(character):04X}"
                )
    return None


def _has_nul(value: str) -> bool:
    return "\x00" in value


def _printable(name: str) -> str:
    """A parameter name fit to be echoed: forbidden characters shown as code points."""
    return "".join(f"U+{ord(c):04X}" if has_forbidden_character(c) else c for c in name)[:64]


_CSP = (
    b"default-src 'self'; img-src 'self' data:; style-src 'self'; "
    b"script-src 'self'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # A page with a policy of its own (/docs: a stricter one) keeps it.
                if not any(name.lower() == b"content-security-policy" for name, _ in headers):
                    headers.append((b"content-security-policy", _CSP))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"x-frame-options", b"DENY"))
                headers.append((b"referrer-policy", b"same-origin"))
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ClientAddress:
    """Remember the caller's address for the audit log (谁访问、谁负责)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        token = audit_context.client_addr.set(client[0] if client else None)
        try:
            await self.app(scope, receive, send)
        finally:
            audit_context.client_addr.reset(token)


def _error_json(error: DomainError) -> JSONResponse:
    response = JSONResponse(error.to_dict(), status_code=error.status)
    details = error.details if isinstance(error.details, dict) else {}
    if error.status == 429 and details.get("retry_after_seconds"):  # throttles say when
        response.headers["Retry-After"] = str(details["retry_after_seconds"])
    return response


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIX) and "text/html" in request.headers.get(
        "accept", ""
    )


def _render(request: Request, error: DomainError) -> Response:
    if _wants_html(request):
        from tongban.web.rendering import render_error

        return render_error(request, error)
    return _error_json(error)


def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = exc.errors()
    text = next((e for e in errors if e.get("type") in TEXT_ERROR_CODES), None)
    if text is not None:
        return _render(request, _text_error(text))
    if any(e.get("type") == "json_invalid" for e in errors):
        error = DomainError(
            "malformed_json",
            "请求体不是合法的 JSON。",
            "The request body is not valid JSON.",
            status=400,
            details=_jsonable(errors),
        )
    else:
        error = DomainError(
            "invalid_request",
            "请求参数有误，请检查标出的字段。",
            "The request is invalid; see the listed fields.",
            status=422,
            details=_jsonable(errors),
        )
    return _render(request, error)


def _text_error(error: Any) -> DomainError:
    """The input policy's refusal (``tongban.kit.text``), naming the field by its full path."""
    ctx = dict(error.get("ctx") or {})
    # loc: ("body", "applicant", "name"); the validator names the field and any path within it.
    outer = [str(part) for part in error.get("loc", ())[1:-1]]
    field = ".".join([*outer, str(ctx.pop("field", ""))]).strip(".")
    return text_error(error["type"], field=field, **ctx)


def _jsonable(errors: Any) -> Any:
    """The errors as JSON: echoed inputs that JSON cannot hold (NaN, Infinity, bytes) as text."""
    return json.loads(json.dumps(_finite(errors), default=str, ensure_ascii=False))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    code, zh, en = HTTP_ERROR_TEXT.get(
        exc.status_code, ("http_error", str(exc.detail), str(exc.detail))
    )
    response = _render(request, DomainError(code, zh, en, status=exc.status_code))
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:  # RFC 9110 §15.5.6: every method the path answers
        response.headers["Allow"] = _allowed_methods(request, (exc.headers or {}).get("Allow"))
    return response


def _allowed_methods(request: Request, named: str | None) -> str:
    """Starlette names only the first route of the path; a path has one route per method."""
    from starlette.routing import Match

    methods = {m.strip() for m in (named or "").split(",") if m.strip()}
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            methods.add(method)
    return ", ".join(sorted(methods))


def _client_gone(request: Request, exc: ClientDisconnect) -> Response:
    """A client that left while sending its body (a closed tab, a dropped line) is an
    ordinary event: one INFO line, no traceback, nothing to answer."""
    logging.getLogger("tongban.http").info(
        "client disconnected while sending %s %s", request.method, request.url.path
    )
    return Response(status_code=400)


def _conflict(request: Request, exc: Exception) -> Response:
    return _render(
        request,
        Conflict(
            "concurrent_update",
            "数据已被他人修改，请刷新后重试。",
            "The record was changed by someone else; reload and try again.",
        ),
    )


def _favicon() -> FileResponse:
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")


def create_app(database_url: str | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="tongban 通办 API",
        version="0.1.0",
        description="一网通办 integrated government-service platform",
        # no more threads than connections (docs/concurrency.md); the audit integrator
        lifespan=with_integrator(limit_threads),
        docs_url=None,  # /docs: tongban.web.api_docs (no CDN, a strict CSP); no ReDoc
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database_url = database_url or settings.database_url
    app.state.session_factory = session_factory(app.state.database_url)
    events.register_handlers()

    app.add_exception_handler(DomainError, lambda r, e: _render(r, e))
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(StaleDataError, _conflict)
    app.add_exception_handler(IntegrityError, _conflict)
    app.add_exception_handler(ClientDisconnect, _client_gone)  # type: ignore[arg-type]

    for router in api_routers():
        # Every API route documents the project's error format for the common statuses.
        app.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    from tongban.web import routers as web_routers

    for router in web_routers():
        app.include_router(router)
    install_api_docs(app)  # /docs, and the OpenAPI document (tongban.openapi)
    app.mount("/static", HashedStaticFiles(directory=STATIC_DIR), name="static")
    # Browsers ask for /favicon.ico where a page names no icon (an API answer, a PDF).
    app.add_api_route("/favicon.ico", _favicon, include_in_schema=False)

    app.add_middleware(CleanURL)  # inside the session: a refused page URL renders as a page
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_ttl_seconds,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(ClientAddress)
    # Every answer of 1 KB or more is compressed for clients that accept gzip.
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    # A visitor's catalog pages as first sent, compressed and with the headers above.
    page_cache.install(app, session_cookie=SESSION_COOKIE)
    install_operations(app)  # outermost: probes, metrics, request ids (docs/operations.md)
    return app
