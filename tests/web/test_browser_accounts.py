"""In Chromium, as people would: a citizen signs up (the code read off the demo SMS gateway
after the worker delivered it), verifies her identity, applies for 最低生活保障 and later
downloads the decision; the window and the 民政局 find the case in their queues.

Screenshots (standard and 长辈模式, 1200 px and 360 px) go to /tmp/tongban-browser-*.png.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tongban.kit.ids import is_valid_id_number
from web.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_SETUP,
    fill_dibao_form,
    running_server,
)
from web.webtools import PDF

pytestmark = pytest.mark.browser
PHONE = "13995400888"  # fictional
PASSWORD = "Demo@2026"
SHOTS = "/tmp/tongban-browser-"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    var = tmp_path_factory.mktemp("browser-accounts")
    env = {"TONGBAN_SMS_GATEWAY": "demo"}
    with running_server(var, setup=DEMO_SETUP, extra_env=env, worker=True) as base:
        yield base, var


def resident(var: Path) -> tuple[str, str]:
    with sqlite3.connect(var / "exchange" / "population.db") as db:
        rows = db.execute("SELECT XM, GMSFHM, HJDZ FROM RK_JBXX WHERE RYID > 10").fetchall()
    numbers = [str(r[1]) for r in rows]
    for name, number, address in rows:
        number = str(number)
        clean = len(number) == 18 and is_valid_id_number(number) and numbers.count(number) == 1
        if clean and str(name) == str(name).strip() and "彭阳县" in str(address or ""):
            return str(name), number
    raise AssertionError("no clean resident")


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=f"{SHOTS}{name}.png", full_page=True)


def test_sign_up_apply_and_receive_the_decision(demo: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    server, var = demo
    name, number = resident(var)
    pdf = tmp_path / "申请书.pdf"
    pdf.write_bytes(PDF)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        citizen = browser.new_page(locale="zh-CN", viewport={"width": 1200, "height": 900})
        citizen.goto(server + "/")
        citizen.get_by_role("link", name="注册", exact=True).click()
        citizen.get_by_label("手机号码").fill(PHONE)
        shoot(citizen, "signup")
        citizen.get_by_role("button", name="获取验证码").click()
        expect(citizen.get_by_role("status")).to_contain_text("139****0888")

        # The demo SMS gateway shows what would have been sent, once the worker sent it.
        gateway = browser.new_page(locale="zh-CN")
        code = ""
        for _ in range(40):
            gateway.goto(server + "/demo/sms")
            found = re.search(r"(?<!\d)(\d{6})(?!\d)", gateway.locator("main").inner_text())
            if found:
                code = found.group(1)
                break
            gateway.wait_for_timeout(250)
        assert code, "no code reached the demo SMS gateway"
        shoot(gateway, "demo-sms")

        citizen.get_by_label("短信验证码").fill(code)
        citizen.get_by_label("设置密码", exact=True).fill(PASSWORD)
        citizen.get_by_label("再次输入密码").fill(PASSWORD)
        citizen.get_by_role("button", name="注册").click()
        expect(citizen.get_by_role("heading", level=1)).to_have_text("实名认证")
        citizen.get_by_label("姓名").fill(name)
        citizen.get_by_label("居民身份证号").fill(number)
        shoot(citizen, "identity")
        citizen.get_by_role("button", name="提交核验").click()
        expect(citizen.locator("#assurance-level")).to_contain_text("二级")
        shoot(citizen, "account")

        # She applies for herself: her verified identity, not typed.
        citizen.goto(server + "/search?q=低保")
        citizen.get_by_role("link", name="最低生活保障申请").first.click()
        citizen.get_by_role("link", name="在线申办").first.click()
        expect(citizen.locator("#applying-as")).to_contain_text(f"本人：{name}")
        fill_dibao_form(citizen, files=(pdf, pdf), household="1", income="800")
        citizen.get_by_role("button", name="提交申请").click()
        expect(citizen.get_by_role("heading", level=1)).to_have_text("申请已提交")
        case_no = citizen.locator("#case-no").inner_text().strip()

        staff = browser.new_page(locale="zh-CN", viewport={"width": 1200, "height": 900})

        def sign_in(username: str) -> None:
            staff.goto(server + "/login")
            staff.get_by_label("用户名").fill(username)
            staff.get_by_label("密码").fill(PASSWORD)
            staff.get_by_role("button", name="登录").click()
            expect(staff.get_by_role("heading", level=1)).to_have_text("工作台")

        def sign_out() -> None:
            staff.get_by_role("button", name="退出").click()

        def open_queue(label: str) -> None:
            staff.goto(server + "/workbench")
            staff.locator("#queues").get_by_role("link", name=re.compile(label)).first.click()
            staff.get_by_role("link", name=case_no).click()

        def do(action: str) -> None:
            staff.get_by_role("button", name=re.compile(action)).first.click()
            expect(staff.locator(".flash-success")).to_be_visible()

        sign_in("clerk")
        shoot(staff, "workbench-clerk")
        open_queue("待受理")
        do("确认受理")
        sign_out()
        sign_in("reviewer_mzj")
        shoot(staff, "workbench-reviewer")
        open_queue("部门审查任务")
        expect(staff.get_by_text("800")).to_be_visible()  # the income, plain: what she judges
        shoot(staff, "review-plain")
        do("部门审查通过")
        open_queue("待决定")
        do("确认作出决定")
        sign_out()
        sign_in("clerk")
        open_queue("待办结")
        do("确认办结")
        staff.goto(server + "/workbench/queues/deliver?channel=electronic")
        expect(staff.get_by_role("link", name=case_no)).to_be_visible()
        shoot(staff, "queue-deliver")

        citizen.goto(server + f"/my/cases/{case_no}")
        with citizen.expect_download() as download:
            citizen.locator("#decision-download").click()
        saved = tmp_path / "决定书.pdf"
        download.value.save_as(saved)
        assert saved.read_bytes().startswith(b"%PDF")
        citizen.goto(server + f"/my/cases/{case_no}")
        expect(citizen.get_by_text("已送达").first).to_be_visible()
        expect(citizen.get_by_text("电子送达（申请人已下载决定书，送达回证）")).to_be_visible()
        shoot(citizen, "decision")

        # The same pages at 360 px and in 长辈模式.
        for label, width in (("360", 360), ("1200", 1200)):
            small = browser.new_page(locale="zh-CN", viewport={"width": width, "height": 800})
            small.goto(server + "/elder-mode/on?next=/signup")
            shoot(small, f"signup-elder-{label}")
            small.goto(server + "/elder-mode/off?next=/signup")
            if width == 360:
                shoot(small, "signup-360")
            small.close()
        browser.close()
