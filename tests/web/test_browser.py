"""End to end in a real browser: Debian's Chromium driven by Playwright against uvicorn.

Skipped when /usr/bin/chromium is missing, unless TONGBAN_REQUIRE_BROWSER=1 (then it fails).
Never downloads a browser. Screenshots go to /tmp/tongban-browser-*.png for a human look.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from web.browser_support import CHROMIUM, CHROMIUM_ARGS, fill_dibao_form, running_server
from web.webtools import PDF

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("browser")) as base:
        yield base


def test_search_apply_and_track_in_chromium(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    pdf = tmp_path / "申请书.pdf"
    pdf.write_bytes(PDF)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(locale="zh-CN", viewport={"width": 1200, "height": 900})
        page.goto(server + "/")
        page.get_by_role("searchbox").fill("低保")
        page.get_by_role("button", name="搜索").click()
        page.get_by_role("link", name="最低生活保障申请").first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("最低生活保障申请")
        page.screenshot(path="/tmp/tongban-browser-guide.png", full_page=True)
        page.get_by_role("link", name="在线申办").first.click()

        # Not signed in yet: the login page comes first, then straight back to the form.
        page.get_by_label("用户名").fill("applicant_ma")
        page.get_by_label("密码").fill("Demo@2026")
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("在线申办")
        fill_dibao_form(page, files=(pdf, pdf))
        page.screenshot(path="/tmp/tongban-browser-apply.png", full_page=True)
        page.get_by_role("button", name="提交申请").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("申请已提交")
        case_no = page.locator("#case-no").inner_text().strip()
        query_code = page.locator("#query-code").inner_text().strip()
        assert case_no.startswith("640425-") and len(query_code) == 8
        page.screenshot(path="/tmp/tongban-browser-done.png", full_page=True)

        # A fresh browser context (no session) can follow the case with the two codes.
        other = browser.new_page(locale="zh-CN")
        other.goto(server + "/progress")
        other.get_by_label("办件编号").fill(case_no)
        other.get_by_label("查询码").fill(query_code)
        other.get_by_role("button", name="查询").click()
        expect(other.locator("#progress-state")).to_have_text("已申报")
        expect(other.get_by_text("马晓燕")).to_have_count(0)
        other.screenshot(path="/tmp/tongban-browser-progress.png", full_page=True)
        browser.close()
