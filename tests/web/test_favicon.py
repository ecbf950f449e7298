"""The site's icon: 通 on the brand red, named by every page and served at /favicon.ico."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_every_page_names_the_icon_and_it_is_served(web: TestClient) -> None:
    page = web.get("/")
    assert page.status_code == 200
    (href,) = re.findall(r'<link rel="icon" href="([^"]+)"', page.text)
    icon = web.get(href)
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert b"#b3261e" in icon.content and b"<script" not in icon.content
    assert len(icon.content) < 2048  # counted in every page's weight


def test_browsers_asking_for_favicon_ico_get_the_icon(web: TestClient) -> None:
    icon = web.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content == web.get("/static/favicon.svg").content
