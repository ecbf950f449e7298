"""我的数据被谁用了: the applicant's page listing staff accesses to their data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tongban.access import service as access_service
from tongban.audit import service as audit_service
from tongban.audit.service import Access
from tongban.db import transaction
from tongban.kit.clock import SHANGHAI, frozen
from tongban.privacy.crypto import person_ref
from web.webtools import login

MA_ID_NUMBER = "640425199003159981"  # applicant_ma of the demo county (fictional)
EVENING = datetime(2026, 11, 27, 16, 5, tzinfo=SHANGHAI).astimezone(UTC)


def _reads(demo_db: str, username: str, count: int, **access: str) -> None:
    with transaction(demo_db) as s:
        actor = access_service.actor_by_username(s, username)
        for i in range(count):
            with frozen(EVENING + timedelta(minutes=i)):
                audit_service.record(
                    s,
                    actor=actor,
                    access=Access(
                        action=access.get("action", "read"),
                        subject_kind="case",
                        subject_ref=f"64042520261127{i:04d}",
                        person_ref=person_ref(MA_ID_NUMBER),
                        fields=("case.applicant_name", "case.applicant_phone", "form.reason"),
                        purpose_code=access.get("purpose_code", "case_handling"),
                        purpose_text=access.get("purpose_text", ""),
                    ),
                )


@pytest.fixture
def her_data_read(demo_db: str) -> None:
    _reads(demo_db, "clerk", 1)
    _reads(
        demo_db,
        "reviewer_mzj",
        1,
        action="unmask",
        purpose_code="contact_applicant",
        purpose_text="电话通知补正",
    )


def test_applicant_sees_masked_staff_department_purpose_and_time(
    web: TestClient, her_data_read: None
) -> None:
    login(web, "applicant_ma")
    home = web.get("/my/cases")
    assert 'href="/my/data-accesses"' in home.text
    page = web.get("/my/data-accesses")
    assert page.status_code == 200
    text = page.text
    for expected in (
        "我的数据被谁用了",
        "共 2 次",
        "彭阳县民政局",
        "部门审批人员",
        "查看明文",
        "联系申请人",
        "电话通知补正",
        "政务服务中心",
        "窗口人员",
        "办理业务",
        "申请人姓名/名称、申请人联系电话、申请表填写的内容",
        "2026-11-27 16:05",  # Beijing time
        'href="/my/cases/640425202611270000"',
    ):
        assert expected in text, expected
    # staff names are masked: the surname only
    assert "演示审批员（民政局）" not in text
    assert "演示综合窗口" not in text
    assert "演*" in text


def test_nothing_to_show_yet(web: TestClient) -> None:
    login(web, "applicant_li")
    page = web.get("/my/data-accesses")
    assert page.status_code == 200
    assert "目前没有工作人员访问过您的个人信息" in page.text


def test_pages_of_twenty(web: TestClient, demo_db: str) -> None:
    _reads(demo_db, "clerk", 25)
    login(web, "applicant_ma")
    first = web.get("/my/data-accesses").text
    assert first.count("<tr>") == 1 + 20
    assert 'href="?page=2"' in first
    second = web.get("/my/data-accesses", params={"page": 2}).text
    assert second.count("<tr>") == 1 + 5
    assert 'href="?page=1"' in second


def test_only_applicants_have_this_page(web: TestClient) -> None:
    assert web.get("/my/data-accesses", follow_redirects=False).status_code == 303
    login(web, "clerk")
    assert web.get("/my/data-accesses").status_code == 403


def test_in_english(web: TestClient, her_data_read: None) -> None:
    login(web, "applicant_ma")
    text = web.get("/my/data-accesses", params={"lang": "en"}).text
    for expected in (
        "Who used my data",
        "Department reviewer",
        "Show plain values",
        "Contact the applicant",
    ):
        assert expected in text, expected
