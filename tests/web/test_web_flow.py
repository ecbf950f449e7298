"""Applying online, window filing, the workbench actions and the public progress page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from web.webtools import DIBAO_CODE, PDF, csrf, dibao_files, dibao_form, login, logout, material_ids


def _apply(web: TestClient, **overrides: str) -> tuple[dict[str, str], list[int]]:
    data = dibao_form(web, **overrides)
    ids = material_ids(web.get(f"/apply/{DIBAO_CODE}").text)
    return data, ids


def _act(web: TestClient, case_no: str, action: str, **fields: str) -> str:
    """Post one action form from the case page, as the browser would; returns the next page."""
    page = web.get(f"/workbench/cases/{case_no}").text
    assert f'name="action" value="{action}"' in page, f"{action} not offered"
    version = re.search(r'name="version" value="(\d+)"', page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert version and token
    data = {"csrf_token": token.group(1), "action": action, "version": version.group(1), **fields}
    response = web.post(f"/workbench/cases/{case_no}/actions", data=data, follow_redirects=False)
    assert response.status_code == 303
    return web.get(response.headers["location"]).text


def test_apply_requires_sign_in(web: TestClient) -> None:
    page = web.get(f"/apply/{DIBAO_CODE}", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=%2Fapply%2F")


def test_apply_form_is_generated_from_the_schema(web: TestClient) -> None:
    login(web, "applicant_ma")
    page = web.get(f"/apply/{DIBAO_CODE}").text
    assert 'enctype="multipart/form-data"' in page
    labels = ("共同生活家庭成员人数", "家庭月总收入（元）", "申请理由", "户籍所在乡镇", "为谁申请")
    for label in labels:
        assert label in page
    assert '<option value="白阳镇"' in page
    assert 'type="number"' in page
    assert len(material_ids(page)) == 3  # 身份证 is 免提交: no file input for it
    # Who applies comes from the verified account (shown masked), never typed in.
    assert "本人：马晓燕" in page and "640425********9981" in page
    assert "640425199003159981" not in page
    assert 'name="applicant_id_number"' not in page


def test_invalid_form_shows_friendly_errors_and_stores_nothing(web: TestClient) -> None:
    login(web, "applicant_ma")
    data, ids = _apply(
        web,
        applicant_phone="12345",  # not a number anyone can be reached on
        household_size="",
        monthly_income_yuan="很多",
    )
    page = web.post(f"/apply/{DIBAO_CODE}", data=data, files=dibao_files(ids[:2]))
    assert page.status_code == 422
    assert "联系电话格式不正确" in page.text
    assert "请填写共同生活家庭成员人数。" in page.text
    assert "家庭月总收入（元）须为数字。" in page.text
    assert 'value="家庭收入低于当地低保标准"' not in page.text  # textarea keeps it as content
    assert "家庭收入低于当地低保标准</textarea>" in page.text
    assert 'aria-invalid="true"' in page.text
    # A required material missing is reported next to its input.
    data, ids = _apply(web)
    page = web.post(f"/apply/{DIBAO_CODE}", data=data, files=dibao_files(ids[:1]))
    assert page.status_code == 422
    assert "请上传家庭经济状况核对授权书。" in page.text
    # Not a PDF despite the name: refused by content.
    data, ids = _apply(web)
    files = dibao_files(ids[:2])
    files[f"material_{ids[0]}"] = ("申请书.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    page = web.post(f"/apply/{DIBAO_CODE}", data=data, files=files)
    assert page.status_code == 422
    assert "仅支持 PDF、JPEG、PNG、OFD" in page.text
    assert "您还没有办件" in web.get("/my/cases").text


def test_double_submit_creates_one_case(web: TestClient) -> None:
    login(web, "applicant_ma")
    data, ids = _apply(web)
    first = web.post(f"/apply/{DIBAO_CODE}", data=data, files=dibao_files(ids[:2]),
                     follow_redirects=False)  # fmt: skip
    second = web.post(f"/apply/{DIBAO_CODE}", data=data, files=dibao_files(ids[:2]),
                      follow_redirects=False)  # fmt: skip
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert web.get("/my/cases").text.count("/my/cases/640425-") == 1


def test_full_flow_from_online_application_to_delivery(web: TestClient) -> None:
    # 1. The applicant applies online with PDF uploads.
    login(web, "applicant_ma")
    data, ids = _apply(web)
    done = web.post(f"/apply/{DIBAO_CODE}", data=data, files=dibao_files(ids[:2]))
    assert done.status_code == 200
    case_no = re.search(r'id="case-no">([^<]+)<', done.text)
    query_code = re.search(r'id="query-code">([^<]+)<', done.text)
    assert case_no and query_code
    case_no, query_code = case_no.group(1), query_code.group(1)
    assert re.fullmatch(r"640425-\d{8}-\d{6}", case_no)
    mine = web.get("/my/cases").text
    assert case_no in mine
    logout(web)

    # 2. The window clerk finds it in the queue, checks a material and accepts.
    login(web, "clerk")
    queue = web.get("/workbench/acceptance").text
    assert case_no in queue
    detail = web.get(f"/workbench/cases/{case_no}").text
    assert "640425********9981" in detail  # masked: first 6 + last 4
    assert "640425199003159981" not in detail
    link = re.search(rf'href="(/workbench/cases/{case_no}/materials/\d+)"', detail)
    assert link
    download = web.get(link.group(1))
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"].startswith("application/pdf")
    material_id = link.group(1).rsplit("/", 1)[1]
    page = _act(web, case_no, "accept_material", material_id=material_id)
    assert "已完成" in page
    # The 家庭成员居民身份证 check could not run (no exchange here): the clerk has the paper.
    paper = re.findall(
        r'name="paper_checked" value="(\d+)"', web.get(f"/workbench/cases/{case_no}").text
    )
    assert paper, "the unconfirmed check is offered for its paper"
    page = _act(web, case_no, "accept", paper_checked=paper[0])
    assert "审查中" in page
    logout(web)

    # 3. The 民政局 reviewer sees the task in the deadline-sorted queue and approves it.
    login(web, "reviewer_mzj")
    tasks = web.get("/workbench/tasks").text
    assert case_no in tasks
    assert "clock-normal" in tasks and "正常" in tasks
    detail = web.get(f"/workbench/cases/{case_no}").text
    task_id = re.search(r'name="task_id" value="(\d+)"', detail)
    assert task_id
    page = _act(web, case_no, "approve_task", task_id=task_id.group(1))
    assert "审查通过" in page
    page = _act(web, case_no, "decide", decision="approve", note="符合条件")
    assert "已决定" in page
    logout(web)

    # 4. The window closes the case and delivers the result.
    login(web, "clerk")
    page = _act(web, case_no, "close")
    assert "已办结" in page
    page = _act(web, case_no, "deliver", method="electronic")
    assert "已送达" in page
    assert 'name="action"' not in page  # nothing left to do
    logout(web)

    # 5. The applicant sees the whole timeline.
    login(web, "applicant_ma")
    mine = web.get(f"/my/cases/{case_no}").text
    for step in ("提交申请", "受理", "部门审查通过", "作出决定", "办结", "送达", "已送达"):
        assert step in mine, step
    logout(web)

    # 6. Anyone with the case number and query code can follow it, name masked.
    token = csrf(web, "/progress")
    page = web.post("/progress", data={"csrf_token": token, "case_no": case_no,
                                       "query_code": query_code.lower()})  # fmt: skip
    assert page.status_code == 200
    assert "已送达" in page.text
    assert "马晓燕" not in page.text and "马" in page.text
    assert "13900000001" not in page.text


def test_action_errors_come_back_as_a_flash_message(web: TestClient) -> None:
    login(web, "applicant_ma")
    data, ids = _apply(web)
    done = web.post(f"/apply/{DIBAO_CODE}", data=data, files=dibao_files(ids[:2]))
    case_no = re.search(r'id="case-no">([^<]+)<', done.text).group(1)  # type: ignore[union-attr]
    logout(web)
    login(web, "clerk")
    page = _act(web, case_no, "refuse")  # the reason is required
    assert "flash-error" in page
    assert "已申报" in page
    stale = web.post(
        f"/workbench/cases/{case_no}/actions",
        data={"csrf_token": csrf(web, "/"), "action": "accept", "version": "999"},
    )
    assert "flash-error" in stale.text


def test_a_citizen_cannot_apply_for_someone_who_did_not_authorize_them(web: TestClient) -> None:
    login(web, "applicant_ma")
    data, ids = _apply(web, applicant_choice="delegation:1")  # no such delegation for her
    page = web.post(f"/apply/{DIBAO_CODE}", data=data, files=dibao_files(ids[:2]))
    assert page.status_code == 422 and "请选择为谁申请。" in page.text
    assert "您还没有办件" in web.get("/my/cases").text


def test_a_window_filing_checks_the_identity_number(web: TestClient) -> None:
    login(web, "clerk")
    data, ids = _apply(web, applicant_id_number="640425199003159982")  # wrong check digit
    page = web.post(f"/apply/{DIBAO_CODE}", data=data, files=dibao_files(ids[:2]))
    assert page.status_code == 422
    assert "身份证号校验未通过" in page.text


def test_clerk_files_at_the_window(web: TestClient) -> None:
    login(web, "clerk")
    data, ids = _apply(web, applicant_name="李建军", applicant_id_number="640425196509209997")
    page = web.get(f"/apply/{DIBAO_CODE}").text
    assert "窗口代办" in page
    done = web.post(f"/apply/{DIBAO_CODE}", data=data, files=dibao_files(ids[:2]))
    assert done.status_code == 200
    case_no = re.search(r'id="case-no">([^<]+)<', done.text).group(1)  # type: ignore[union-attr]
    detail = web.get(f"/workbench/cases/{case_no}").text
    assert "窗口代办" in detail


def _my_form(web: TestClient, case_no: str, action: str) -> dict[str, str]:
    """The hidden fields of one action form on the applicant's case page."""
    page = web.get(f"/my/cases/{case_no}").text
    assert f'name="action" value="{action}"' in page, f"{action} not offered"
    version = re.search(r'name="version" value="(\d+)"', page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert version and token
    return {"csrf_token": token.group(1), "action": action, "version": version.group(1)}


def test_applicant_supplements_then_withdraws(web: TestClient) -> None:
    login(web, "applicant_ma")
    data, ids = _apply(web)
    done = web.post(f"/apply/{DIBAO_CODE}", data=data, files=dibao_files(ids[:2]))
    case_no = re.search(r'id="case-no">([^<]+)<', done.text).group(1)  # type: ignore[union-attr]
    logout(web)

    # The clerk sends a one-time supplement notice listing what is missing.
    login(web, "clerk")
    page = _act(web, case_no, "request_supplement", missing="家庭成员收入证明")
    assert "待补正" in page
    logout(web)

    # The applicant sees the notice and uploads the missing document from "my cases".
    login(web, "applicant_ma")
    page = web.get(f"/my/cases/{case_no}").text
    assert "待补正" in page and "家庭成员收入证明" in page
    empty = web.post(f"/my/cases/{case_no}/actions", data=_my_form(web, case_no, "supplement"))
    assert "flash-error" in empty.text and "待补正" in empty.text
    form = _my_form(web, case_no, "supplement")
    supplemented = web.post(
        f"/my/cases/{case_no}/actions",
        data=form,
        files={f"material_{ids[0]}": ("收入证明.pdf", PDF, "application/pdf")},
    )
    assert supplemented.status_code == 200
    assert "预审中" in supplemented.text and "补正材料" in supplemented.text
    assert "收入证明.pdf" in supplemented.text

    # Then withdraws the application: a page of its own asks first, and nothing changes yet.
    form = {**_my_form(web, case_no, "withdraw"), "note": "不再需要"}
    asked = web.post(f"/my/cases/{case_no}/actions", data=form)
    assert "确认撤回申请" in asked.text and "不再需要" in asked.text
    assert 'name="confirmed" value="1"' in asked.text
    assert "预审中" in web.get(f"/my/cases/{case_no}").text
    # Confirmed, it is done, and nothing more can be done with it.
    withdrawn = web.post(f"/my/cases/{case_no}/actions", data={**form, "confirmed": "1"})
    assert "已撤回" in withdrawn.text
    assert 'name="action" value="withdraw"' not in withdrawn.text
    # A forged action name is refused, and the case is unchanged.
    forged = {**_my_form_from_page(web, case_no), "action": "accept", "version": "1"}
    refused = web.post(f"/my/cases/{case_no}/actions", data=forged)
    assert "flash-error" in refused.text and "已撤回" in refused.text


def _my_form_from_page(web: TestClient, case_no: str) -> dict[str, str]:
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get(f"/my/cases/{case_no}").text)
    assert token
    return {"csrf_token": token.group(1)}


def test_resubmitting_the_same_form_from_a_new_session_finds_the_first_case(
    web: TestClient,
) -> None:
    login(web, "applicant_ma")
    data, ids = _apply(web)
    first = web.post(
        f"/apply/{DIBAO_CODE}", data=data, files=dibao_files(ids[:2]), follow_redirects=False
    )
    assert first.status_code == 303
    # The browser lost its session (new sign-in); the old page is posted again.
    logout(web)
    login(web, "applicant_ma")
    again = {**data, "csrf_token": csrf(web, "/")}
    second = web.post(
        f"/apply/{DIBAO_CODE}", data=again, files=dibao_files(ids[:2]), follow_redirects=False
    )
    assert second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    assert web.get("/my/cases").text.count("/my/cases/640425-") == 1
