"""In Chromium: an apply form sent back keeps its files, and the complaint form finds an item
by its name — both without typing a single code.

Screenshots go to /tmp/tongban-browser-forms-*.png for a human look.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from web.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_SETUP,
    fill_dibao_form,
    running_server,
)
from web.webtools import PDF

pytestmark = pytest.mark.browser
SHOTS = "/tmp/tongban-browser-forms-"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("browser-forms"), setup=DEMO_SETUP) as base:
        yield base


def test_an_apply_form_sent_back_keeps_its_files(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    good = tmp_path / "申请书.pdf"
    good.write_bytes(PDF)
    disguised = tmp_path / "授权书.pdf"  # a PDF by name only: the server reads the content
    disguised.write_bytes(b"MZ\x90\x00 this is not a pdf")
    fixed = tmp_path / "授权书-重新扫描.pdf"
    fixed.write_bytes(PDF)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(locale="zh-CN", viewport={"width": 360, "height": 800})
        page.goto(server + "/login?next=/apply/11640425MB00010TBR051008000100001")
        page.get_by_label("用户名").fill("applicant_ma")
        page.get_by_label("密码").fill("Demo@2026")
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("在线申办")
        fill_dibao_form(page, files=(good, disguised))
        page.get_by_role("button", name="提交申请").click()

        # Sent back: the bad file is named, the good one is attached, what was typed stays.
        expect(page.get_by_role("alert")).to_contain_text("仅支持 PDF、JPEG、PNG、OFD")
        expect(page.get_by_text("已附：申请书.pdf")).to_be_visible()
        expect(page.get_by_label("申请理由")).to_have_value("家庭收入低于当地低保标准")
        page.screenshot(path=f"{SHOTS}kept-360.png", full_page=True)
        page.get_by_label("家庭经济状况核对授权书").set_input_files(str(fixed))
        page.get_by_role("button", name="提交申请").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("申请已提交")
        case_no = page.locator("#case-no").inner_text().strip()
        page.goto(f"{server}/my/cases/{case_no}")
        expect(page.get_by_text("申请书.pdf")).to_be_visible()
        expect(page.get_by_text("授权书-重新扫描.pdf")).to_be_visible()
        browser.close()


def test_the_complaint_form_finds_an_item_by_name(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(locale="zh-CN", viewport={"width": 360, "height": 800})
        page.goto(server + "/complaints")
        page.get_by_label("内容").fill("窗口排队两个小时没人管")
        page.get_by_label("联系电话").fill("13900000009")
        page.get_by_label("按名称查找事项").fill("低保")
        page.get_by_role("button", name="查找", exact=True).click()

        expect(page.get_by_role("status")).to_contain_text("找到 1 个事项")
        expect(page.get_by_label("事项", exact=True)).to_have_value(
            "11640425MB00010TBR051008000100001"
        )
        expect(page.get_by_label("内容")).to_have_value("窗口排队两个小时没人管")
        page.get_by_role("radio", name="服务事项").check()
        page.screenshot(path=f"{SHOTS}complaint-found-360.png", full_page=True)
        page.get_by_role("button", name="提交", exact=True).click()

        expect(page.get_by_text("最低生活保障申请").first).to_be_visible()
        expect(page.get_by_text("查询码").first).to_be_visible()
        page.screenshot(path=f"{SHOTS}complaint-filed-360.png", full_page=True)
        browser.close()
