"""Structured JSON logs with a request id (opt-in: ``TONGBAN_LOG_FORMAT=json``).

Every line is one JSON object: time (UTC, ISO 8601), level, logger, message, the request id
of the request being served (also echoed as ``X-Request-ID``), and for uvicorn's access
lines the method, path, status and client. Personal numbers are masked by the privacy
filter (``tongban.privacy.logs``) that already sits on every handler; the formatter masks
what it adds (the exception text) the same way. Developers keep uvicorn's readable lines.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tongban.privacy.logs import PersonalDataFilter
from tongban.privacy.scanner import mask_text

REQUEST_ID_HEADER = b"x-request-id"
# An id from the proxy (nginx $request_id) or the client is kept when it is short and
# plain; anything else could forge log lines or carry data, so a fresh one replaces it.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

request_id: ContextVar[str | None] = ContextVar("tongban_request_id", default=None)

# uvicorn's loggers and the root logger, whose handlers uvicorn_log_config() sets up.
LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


def sane_request_id(value: str | None) -> str:
    if value is not None and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestId:
    """Takes the request id from ``X-Request-ID`` (if sane) or makes one, holds it for the
    logs of this request and echoes it in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(REQUEST_ID_HEADER)
        rid = sane_request_id(given.decode("latin-1") if given is not None else None)
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER
                ]
                headers.append((REQUEST_ID_HEADER, rid.encode()))
                message["headers"] = headers
            await send(message)

        token = request_id.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        rid = request_id.get()
        if rid is not None:
            entry["request_id"] = rid
        if (
            record.name == "uvicorn.access"
            and isinstance(record.args, tuple)
            and len(record.args) == len(_ACCESS_FIELDS)
        ):
            entry.update(zip(_ACCESS_FIELDS, record.args, strict=True))
            entry["message"] = "request"
        else:
            entry["message"] = record.getMessage()
        if record.exc_info:
            entry["exception"] = mask_text(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = mask_text(record.exc_text)
        return json.dumps(entry, ensure_ascii=False, default=str)


def use_json_logs() -> None:
    """Switch the handlers uvicorn set up (and the root's) to JSON lines, keeping the
    privacy filter on each; a logger without a handler gets a filtered one on stderr."""
    formatter = JsonFormatter()
    seen: set[int] = set()
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not logger.handlers and name == "":
            handler: logging.Handler = logging.StreamHandler()
            handler.addFilter(PersonalDataFilter())
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
        for handler in logger.handlers:
            if id(handler) in seen:
                continue
            seen.add(id(handler))
            handler.setFormatter(formatter)
            if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
                handler.addFilter(PersonalDataFilter())
