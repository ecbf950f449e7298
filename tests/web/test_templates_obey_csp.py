"""The pages are served with ``Content-Security-Policy: style-src 'self'``: an inline <style>
or style attribute is dropped by the browser (the dashboard's colours once were), so the page
templates have none. The report and decision documents are printed to PDF, not served under
that policy."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from fastapi.testclient import TestClient

from web.webtools import login

PRINTED = ("report/", "documents/")
INLINE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)


def test_no_page_template_styles_inline() -> None:
    root = Path(str(resources.files("tongban.web"))) / "templates"
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.html"))
        if not str(path.relative_to(root)).startswith(PRINTED)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if INLINE.search(line)
    ]
    assert offenders == []


def test_the_dashboard_is_served_under_a_policy_without_inline_styles(web: TestClient) -> None:
    login(web, "admin")
    page = web.get("/workbench/dashboard")
    assert page.status_code == 200
    assert "style-src 'self'" in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert INLINE.search(page.text) is None
