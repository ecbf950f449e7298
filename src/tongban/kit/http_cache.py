"""Answers that are the same for everyone who asks, kept in memory under a version key.

The caller names the key (it holds whatever the answer depends on: the catalog's version,
the address, the language …); the answer is built once per key and then served from a bounded
LRU with a weak ETag derived from the key, so a client or proxy that already has it gets 304.
Only 200 answers without cookies are kept.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from tongban.kit.shared_answers import mark_shareable

MAX_ENTRIES = 2000  # per process
MAX_BODY_BYTES = 512 * 1024
# Clients and proxies may keep an answer a minute, then ask again (a cheap 304 if unchanged).
CACHE_CONTROL = "public, max-age=60, must-revalidate"


@dataclass(frozen=True)
class CachedAnswer:
    body: bytes
    etag: str
    media_type: str


class AnswerCache:
    """A bounded, thread-safe LRU (the thread pool serves requests in parallel)."""

    def __init__(self, capacity: int = MAX_ENTRIES) -> None:
        self.capacity = capacity
        self._answers: OrderedDict[str, CachedAnswer] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> CachedAnswer | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is None:
                self.misses += 1
                return None
            self._answers.move_to_end(key)
            self.hits += 1
            return answer

    def put(self, key: str, answer: CachedAnswer) -> None:
        with self._lock:
            self._answers[key] = answer
            self._answers.move_to_end(key)
            while len(self._answers) > self.capacity:
                self._answers.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()


def address_of(request: Request) -> str:
    """Path and query, the query's parameters in a stable order (escaped: ``q=a%26b`` and
    ``q=a&b`` are different addresses)."""
    return f"{request.url.path}?{urlencode(sorted(request.query_params.multi_items()))}"


def cached(
    request: Request,
    cache: AnswerCache,
    key: str,
    build: Callable[[], Response],
    *,
    vary: str,
) -> Response:
    """The answer for ``key``: 304 if the client has it, from ``cache`` if kept, else built."""
    etag = f'W/"{hashlib.sha256(key.encode()).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": vary}
    if etag in _etags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    answer = cache.get(key)
    if answer is None:
        response = build()
        body = bytes(response.body)
        if response.status_code != 200 or _sets_cookie(response) or len(body) > MAX_BODY_BYTES:
            return response
        answer = CachedAnswer(body, etag, response.media_type or "application/octet-stream")
        cache.put(key, answer)
    mark_shareable(request.scope)  # kit/shared_answers.py may keep it as sent
    return Response(answer.body, media_type=answer.media_type, headers=headers)


def _etags(header: str) -> set[str]:
    return {tag.strip() for tag in header.split(",") if tag.strip()}


def _sets_cookie(response: Response) -> bool:
    return any(name == b"set-cookie" for name, _ in response.raw_headers)
