"""Security headers on every response, and pages that a strict CSP does not break."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tongban.app import create_app
from tongban.config import Settings

PAGES = ["/", "/search?q=低保", "/progress", "/login", "/api/v1/items?q=低保", "/nope"]


def test_headers_on_pages_api_and_errors(client: TestClient) -> None:
    for path in PAGES:
        response = client.get(path)
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp, path
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in headers  # plain HTTP: no HSTS


def test_no_inline_script_or_style_in_pages(client: TestClient) -> None:
    for path in PAGES[:4]:
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"<style\b", html), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path  # no inline event handlers


def test_hsts_and_secure_cookie_behind_tls(demo_db: str) -> None:
    settings = Settings(secure_cookies=True, secret_key="tls-test-key")
    with TestClient(create_app(demo_db, settings), base_url="https://testserver") as tls:
        response = tls.get("/login")
        assert response.headers["strict-transport-security"].startswith("max-age=")
        cookie = response.headers.get("set-cookie", "")
        assert "secure" in cookie.lower() and "httponly" in cookie.lower()
