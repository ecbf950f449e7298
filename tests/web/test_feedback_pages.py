"""好差评 and 吐槽专区 through the pages: rating, follow-up, appeal, complaints end to end."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from fastapi.testclient import TestClient

from feedback.feedback_support import closed_case
from tongban.access import service as access_service
from tongban.db import transaction
from tongban.web import i18n
from web.test_web_weight_i18n import LIMIT, _weight
from web.webtools import DIBAO_CODE, csrf, login, logout

TEMPLATES = Path(i18n.__file__).parent / "templates"
NEW_TEMPLATES = [
    *sorted((TEMPLATES / "portal").glob("complaint*.html")),
    TEMPLATES / "portal" / "rate.html",
    *sorted((TEMPLATES / "workbench").glob("complaints*.html")),
    TEMPLATES / "workbench" / "followups.html",
    TEMPLATES / "workbench" / "appeals.html",
    TEMPLATES / "workbench" / "rating_pad.html",
]
_STATE = re.compile(r'id="complaint-state">([^<]+)<')


@pytest.fixture
def case_no(demo_db: str) -> str:
    """A closed 最低生活保障 case of the demo applicant 马晓燕 (民政局 handles it)."""
    with transaction(demo_db) as s:
        person = access_service.actor_by_username(s, "applicant_ma")
        case, _, _ = closed_case(s, person)
        return case.case_no


def _flashes(html: str) -> list[str]:
    return re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', html)


def _post(web: TestClient, page: str, url: str, **data: str) -> str:
    """Post a form found on ``page`` as the browser would; returns the page shown next."""
    response = web.post(url, data={"csrf_token": csrf(web, page), **data})
    assert response.status_code == 200, response.text[:500]
    return response.text


def _rate(web: TestClient, case_no: str, level: str, **extra: str) -> str:
    url = f"/my/cases/{case_no}/rate"
    return _post(web, url, url, level=level, **extra)


def test_the_applicant_rates_a_closed_case_once(web: TestClient, case_no: str) -> None:
    login(web, "applicant_ma")
    assert f'href="/my/cases/{case_no}/rate"' in web.get(f"/my/cases/{case_no}").text
    form = web.get(f"/my/cases/{case_no}/rate").text
    for expected in ("非常满意", "办事指南精确度", "平台操作性", "提交评价"):
        assert expected in form, expected
    page = _rate(web, case_no, "4", ind_efficiency="5", comment="电话13912345678，办得很快")
    assert "感谢您的评价！" in _flashes(page)
    assert 'id="rating-level">满意<' in page
    assert "已评价" in page and "提交评价" not in page
    assert "139****5678" in page and "13912345678" not in page  # masked on display
    again = web.post(f"/my/cases/{case_no}/rate", data={"csrf_token": csrf(web, "/"), "level": "1"})
    assert 'id="rating-level">满意<' in again.text  # 一次一评: the first one stands


def test_a_bad_rating_is_followed_up_and_reported_by_the_department(
    web: TestClient, case_no: str
) -> None:
    login(web, "applicant_ma")
    _rate(web, case_no, "2", comment="来回跑了三趟")
    logout(web)
    login(web, "reviewer_mzj")
    page = web.get("/workbench/follow-ups").text
    assert case_no in page and "待回访" in page and "来回跑了三趟" in page
    follow_up = re.search(r'action="/workbench/follow-ups/(\d+)/actions"', page)
    assert follow_up
    url = f"/workbench/follow-ups/{follow_up.group(1)}/actions"
    for action, note in (
        ("call_back", "已电话回访"),
        ("explain", "材料要求有依据"),
        ("report", "已告知"),
    ):
        page = _post(web, "/workbench/follow-ups", url, action=action, note=note)
        assert not any("不能" in f for f in _flashes(page)), _flashes(page)
    assert case_no not in page  # no longer open
    done = web.get("/workbench/follow-ups", params={"show": "all"}).text
    assert "已反馈评价人" in done
    refused = _post(web, "/workbench/follow-ups", url, action="report", note="again")
    assert any("已反馈评价人" in f for f in _flashes(refused))


def test_an_appeal_is_decided_by_the_center_admin(web: TestClient, case_no: str) -> None:
    login(web, "applicant_ma")
    _rate(web, case_no, "1")
    logout(web)
    login(web, "reviewer_mzj")
    page = web.get("/workbench/follow-ups").text
    rating_id = re.search(r'action="/workbench/ratings/(\d+)/appeal"', page)
    assert rating_id
    appealed = _post(
        web,
        "/workbench/follow-ups",
        f"/workbench/ratings/{rating_id.group(1)}/appeal",
        reason_code="mistaken",
        reason="申请人点错了等级",
    )
    assert "申诉已提交，等待中心决定。" in _flashes(appealed)
    assert web.get("/workbench/appeals").status_code == 403  # reviewers do not decide
    logout(web)
    login(web, "admin")
    pending = web.get("/workbench/appeals").text
    assert case_no in pending and "误评" in pending
    decided = _post(
        web,
        "/workbench/appeals",
        f"/workbench/ratings/{rating_id.group(1)}/appeal/decision",
        uphold="yes",
        reason="回放评价记录确认误操作",
    )
    assert "已决定：申诉成立。" in _flashes(decided)
    assert "没有待决定的申诉" in decided
    follow_ups = web.get("/workbench/follow-ups", params={"show": "all"}).text
    assert "申诉成立，差评作废" in follow_ups and "回放评价记录确认误操作" in follow_ups


def test_the_window_records_a_rating_from_the_pad(web: TestClient, case_no: str) -> None:
    login(web, "clerk")
    url = f"/workbench/cases/{case_no}/rating"
    form = web.get(url).text
    assert "服务态度" in form and "平台操作性" not in form  # the offline indicators
    page = _post(web, url, url, level="5", ind_service_attitude="5")
    assert "已记录评价器评价。" in _flashes(page)
    assert 'id="rating-level">非常满意<' in page
    logout(web)
    login(web, "applicant_ma")
    assert 'id="rating-level">非常满意<' in web.get(f"/my/cases/{case_no}/rate").text


def _file(web: TestClient, **fields: str) -> str:
    data = {"kind": "complaint", "category": "efficiency", **fields}
    return _post(web, "/complaints", "/complaints", **data)


def test_a_complaint_from_filing_to_confirmation_through_the_pages(web: TestClient) -> None:
    login(web, "applicant_ma")
    page = _file(web, target_kind="item", target_ref=DIBAO_CODE, text="窗口排队两个小时没人管")
    number = re.search(r"已收到您的诉求，编号 (\w+)。", page)
    assert number, _flashes(page)
    complaint_no = number.group(1)
    assert _STATE.search(page).group(1) == "已分派"  # type: ignore[union-attr]
    assert "首次响应期限" in page and "办理结果期限" in page
    assert page.count("剩余 ") == 2  # both countdowns run
    assert complaint_no in web.get("/complaints").text  # listed under 我的诉求
    logout(web)

    login(web, "reviewer_mzj")
    queue = web.get("/workbench/complaints").text
    assert f'id="complaint-{complaint_no}"' in queue and "clock-normal" in queue
    detail = f"/workbench/complaints/{complaint_no}"
    url = f"{detail}/actions"
    page = _post(web, detail, url, action="respond", note="已联系窗口核实")
    assert _STATE.search(page).group(1) == "已响应"  # type: ignore[union-attr]
    assert "按时完成" in page
    page = _post(web, detail, url, action="resolve", note="已增加午间窗口")
    assert _STATE.search(page).group(1) == "已办结待确认"  # type: ignore[union-attr]
    logout(web)

    login(web, "applicant_ma")
    mine = f"/complaints/{complaint_no}"
    page = web.get(mine).text
    assert "已增加午间窗口" in page and "满意，确认办结" in page
    page = _post(web, mine, f"{mine}/actions", action="confirm")
    assert _STATE.search(page).group(1) == "已确认"  # type: ignore[union-attr]
    assert "满意，确认办结" not in page


def test_the_worker_s_reminders_and_escalations_show_in_the_department_s_queue(
    web: TestClient, demo_db: str
) -> None:
    from datetime import timedelta

    from tongban.feedback import jobs
    from tongban.kit.clock import now

    login(web, "applicant_ma")
    page = _file(web, target_kind="item", target_ref=DIBAO_CODE, text="电话一直打不通")
    assert re.search(r"已收到您的诉求，编号 (\w+)。", page), _flashes(page)
    logout(web)
    login(web, "reviewer_mzj")
    assert 'id="alarms"' not in web.get("/workbench/complaints").text  # nothing raised yet
    jobs.run_once(demo_db, at=now() + timedelta(hours=30))  # the 24 h response missed
    queue = web.get("/workbench/complaints").text
    assert 'id="alarms"' in queue
    assert "临期提醒" in queue and "升级至部门负责人" in queue and "首次响应" in queue


def test_an_anonymous_complaint_is_followed_with_its_query_code(web: TestClient) -> None:
    refused = web.post(
        "/complaints",
        data={
            "csrf_token": csrf(web, "/complaints"),
            "category": "system",
            "target_kind": "platform",
            "text": "网站晚上打不开",
        },
    )
    assert refused.status_code == 422 and "联系电话" in refused.text
    page = _file(
        web,
        category="system",
        target_kind="platform",
        text="网站晚上打不开",
        contact_phone="13912345678",
    )
    complaint_no = re.search(r'id="complaint-no">(\w+)<', page)
    code = re.search(r'id="query-code">([0-9A-Z]{8})<', page)
    assert complaint_no and code
    assert "/complaints/" + complaint_no.group(1) + "?code" not in page
    assert (
        web.get(f"/complaints/{complaint_no.group(1)}", follow_redirects=False).status_code == 303
    )
    wrong = web.post(
        "/complaints/lookup",
        data={
            "csrf_token": csrf(web, "/complaints/lookup"),
            "complaint_no": complaint_no.group(1),
            "code": "000000" if code.group(1) != "000000" else "111111",
        },
    )
    assert wrong.status_code == 404
    found = _post(
        web,
        "/complaints/lookup",
        "/complaints/lookup",
        complaint_no=complaint_no.group(1),
        code=code.group(1),
    )
    assert _STATE.search(found).group(1) == "已分派"  # type: ignore[union-attr]
    assert "政务服务中心" in found  # platform complaints go to the center

    login(web, "admin")
    detail = f"/workbench/complaints/{complaint_no.group(1)}"
    assert "139****5678" in web.get(detail).text
    _post(web, detail, f"{detail}/actions", action="resolve", note="已修复夜间维护问题")
    logout(web)
    reopened = _post(
        web,
        "/complaints/lookup",
        f"/complaints/{complaint_no.group(1)}/actions",
        action="reopen",
        note="还是打不开",
        code=code.group(1),
    )
    assert _STATE.search(reopened).group(1) == "已分派"  # type: ignore[union-attr]
    assert "第 2 轮办理" in reopened


def test_pages_refuse_the_wrong_roles(web: TestClient, case_no: str) -> None:
    anonymous = web.get("/workbench/complaints", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    forbidden = {
        "applicant_ma": [
            "/workbench/complaints",
            "/workbench/follow-ups",
            "/workbench/appeals",
            f"/workbench/cases/{case_no}/rating",
        ],
        "clerk": ["/workbench/complaints", "/workbench/follow-ups", f"/my/cases/{case_no}/rate"],
        "reviewer_mzj": ["/workbench/appeals", f"/workbench/cases/{case_no}/rating"],
        "auditor": ["/workbench/complaints", f"/my/cases/{case_no}/rate"],
    }
    for username, paths in forbidden.items():
        login(web, username)
        for path in paths:
            assert web.get(path).status_code == 403, (username, path)
        logout(web)
    login(web, "applicant_li")  # another applicant's case is not found
    assert web.get(f"/my/cases/{case_no}/rate").status_code == 404


def test_forms_need_the_csrf_token(web: TestClient, case_no: str) -> None:
    login(web, "applicant_ma")
    assert web.post(f"/my/cases/{case_no}/rate", data={"level": "5"}).status_code == 403
    assert web.post("/complaints", data={"target_kind": "platform"}).status_code == 403
    assert "提交评价" in web.get(f"/my/cases/{case_no}/rate").text  # nothing was stored


def _new_messages() -> set[str]:
    found: set[str] = set()
    for path in NEW_TEMPLATES:
        for _line, message, _comments, _context in extract_from_file(
            "jinja2",
            str(path),
            keywords={"_": None, "gettext": None},
            options={"extensions": "jinja2.ext.i18n"},
        ):
            found.update([message] if isinstance(message, str) else [])
    return {m for m in found if "%(" not in m and len(m) > 1}


def test_the_pages_in_english_show_none_of_their_chinese_text(
    web: TestClient, case_no: str
) -> None:
    messages = _new_messages()
    assert len(messages) > 60
    login(web, "applicant_ma")
    _rate(web, case_no, "2")
    _file(web, target_kind="item", target_ref=DIBAO_CODE, text="窗口排队两个小时没人管")
    number = re.search(r'href="/complaints/(\w+)"', web.get("/complaints").text)
    assert number
    pages = {
        path: web.get(path, params={"lang": "en"}).text
        for path in ("/complaints", f"/complaints/{number.group(1)}", f"/my/cases/{case_no}/rate")
    }
    logout(web)
    login(web, "reviewer_mzj")
    for path in (
        "/workbench/complaints",
        f"/workbench/complaints/{number.group(1)}",
        "/workbench/follow-ups",
    ):
        pages[path] = web.get(path, params={"lang": "en"}).text
    logout(web)
    login(web, "admin")
    pages["/workbench/appeals"] = web.get("/workbench/appeals", params={"lang": "en"}).text
    assert "Complaint zone" in pages["/complaints"]
    for path, html in pages.items():
        text = re.sub(r"<[^>]+>", "\n", html)
        left = sorted(m for m in messages if any(line.strip() == m for line in text.splitlines()))
        assert not left, (path, left)
        assert "剩余" not in text and "按时完成" not in text, path


def test_citizen_feedback_pages_stay_light(web: TestClient, case_no: str) -> None:
    weights = {
        "/complaints": _weight(web, "/complaints"),
        "/complaints/lookup": _weight(web, "/complaints/lookup"),
    }
    login(web, "applicant_ma")
    weights["rate"] = _weight(web, f"/my/cases/{case_no}/rate")
    for path, size in weights.items():
        assert size < LIMIT, (path, size)
