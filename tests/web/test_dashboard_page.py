"""The center admin's 指标看板: indicators vs target and last period, charts, filters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from support import act, applicant, clerk, item_named, reviewer_for, submit
from tongban.db import transaction
from tongban.insight import indicators
from tongban.kit.clock import frozen, now
from tongban.web import i18n
from tongban.web.workbench.dashboard_pages import SYSTEM_LABELS
from web.webtools import login, logout

MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}  # previous: 2026-01-29 … 2026-02-28
LIMIT = 150 * 1024


def _decided(session: Session, item_name: str, *, online: bool, sequence: int) -> None:
    """One case submitted now, accepted an hour later and closed two days after."""
    item = item_named(session, item_name)
    window, reviewer = clerk(session), reviewer_for(session, item.department_code)
    start = now()
    person = applicant(session, sequence=sequence) if online else window
    case = submit(session, person, item_code=item.code)
    with frozen(start + timedelta(hours=1)):
        case = act(session, window, case, "accept")
    with frozen(start + timedelta(days=2)):
        for task in case.tasks:
            case = act(session, reviewer, case, "approve_task", task_id=task.id)
        case = act(session, reviewer, case, "decide", decision="approve")
        act(session, window, case, "close")


@pytest.fixture
def cases(demo_db: str) -> Iterator[dict[str, str]]:
    """March: 低保 online and at the window, 个体工商户 at the window.
    February (the previous period): 低保 at the window. The clock stays in April."""
    with transaction(demo_db) as s:
        dibao, business = item_named(s, "最低生活保障"), item_named(s, "个体工商户")
        with frozen(MONDAY - timedelta(days=14)):
            _decided(s, "最低生活保障", online=False, sequence=40)
        with frozen(MONDAY):
            _decided(s, "最低生活保障", online=True, sequence=41)
            _decided(s, "最低生活保障", online=False, sequence=42)
            _decided(s, "个体工商户", online=False, sequence=43)
    with frozen(MONDAY + timedelta(days=40)):
        yield {"dibao": dibao.department_code, "business": business.department_code}


def _row(page: str, code: str) -> str:
    found = re.search(rf'<tr data-code="{code}">(.*?)</tr>', page, re.S)
    assert found, code
    return re.sub(r"\s+", " ", found.group(1))


def test_the_admin_sees_every_indicator_against_target_and_last_period(
    web: TestClient, cases: dict[str, str]
) -> None:
    login(web, "admin")
    response = web.get("/workbench/dashboard", params=MARCH)
    assert response.status_code == 200, response.text[:800]
    page = response.text
    assert "本期办件 3 件，上期 1 件" in page
    for indicator in indicators.load().indicators:
        assert f'data-code="{indicator.code}"' in page, indicator.code
    online = _row(page, "C1")  # 1 of 3 online now, 0 of 1 before: up, and up is better
    assert "33.33 %" in online and "▲" in online and "+33.33，改善" in online
    assert "✗ 未达标" in online and "不低于 80" in online
    assert "无可比数据" in _row(page, "S1")  # no ratings in either period
    assert page.count('class="bar-chart"') >= 7  # per department + one per dimension/unit
    assert "分部门：E2 按时办结率" in page
    assert len(response.content) < LIMIT
    assert 'href="/workbench/dashboard"' in page  # the navigation offers it to the admin


def test_the_department_filter_changes_the_figures(web: TestClient, cases: dict[str, str]) -> None:
    login(web, "admin")
    dibao = web.get("/workbench/dashboard", params={**MARCH, "department": cases["dibao"]}).text
    assert "本期办件 2 件，上期 1 件" in dibao
    assert "50 %" in _row(dibao, "C1")
    business = web.get(
        "/workbench/dashboard", params={**MARCH, "department": cases["business"]}
    ).text
    assert "本期办件 1 件，上期 0 件" in business
    assert "0 %" in _row(business, "C1") and "无可比数据" in _row(business, "C1")
    chart = web.get("/workbench/dashboard", params={**MARCH, "indicator": "C1"}).text
    assert "分部门：C1 网上申请率" in chart


def test_the_period_filter_changes_the_figures(web: TestClient, cases: dict[str, str]) -> None:
    login(web, "admin")
    february = web.get("/workbench/dashboard", params={"from": "2026-02-01", "to": "2026-02-28"})
    assert "本期办件 1 件，上期 0 件" in february.text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"from": "2026-03-31", "to": "2026-03-01"}, "统计期间须为起止日期有序"),
        ({"from": "31/03/2026"}, "请求参数有误"),
        ({"department": "no-such-department"}, "所选部门不在本辖区"),
        ({"indicator": "Z9"}, "没有这个指标"),
    ],
)
def test_bad_filters_get_a_clear_422_page(
    web: TestClient, cases: dict[str, str], params: dict[str, str], expected: str
) -> None:
    login(web, "admin")
    response = web.get("/workbench/dashboard", params=params)
    assert response.status_code == 422
    assert expected in response.text and "<html" in response.text


def test_other_roles_cannot_open_it(web: TestClient, cases: dict[str, str]) -> None:
    for username in ("clerk", "reviewer_mzj", "applicant_ma", "auditor"):
        login(web, username)
        assert web.get("/workbench/dashboard").status_code == 403, username
        assert web.get("/workbench/dashboard/report.html").status_code == 403, username
        logout(web)


def test_the_page_in_english(web: TestClient, cases: dict[str, str]) -> None:
    login(web, "admin")
    page = web.get("/workbench/dashboard", params={**MARCH, "lang": "en"}).text
    for expected in ("Indicator dashboard", "Online application rate", "Service efficiency"):
        assert expected in page, expected
    assert "+33.33, improved" in _row(page, "C1")
    for chinese in ("指标看板", "网上申请率", "未达标", "改善", "本期"):
        assert chinese not in page, chinese


def test_every_indicator_name_is_translatable() -> None:
    system = indicators.load()
    english = i18n.catalog("en")
    texts = {d.name for d in system.dimensions}
    texts |= {text for i in system.indicators for text in (i.name, i.unit, i.note) if text}
    texts.discard("%")
    assert texts <= set(SYSTEM_LABELS), texts - set(SYSTEM_LABELS)
    assert all(text in english for text in texts)


def test_the_report_downloads_for_the_same_filters(web: TestClient, cases: dict[str, str]) -> None:
    login(web, "admin")
    html = web.get("/workbench/dashboard/report.html", params=MARCH)
    assert html.status_code == 200 and "半年评估报告" in html.text
    assert "本期办件 3 件，上期 1 件" in html.text
    pdf = web.get("/workbench/dashboard/report.pdf", params={**MARCH, "department": cases["dibao"]})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert web.get("/workbench/dashboard/report.doc", params=MARCH).status_code == 422
