"""The center admin's 堵点分析 page: ranked bottlenecks and an item's process map as SVG."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from feedback.feedback_support import closed_case
from tongban.db import transaction
from tongban.insight.schemas import Edge, ProcessMap
from tongban.web.i18n import make_gettext
from tongban.web.workbench.insight_pages import process_svg
from web.webtools import login, logout


@pytest.fixture
def item_code(demo_db: str) -> str:
    """Six closed 最低生活保障 cases: enough steps for the ranking to count them."""
    with transaction(demo_db) as s:
        cases = [closed_case(s)[0] for _ in range(6)]
    assert cases[0].item_code
    return cases[0].item_code


def test_the_admin_sees_the_ranking_and_the_process_map(web: TestClient, item_code: str) -> None:
    login(web, "admin")
    page = web.get("/workbench/bottlenecks").text
    assert "堵点排名" in page and "6 件办件" in page
    assert f'<option value="{item_code}"' in page  # the items of the period, by name
    mapped = web.get("/workbench/bottlenecks", params={"item": item_code}).text
    svg = re.search(r"<svg .*?</svg>", mapped, re.S)
    assert svg, "no process map"
    for step in ("提交申请", "受理", "部门审查通过", "作出决定", "办结"):
        assert f">{step}</text>" in svg.group(0), step
    assert "6 次 · " in svg.group(0)  # every case took each edge once
    assert "环节之间的流转" in mapped


def test_a_backward_period_is_refused_on_the_page(web: TestClient, item_code: str) -> None:
    login(web, "admin")
    page = web.get("/workbench/bottlenecks", params={"from": "2026-06-01", "to": "2026-01-01"})
    assert page.status_code == 422
    assert "统计期间须为起止日期有序" in page.text


def test_other_roles_cannot_open_the_page(web: TestClient, item_code: str) -> None:
    for username in ("clerk", "reviewer_mzj", "applicant_ma", "auditor"):
        login(web, username)
        assert web.get("/workbench/bottlenecks").status_code == 403, username
        logout(web)


def test_the_page_in_english(web: TestClient, item_code: str) -> None:
    login(web, "admin")
    page = web.get("/workbench/bottlenecks", params={"item": item_code, "lang": "en"}).text
    for expected in ("Bottleneck analysis", "Ranked bottlenecks", "Process map", "Transitions"):
        assert expected in page, expected
    assert "堵点" not in page and "流转" not in page


def test_a_loop_back_is_drawn_on_the_left() -> None:
    graph = ProcessMap(
        date_from="2026-01-01",
        date_to="2026-06-30",
        item_code="X",
        cases=10,
        events=40,
        starts={"submit": 10},
        ends={"close": 10},
        edges=[
            Edge(source="submit", target="accept", n=10, mean_h=2, median_h=2, p90_h=3),
            Edge(source="accept", target="request_supplement", n=4, mean_h=1, median_h=1, p90_h=1),
            Edge(source="request_supplement", target="accept", n=4, mean_h=9, median_h=8, p90_h=20),
            Edge(source="accept", target="close", n=10, mean_h=30, median_h=24, p90_h=50),
        ],
    )
    svg = str(process_svg(graph, make_gettext("zh_CN")))
    assert svg.count("<rect") == 4
    paths = re.findall(r'<path d="M(\d+),', svg)
    assert sorted(set(paths)) == ["260", "460"]  # forward arcs on the right, the loop left
    assert ">4 次 · 8.0 小时</text>" in svg and ">10 次 · 24.0 小时</text>" in svg
