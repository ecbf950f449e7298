"""A client that disconnects while uploading a form is logged at INFO without a traceback
(issue 11 §3), not as an ERROR: a log flood otherwise."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient


def test_a_disconnect_during_a_form_upload_is_one_info_line(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    boundary = "tongbanboundary"
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": f"--{boundary}\r\n".encode(), "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/login",
        "raw_path": b"/login",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
            (b"content-length", b"100000"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    with caplog.at_level(logging.INFO):
        anyio.run(client.app, scope, receive, send)  # type: ignore[arg-type]
    gone = [r for r in caplog.records if "client disconnected" in r.getMessage()]
    assert gone and all(r.levelno == logging.INFO and r.exc_info is None for r in gone)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
