"""The workbench never shows a full identity number, unless unmasked with a reason, once."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from tongban.audit.models import AuditEntry
from tongban.db import session_factory
from web.webtools import DIBAO_CODE, dibao_files, dibao_form, login, logout, material_ids

ID_NUMBER = "640425199003159981"  # dibao_form's applicant (马晓燕), synthetic
PHONE = "13900000001"


def _applied(web: TestClient) -> str:
    login(web, "applicant_ma")
    data = dibao_form(web)
    ids = material_ids(web.get(f"/apply/{DIBAO_CODE}").text)
    done = web.post(f"/apply/{DIBAO_CODE}", data=data, files=dibao_files(ids[:2]))
    case_no = re.search(r'id="case-no">([^<]+)<', done.text)
    assert case_no
    logout(web)
    return case_no.group(1)


def _unmask_form(page: str) -> dict[str, str]:
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token and 'action="/workbench/cases/' in page and "/unmask" in page
    return {"csrf_token": token.group(1)}


def test_the_case_page_is_masked_until_unmasked_with_a_reason(
    web: TestClient, demo_db: str
) -> None:
    case_no = _applied(web)
    login(web, "clerk")
    queue = web.get("/workbench/acceptance").text
    assert "马**" in queue and "马晓燕" not in queue
    page = web.get(f"/workbench/cases/{case_no}").text
    assert "640425********9981" in page and "139****0001" in page
    for plain in (ID_NUMBER, PHONE, "马晓燕", "家庭收入低于当地低保标准"):
        assert plain not in page, plain
    assert 'value="case.applicant_id_number"' in page  # the clerk may ask (case at the window)

    # Without a reason: refused, and nothing plain.
    form = _unmask_form(page)
    short = web.post(
        f"/workbench/cases/{case_no}/unmask",
        data={**form, "reason_code": "identity_check", "reason_text": "看"},
    )
    assert "flash-error" in short.text and ID_NUMBER not in short.text
    # Without the CSRF token: refused.
    forged = web.post(
        f"/workbench/cases/{case_no}/unmask",
        data={"reason_code": "identity_check", "reason_text": "核对申请人身份", "fields": "*"},
    )
    assert forged.status_code == 403 and ID_NUMBER not in forged.text

    # With a reason, for the identity number only: plain in this response.
    shown = web.post(
        f"/workbench/cases/{case_no}/unmask",
        data={
            **_unmask_form(web.get(f"/workbench/cases/{case_no}").text),
            "reason_code": "identity_check",
            "reason_text": "窗口核对申请人身份证原件",
            "fields": "case.applicant_id_number",
        },
    )
    assert shown.status_code == 200
    assert ID_NUMBER in shown.text and PHONE not in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert 'id="unmasked-notice"' in shown.text
    # ...and only there: the next visit is masked again.
    assert ID_NUMBER not in web.get(f"/workbench/cases/{case_no}").text

    with session_factory(demo_db)() as s:
        unmasks = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "unmask")))
    assert [(e.actor_username, e.fields, e.purpose_code) for e in unmasks] == [
        ("clerk", ["case.applicant_id_number"], "identity_check")
    ]


def test_everything_masked_at_once_and_not_for_an_unrelated_reviewer(web: TestClient) -> None:
    case_no = _applied(web)
    login(web, "clerk")
    page = web.get(f"/workbench/cases/{case_no}").text
    every = web.post(
        f"/workbench/cases/{case_no}/unmask",
        data={
            **_unmask_form(page),
            "reason_code": "contact_applicant",
            "reason_text": "电话联系申请人",
        },
    )
    assert ID_NUMBER in every.text and PHONE in every.text and "马晓燕" in every.text
    assert "家庭收入低于当地低保标准" in every.text  # a sensitive form answer
    logout(web)

    # 市场监管 has no task in a 低保 case: the page does not exist for its reviewer.
    login(web, "reviewer_scj")
    assert web.get(f"/workbench/cases/{case_no}").status_code == 404
