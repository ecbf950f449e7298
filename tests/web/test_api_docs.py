"""``/docs``: Swagger UI from the package on our own server, under a strict CSP — no CDN,
no inline script — and it really renders the operations in Chromium without a CSP
violation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tongban.web.api_docs import DOCS_CSP, VERSION
from web.browser_support import CHROMIUM, CHROMIUM_ARGS, running_server

ADDRESSES = re.compile(r"""(?:src|href)="([^"]+)\"""")


def test_docs_page_has_a_strict_csp_and_names_only_our_own_files(client: Any) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert csp == DOCS_CSP
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    html = response.text
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assert re.search(r"<script>(?!\s*</script>)", html) is None  # no inline script
    assert "<style" not in html and "style=" not in html and "onload" not in html
    addresses = ADDRESSES.findall(html)
    assert len(addresses) >= 4
    for address in addresses:
        assert address.startswith("/"), address
        asset = client.get(address)
        assert asset.status_code == 200, address
    assert client.get("/openapi.json").status_code == 200


def test_swagger_ui_files_are_versioned_and_cached_for_a_year(client: Any) -> None:
    response = client.get(f"/docs/assets/{VERSION}/swagger-ui-bundle.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "immutable" in response.headers["cache-control"]
    assert "SwaggerUIBundle" in response.text[:2000]
    # Another version, or a file of the package that the page does not use: nothing.
    assert client.get("/docs/assets/4.0.0/swagger-ui-bundle.js").status_code == 404
    assert client.get(f"/docs/assets/{VERSION}/index.html").status_code == 404
    assert client.get(f"/docs/assets/{VERSION}/..%2f__init__.py").status_code == 404


def test_redoc_is_not_offered(client: Any) -> None:
    assert client.get("/redoc").status_code == 404


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("api-docs")) as base:
        yield base


@pytest.mark.browser
def test_swagger_ui_renders_the_operations_without_a_csp_violation(
    server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        console: list[str] = []
        outside: list[str] = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        page.on(
            "request",
            lambda r: None if r.url.startswith((server, "data:")) else outside.append(r.url),
        )
        page.goto(server + "/docs")
        expect(page.locator(".opblock-summary-path").first).to_be_visible(timeout=30_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert "/api/v1/auth/token" in "".join(paths).replace("\u200b", "")
        assert len(paths) >= 50
        expect(page.locator(".info .title")).to_contain_text("tongban")
        page.locator(".opblock-summary-control").first.click()  # open POST /auth/token
        expect(page.locator(".opblock-body .responses-table").first).to_be_visible()
        codes = page.locator(".opblock-body .response-col_status").all_inner_texts()
        assert {"200", "401", "422", "429"} <= {c.strip() for c in codes}, codes
        page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
        browser.close()
    violations = [line for line in console if "Content Security Policy" in line]
    assert not violations, violations
    assert not [line for line in console if line.startswith(("error", "pageerror"))], console
    assert not outside, outside
