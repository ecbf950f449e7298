"""Slow clients hold no lock (issue 11 §1): 50 signed-in form posts trickle their
multipart bodies into a real `tongban serve`; while every one of them is still open, an
anonymous catalog read and a signed-in API write are answered. Before the fix the user
lookup opened the request's transaction before the body was read — on SQLite one slow
post blocked every other request, on PostgreSQL 50 of them held the pool."""

from __future__ import annotations

import re
import select
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from load.load_support import DEMO_PASSWORD, bearer, serving
from support import PDF

SLOW_CLIENTS = 50
BOUNDARY = "tongbanslowupload"


def _signed_in_cookie(base: str) -> str:
    """The clerk's session cookie, signed in through the login page as a browser does."""
    with httpx.Client(base_url=base, timeout=30) as browser:
        page = browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, "the login page carries a CSRF token"
        form = {"username": "clerk", "password": DEMO_PASSWORD, "csrf_token": token.group(1)}
        answer = browser.post("/login", data=form)
        assert answer.status_code in (302, 303), answer.text[:300]
        cookie = browser.cookies.get("tongban_session")
        assert cookie
        return cookie


def _start_slow_post(base: str, cookie: str) -> socket.socket:
    """A form post whose headers and first bytes are sent; the rest never comes."""
    address = urlsplit(base)
    sock = socket.create_connection((address.hostname, address.port), timeout=30)
    first_part = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="csrf_token"\r\n\r\nx\r\n'
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode() + PDF
    head = (
        f"POST /apply/NO-SUCH-ITEM HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Cookie: tongban_session={cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(first_part) + 4 * 1024 * 1024}\r\n\r\n"
    ).encode()
    sock.sendall(head + first_part)
    return sock


def _still_open(sock: socket.socket) -> bool:
    """No answer and no close from the server yet: the upload is still in progress."""
    readable, _, _ = select.select([sock], [], [], 0)
    return not readable


def test_slow_form_uploads_do_not_block_other_requests(
    demo_db: str, tmp_path: Path, record_property: Any
) -> None:
    backend = "SQLite" if demo_db.startswith("sqlite") else "PostgreSQL"
    with serving(demo_db, tmp_path, workers=1) as base:
        cookie = _signed_in_cookie(base)
        clerk = bearer(base, "clerk")
        started = time.perf_counter()
        assert httpx.get(base + "/api/v1/items?q=证&size=5", timeout=25).status_code == 200
        alone_seconds = time.perf_counter() - started
        slow = [_start_slow_post(base, cookie) for _ in range(SLOW_CLIENTS)]
        try:
            for sock in slow:  # a second trickle: every post is past its headers
                sock.sendall(b"\x00" * 512)
            started = time.perf_counter()
            read = httpx.get(base + "/api/v1/items?q=证&size=5", timeout=25)
            read_seconds = time.perf_counter() - started
            assert read.status_code == 200, read.text[:300]
            started = time.perf_counter()
            files = {"file": ("证明.pdf", PDF + b"during", "application/pdf")}
            write = httpx.post(base + "/api/v1/uploads", headers=clerk, files=files, timeout=25)
            write_seconds = time.perf_counter() - started
            assert write.status_code == 201, write.text[:300]
            assert all(_still_open(sock) for sock in slow), "the slow posts were still open"
        finally:
            for sock in slow:
                sock.close()
    record_property(
        "summary",
        f"slow uploads {backend}: anonymous read alone {alone_seconds:.2f} s; with "
        f"{SLOW_CLIENTS} slow posts open: anonymous read {read_seconds:.2f} s, "
        f"signed-in upload {write_seconds:.2f} s",
    )
