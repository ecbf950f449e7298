"""Answers that are the same for every visitor, served before the app runs.

An endpoint that builds an answer the same for everyone (``kit/http_cache.cached``) marks the
request's scope ``SHAREABLE``. This ASGI layer, placed outside the session, the security
headers, compression and the router, keeps such an answer *as it was sent* — status,
headers (the security headers and the compression included; the request id is added by an
outer layer) and body — under the version it depends on and the visitor's *variant* (the
address, language, …, named by the caller). The next visitor with the same variant gets
those bytes without a route lookup, a dependency, a thread or a template: one version read,
shared with the requests waiting at the same moment (``kit/shared_read.py``), and a
dictionary lookup. A visitor who already holds the answer gets 304.

Only what the app marked, with status 200 and no cookie set, is kept; ``variant`` returns
None for a request that must reach the app (a signed-in visitor, a HEAD …). The variant must
hold everything the answer depends on besides the version. Paths are learned: a request
pays for the version read only once its path has given a shareable answer.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SHAREABLE = "tongban.shareable"
MAX_BYTES = 32 * 1024 * 1024  # kept bodies per process
MAX_ANSWER_BYTES = 512 * 1024
MAX_PATHS = 10_000
_NOT_IN_304 = frozenset({b"content-length", b"content-type", b"content-encoding"})
_log = logging.getLogger(__name__)

Variant = Callable[[Scope], str | None]


def mark_shareable(scope: Scope) -> None:
    """The answer being sent is the same for everyone with this request's variant."""
    scope[SHAREABLE] = True


@dataclass(frozen=True)
class WireAnswer:
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes | None
    route: Any  # the route that built it: the metrics label it under its template

    def not_modified_headers(self) -> list[tuple[bytes, bytes]]:
        return [(k, v) for k, v in self.headers if k not in _NOT_IN_304]


class _Kept:
    """The answers for the newest version seen, least recently used first out."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.version: str | None = None
        self.answers: OrderedDict[str, WireAnswer] = OrderedDict()
        self.size = 0
        self.paths: OrderedDict[str, None] = OrderedDict()

    def get(self, version: str, variant: str) -> WireAnswer | None:
        if version != self.version:  # reads finish in order: this is the newest version
            self.version, self.answers, self.size = version, OrderedDict(), 0
            return None
        answer = self.answers.get(variant)
        if answer is not None:
            self.answers.move_to_end(variant)
        return answer

    def put(self, version: str, variant: str, answer: WireAnswer) -> None:
        if version != self.version:  # a newer version was read meanwhile
            return
        previous = self.answers.pop(variant, None)
        self.size -= len(previous.body) if previous else 0
        self.answers[variant] = answer
        self.size += len(answer.body)
        while self.size > self.max_bytes and self.answers:
            _, dropped = self.answers.popitem(last=False)
            self.size -= len(dropped.body)

    def learn(self, path: str) -> None:
        self.paths[path] = None
        self.paths.move_to_end(path)
        if len(self.paths) > MAX_PATHS:
            self.paths.popitem(last=False)


class SharedAnswers:
    def __init__(
        self,
        app: ASGIApp,
        *,
        version: Callable[[], Awaitable[str]],
        variant: Variant,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.app = app
        self.version = version
        self.variant = variant
        self.kept = _Kept(max_bytes)
        self.hits = 0  # answers sent from memory (tests, figures)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        variant = self.variant(scope)
        if variant is None:
            await self.app(scope, receive, send)
            return
        if scope["path"] not in self.kept.paths:
            await self._keep(scope, receive, send, None, variant)
            return
        try:
            version = await self.version()
        except Exception:  # the app reads the version itself and answers as it can
            _log.warning("catalog version unreadable; serving uncached", exc_info=True)
            await self.app(scope, receive, send)
            return
        answer = self.kept.get(version, variant)
        if answer is None:
            await self._keep(scope, receive, send, version, variant)
        else:
            self.hits += 1
            await _send(scope, send, answer)

    async def _keep(
        self, scope: Scope, receive: Receive, send: Send, version: str | None, variant: str
    ) -> None:
        """The app's answer, passed on and kept if it is shareable."""
        start: Message = {}
        chunks: list[bytes] = []
        size = 0
        wanted = complete = False

        async def capture(message: Message) -> None:
            nonlocal start, size, wanted, complete
            if message["type"] == "http.response.start":
                # The endpoint has returned: marked or not, it decided (a download is not held).
                start, wanted = message, bool(scope.get(SHAREABLE)) and message["status"] == 200
            elif message["type"] == "http.response.body" and wanted:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                wanted = size <= MAX_ANSWER_BYTES
                complete = not message.get("more_body", False)
            await send(message)

        await self.app(scope, receive, capture)
        if not (wanted and complete):
            return
        headers = [(bytes(k).lower(), bytes(v)) for k, v in start.get("headers", [])]
        body = b"".join(chunks)
        if any(k == b"set-cookie" for k, _ in headers):
            return
        self.kept.learn(scope["path"])
        if version is not None:
            etag = next((v for k, v in headers if k == b"etag"), None)
            self.kept.put(version, variant, WireAnswer(headers, body, etag, scope.get("route")))


async def _send(scope: Scope, send: Send, answer: WireAnswer) -> None:
    if scope.get("route") is None and answer.route is not None:
        scope["route"] = answer.route
    if answer.etag is not None and _client_has(scope, answer.etag):
        await send(
            {"type": "http.response.start", "status": 304, "headers": answer.not_modified_headers()}
        )
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": list(answer.headers)})
    await send({"type": "http.response.body", "body": answer.body})


def _client_has(scope: Scope, etag: bytes) -> bool:
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            return etag in {tag.strip() for tag in value.split(b",")}
    return False
