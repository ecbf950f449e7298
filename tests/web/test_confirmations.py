"""Actions that cannot be undone ask on a page of their own first (no JavaScript needed)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from web.webtools import DIBAO_CODE, dibao_files, dibao_form, login, logout, material_ids


def _filed(web: TestClient) -> str:
    login(web, "applicant_ma")
    ids = material_ids(web.get(f"/apply/{DIBAO_CODE}").text)
    done = web.post(f"/apply/{DIBAO_CODE}", data=dibao_form(web), files=dibao_files(ids[:2]))
    found = re.search(r'id="case-no">([^<]+)<', done.text)
    assert found, done.text[:500]
    logout(web)
    return found.group(1)


def _form(web: TestClient, case_no: str, action: str, **fields: str) -> dict[str, str]:
    page = web.get(f"/workbench/cases/{case_no}").text
    assert f'name="action" value="{action}"' in page, f"{action} not offered"
    version = re.search(r'name="version" value="(\d+)"', page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert version and token
    return {"csrf_token": token.group(1), "action": action, "version": version.group(1), **fields}


def _ask(web: TestClient, case_no: str, data: dict[str, str]) -> str:
    """The first post: a confirmation page, and the case as it was."""
    before = _heading_and_version(web, case_no)
    asked = web.post(f"/workbench/cases/{case_no}/actions", data=data, follow_redirects=False)
    assert asked.status_code == 200, asked.text[:300]
    assert 'name="confirmed" value="1"' in asked.text
    assert f'href="/workbench/cases/{case_no}"' in asked.text  # the way back
    assert _heading_and_version(web, case_no) == before  # nothing happened to the case
    return asked.text


def _heading_and_version(web: TestClient, case_no: str) -> tuple[str, str]:
    page = web.get(f"/workbench/cases/{case_no}").text
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S)
    version = re.search(r'name="version" value="(\d+)"', page)
    return (heading.group(1) if heading else "", version.group(1) if version else "")


def _confirm(web: TestClient, case_no: str, page: str) -> str:
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    done = web.post(f"/workbench/cases/{case_no}/actions", data=fields, follow_redirects=False)
    assert done.status_code == 303
    return web.get(done.headers["location"]).text


def test_refusing_a_case_asks_first_and_repeats_the_reason(web: TestClient) -> None:
    case_no = _filed(web)
    login(web, "clerk")
    page = _ask(web, case_no, _form(web, case_no, "refuse", note="不属于本中心受理范围"))
    assert "确认不予受理" in page and "不属于本中心受理范围" in page and "不能撤销" in page
    assert "已申报" in web.get(f"/workbench/cases/{case_no}").text
    done = _confirm(web, case_no, page)
    assert "不予受理" in done and "flash-success" in done


def test_a_refusal_without_a_reason_is_sent_back_before_asking(web: TestClient) -> None:
    case_no = _filed(web)
    login(web, "clerk")
    data = _form(web, case_no, "refuse", note="   ")
    response = web.post(f"/workbench/cases/{case_no}/actions", data=data)
    assert "请填写理由。" in response.text and "confirmed" not in response.text


def test_a_department_denial_and_a_denied_decision_ask_first(web: TestClient) -> None:
    case_no = _filed(web)
    login(web, "clerk")
    page = web.get(f"/workbench/cases/{case_no}").text
    paper = re.findall(r'name="paper_checked" value="(\d+)"', page)
    web.post(
        f"/workbench/cases/{case_no}/actions",
        data=_form(web, case_no, "accept", paper_checked=paper[0]),
    )
    logout(web)

    login(web, "reviewer_mzj")
    page = web.get(f"/workbench/cases/{case_no}").text
    task_id = re.search(r'name="task_id" value="(\d+)"', page)
    assert task_id
    data = _form(web, case_no, "deny_task", task_id=task_id.group(1), note="收入超过标准")
    asked = _ask(web, case_no, data)
    assert "确认审查不通过" in asked and "收入超过标准" in asked
    assert f'name="task_id" value="{task_id.group(1)}"' in asked  # carried to the next post
    done = _confirm(web, case_no, asked)
    assert "审查不通过" in done

    # Approving needs no confirmation; denying does.
    data = _form(web, case_no, "decide", decision="deny", note="家庭收入超过低保标准")
    asked = _ask(web, case_no, data)
    assert "确认不予许可" in asked and 'name="decision" value="deny"' in asked
    done = _confirm(web, case_no, asked)
    assert "已决定" in done


def test_an_approval_needs_no_confirmation_page(web: TestClient) -> None:
    case_no = _filed(web)
    login(web, "clerk")
    page = web.get(f"/workbench/cases/{case_no}").text
    paper = re.findall(r'name="paper_checked" value="(\d+)"', page)
    data = _form(web, case_no, "accept", paper_checked=paper[0])
    accepted = web.post(f"/workbench/cases/{case_no}/actions", data=data, follow_redirects=False)
    assert accepted.status_code == 303  # done at once
