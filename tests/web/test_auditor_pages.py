"""The security auditor's pages: alerts, an account's history, log verification."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tongban.access import service as access_service
from tongban.audit import service as audit_service
from tongban.audit.service import Access
from tongban.db import transaction
from tongban.kit.clock import SHANGHAI, frozen
from web.webtools import csrf, login

MORNING = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def bulk_reading(demo_db: str) -> None:
    """The demo window clerk reads 201 persons' cases one morning.

    The first case number is random: the log's origin (its first leaf) then differs
    from one test to the next, as in life, so the run's shared witness file does not
    mix up their checkpoints.
    """
    refs = [uuid.uuid4().hex, *(f"C{i}" for i in range(1, 201))]
    with transaction(demo_db) as s:
        clerk = access_service.actor_by_username(s, "clerk")
        with frozen(MORNING):
            audit_service.record_many(
                s,
                actor=clerk,
                accesses=[
                    Access(action="read", subject_kind="case", subject_ref=ref, person_ref=f"p{i}")
                    for i, ref in enumerate(refs)
                ],
            )


def _alert_id(page: str) -> int:
    match = re.search(r'id="alert-(\d+)"', page)
    assert match, "no alert row on the page"
    return int(match.group(1))


def test_auditor_lands_on_the_open_alerts(web: TestClient, bulk_reading: None) -> None:
    assert login(web, "auditor") == "/audit/alerts"
    page = web.get("/audit/alerts")
    assert page.status_code == 200
    text = page.text
    for expected in (
        "访问告警",
        "批量读取",
        "演示综合窗口",
        "201 人",
        "确认，开始核查",
        "关闭告警",
    ):
        assert expected in text, expected
    assert 'href="/audit/accounts/clerk"' in text
    assert 'href="/audit/status"' in text  # the auditor's navigation
    assert text.count('name="csrf_token"') >= 3  # logout + the two forms of the alert


def test_acknowledge_then_close_through_the_forms(web: TestClient, bulk_reading: None) -> None:
    login(web, "auditor")
    token = csrf(web, "/audit/alerts")
    alert_id = _alert_id(web.get("/audit/alerts").text)
    url = f"/audit/alerts/{alert_id}"
    page = web.post(url, data={"csrf_token": token, "status": "acknowledged", "back": "open"})
    assert page.status_code == 200
    assert "已改为“已确认”" in page.text
    assert "没有该状态的告警" in page.text  # no longer open
    refused = web.post(url, data={"csrf_token": token, "status": "closed", "back": "open"})
    assert "关闭告警须写明核查结论" in refused.text
    web.post(url, data={"csrf_token": token, "status": "closed", "note": "经核实为误操作"})
    closed = web.get("/audit/alerts", params={"status": "closed"}).text
    assert "经核实为误操作" in closed
    assert "auditor" in closed


def test_forms_need_the_csrf_token(web: TestClient, bulk_reading: None) -> None:
    login(web, "auditor")
    alert_id = _alert_id(web.get("/audit/alerts").text)
    page = web.post(f"/audit/alerts/{alert_id}", data={"status": "acknowledged"})
    assert page.status_code == 403
    assert web.post("/audit/verify", data={}).status_code == 403
    assert _alert_id(web.get("/audit/alerts").text) == alert_id  # still open


def test_an_accounts_access_history(web: TestClient, bulk_reading: None) -> None:
    login(web, "auditor")
    search = web.get("/audit/accounts")
    assert search.status_code == 200 and 'name="username"' in search.text
    page = web.get("/audit/accounts", params={"username": "clerk"})
    assert page.url.path == "/audit/accounts/clerk"
    assert "演示综合窗口（clerk）" in page.text
    assert "共 201 条访问记录" in page.text
    assert page.text.count("<tr>") == 1 + 50  # header + one page
    assert 'href="?page=2"' in page.text
    assert web.get("/audit/accounts/nobody_here").status_code == 404


def test_verify_now_runs_and_shows_the_result(web: TestClient, bulk_reading: None) -> None:
    login(web, "auditor")
    before = web.get("/audit/status")
    assert before.status_code == 200
    assert "立即核验" in before.text
    assert "还没有核验记录" in before.text
    token = csrf(web, "/audit/status")
    after = web.post("/audit/verify", data={"csrf_token": token})
    assert after.status_code == 200
    flashes = re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', after.text)
    assert any("核验通过" in text for text in flashes), flashes
    assert "还没有核验记录" not in after.text
    assert "完整" in after.text


def test_other_roles_cannot_open_the_auditor_pages(web: TestClient, bulk_reading: None) -> None:
    first = web.get("/audit/alerts", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"].startswith("/login")
    for username in ("clerk", "admin", "applicant_ma"):
        login(web, username)
        for path in ("/audit/alerts", "/audit/accounts/clerk", "/audit/status"):
            assert web.get(path).status_code == 403, (username, path)


def test_auditor_pages_in_english(web: TestClient, bulk_reading: None) -> None:
    login(web, "auditor")
    alerts = web.get("/audit/alerts", params={"lang": "en"}).text
    for expected in ("Access alerts", "Bulk reading", "Acknowledge", "Close the alert"):
        assert expected in alerts, expected
    assert "Log verification" in web.get("/audit/status").text
    assert "Access history of an account" in web.get("/audit/accounts/clerk").text


def test_an_accounts_history_names_fields_objects_and_results_in_chinese(
    web: TestClient, demo_db: str
) -> None:
    with transaction(demo_db) as s:
        clerk = access_service.actor_by_username(s, "clerk")
        audit_service.record_many(
            s,
            actor=clerk,
            accesses=[
                Access(
                    action="read",
                    subject_kind="case",
                    subject_ref="640425-20261203-000001",
                    fields=("case.applicant_name", "form.enterprise_name"),
                ),
                Access(action="export", subject_kind="cases", result="refused"),
                Access(action="catalog.item.save", subject_kind="item", subject_ref="X1"),
            ],
        )
    login(web, "auditor")
    page = web.get("/audit/accounts/clerk").text
    table = page.split("<table", 1)[1]
    for words in (
        "申请人姓名/名称",
        "申请表填写的内容",
        "办件 640425-20261203-000001",
        "办件清单",
        "已拒绝",
        "成功",
        "事项管理",
        "服务事项 X1",
    ):
        assert words in table, words
    for code in (
        "case.applicant_name",
        "form.enterprise_name",
        ">ok<",
        ">refused<",
        ">case ",
        "catalog.item.save<",
    ):
        assert code not in table, code
    assert 'data-action="catalog.item.save"' in table  # the code stays in the markup
