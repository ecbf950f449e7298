"""Loopback sinks for the notification channels: a real SMTP server and an HTTP SMS gateway.

Use them from any test (``pythonpath = ["tests"]``), as a context manager::

    from notify_support import running_smtp_sink
    from tongban.notify import jobs as notify_jobs

    def test_sign_up_code_by_mail(demo_db: str) -> None:
        with running_smtp_sink() as sink:
            ...  # something that queues an e-mail (the settings point at the sink), committed
            notify_jobs.deliver_due(demo_db)  # or `tongban worker --once`
            mail = sink.wait_for(1)[0]  # an email.message.EmailMessage
            code = sink.code_in(mail)  # the first 6-digit number of its text

or as the fixtures ``smtp_sink`` / ``sms_gateway_sink``, registered in a folder's
conftest.py with ``from notify_support import smtp_sink  # noqa: F401`` (as
tests/notify/conftest.py does). The sink must be running *before* the message is
queued: without an SMTP host no e-mail row is written.

``smtp_sink`` starts aiosmtpd on 127.0.0.1 at a free port and points the settings at it
(``TONGBAN_SMTP_HOST``/``PORT``/``FROM``, the settings cache cleared before and after),
so e-mail rows are queued and delivered there. ``sms_gateway_sink`` does the same for
``TONGBAN_SMS_GATEWAY=http``: a tiny threaded HTTP server that records each POST and
answers with the statuses a test scripts (``sink.script = [503, 200]``), honouring the
``Idempotency-Key`` like a well-behaved gateway. ``settings_env(**values)`` sets other
``TONGBAN_`` variables for one block. Nothing is mocked: smtplib and httpx talk to real
servers on loopback.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from server_support import free_port
from tongban.config import get_settings

SENDER = "tongban@notify.test"


@contextmanager
def settings_env(**values: Any) -> Iterator[None]:
    """Set ``TONGBAN_<NAME>`` for the block; the settings cache is cleared on both ends."""
    names = {f"TONGBAN_{name.upper()}": str(value) for name, value in values.items()}
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
        get_settings.cache_clear()


def _wait(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for delivery")
        time.sleep(0.02)


# --- SMTP ------------------------------------------------------------------------------


@dataclass
class SmtpSink:
    """A real SMTP server's mailbox. ``refuse``: recipients answered 550 at RCPT;
    ``defer``: how many next messages get 451 at DATA (then accepted)."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    defer: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        _wait(lambda: len(self.messages) >= count, timeout)
        with self.lock:
            return list(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]

    @staticmethod
    def text(message: EmailMessage) -> str:
        body = message.get_body(preferencelist=("plain",))
        return str(body.get_content()) if body is not None else ""

    @classmethod
    def code_in(cls, message: EmailMessage, digits: int = 6) -> str:
        found = re.search(rf"(?<!\d)\d{{{digits}}}(?!\d)", cls.text(message))
        assert found, f"no {digits}-digit code in: {cls.text(message)}"
        return found.group()


class _SmtpHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.sink.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.sink.lock:
            if self.sink.defer > 0:
                self.sink.defer -= 1
                return "451 4.3.0 try again later"
            parsed = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            self.sink.messages.append(parsed)
            self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@contextmanager
def running_smtp_sink() -> Iterator[SmtpSink]:
    """The sink and the settings that send to it, for one block."""
    sink = SmtpSink(host="127.0.0.1", port=free_port())
    controller = Controller(
        _SmtpHandler(sink), hostname=sink.host, port=sink.port, ready_timeout=10
    )
    controller.start()
    try:
        with settings_env(
            smtp_host=sink.host,
            smtp_port=sink.port,
            smtp_from=SENDER,
            smtp_timeout_seconds=5,
            notify_retry_seconds=30,
        ):
            yield sink
    finally:
        controller.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on loopback; e-mail is queued for and delivered to it."""
    with running_smtp_sink() as sink:
        yield sink


# --- SMS gateway over HTTP -------------------------------------------------------------

GATEWAY_TOKEN = "test-gateway-token"


@dataclass
class SmsGatewaySink:
    """The HTTP gateway's view: every request, and the SMS it accepted (once per key)."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key → body
    script: list[int] = field(default_factory=list)  # statuses for the next requests
    delay: float = 0.0  # seconds before answering (timeouts)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        _wait(lambda: len(self.sent) >= count, timeout)
        with self.lock:
            return list(self.sent.values())


def _gateway_handler(sink: SmsGatewaySink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            key = self.headers.get("idempotency-key", "")
            with sink.lock:
                sink.requests.append(
                    {"headers": dict(self.headers.items()), "body": body, "key": key}
                )
                status = sink.script.pop(0) if sink.script else 200
                if status == 200 and self.headers.get("authorization") != (
                    f"Bearer {GATEWAY_TOKEN}"
                ):
                    status = 401
                if status == 200:
                    sink.sent.setdefault(key, body)  # a repeated key is the same SMS
            if sink.delay:
                time.sleep(sink.delay)
            answer = json.dumps({"id": f"gw-{key[:12]}"} if status == 200 else {}).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@contextmanager
def running_sms_gateway() -> Iterator[SmsGatewaySink]:
    sink = SmsGatewaySink()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _gateway_handler(sink))
    server.daemon_threads = True
    sink.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with settings_env(
            sms_gateway="http",
            sms_gateway_url=sink.url,
            sms_gateway_token=GATEWAY_TOKEN,
            sms_gateway_timeout_seconds=2,
            notify_retry_seconds=30,
        ):
            yield sink
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sms_gateway_sink() -> Iterator[SmsGatewaySink]:
    """A real HTTP SMS gateway on loopback; SMS is queued for and delivered to it."""
    with running_sms_gateway() as sink:
        yield sink
