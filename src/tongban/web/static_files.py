"""Static files with content-hashed addresses and long cache lifetimes.

Pages name ``/static/tongban.css?v=<first 12 hex of its SHA-256>`` (``static_url``); a request
whose ``v`` is the file's current hash is answered with ``Cache-Control: public, max-age=1
year, immutable`` — a new release changes the hash, so browsers and proxies never keep an old
stylesheet. Without ``v``, or with a stale one, files are served with a short lifetime.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"


@lru_cache(maxsize=64)
def content_hash(name: str) -> str:
    """The file's hash (read once per process: the package's files change with a release)."""
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    return f"/static/{name}?v={content_hash(name)}"


class HashedStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = IMMUTABLE if _current(path, scope) else SHORT
        return response


def _current(path: str, scope: Scope) -> bool:
    query = scope.get("query_string", b"").decode("latin-1")
    wanted = dict(part.split("=", 1) for part in query.split("&") if "=" in part).get("v")
    if not wanted:
        return False
    try:
        return wanted == content_hash(path)
    except OSError:
        return False
