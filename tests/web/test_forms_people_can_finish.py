"""Forms a person can finish: files kept across an error, targets picked from lists, errors
in the page's own language."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from web.webtools import DIBAO_CODE, PDF, csrf, dibao_form, login, logout, material_ids

PENDING = re.compile(r'name="pending_(\d+)" value="([0-9a-f]{32})"')


def test_a_form_sent_back_keeps_the_files_that_were_fine(web: TestClient) -> None:
    login(web, "applicant_ma")
    ids = material_ids(web.get(f"/apply/{DIBAO_CODE}").text)
    first, second = ids[:2]
    files = {
        f"material_{first}": ("申请书.pdf", PDF, "application/pdf"),
        f"material_{second}": ("授权书.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"),
    }
    page = web.post(f"/apply/{DIBAO_CODE}", data=dibao_form(web, household_size=""), files=files)
    assert page.status_code == 422
    assert "请填写共同生活家庭成员人数。" in page.text
    assert "仅支持 PDF、JPEG、PNG、OFD" in page.text  # the bad file is named, not kept
    kept = dict(PENDING.findall(page.text))
    assert list(kept) == [str(first)]
    assert "已附：申请书.pdf" in page.text and "无需重新选择" in page.text
    # The kept file's input is no longer required; the refused one's still is.
    assert re.search(rf'id="f-material_{first}" [^>]*required', page.text) is None
    assert re.search(rf'id="f-material_{second}" [^>]*required', page.text)
    assert "您还没有办件" in web.get("/my/cases").text  # nothing of the case was stored

    # Sent again with only the missing file: the kept one is attached to the case.
    data = {**dibao_form(web), f"pending_{first}": kept[str(first)]}
    files = {f"material_{second}": ("授权书.pdf", PDF, "application/pdf")}
    done = web.post(f"/apply/{DIBAO_CODE}", data=data, files=files)
    assert done.status_code == 200, done.text[:800]
    case_no = re.search(r'id="case-no">([^<]+)<', done.text)
    assert case_no
    mine = web.get(f"/my/cases/{case_no.group(1)}").text
    assert "申请书.pdf" in mine and "授权书.pdf" in mine


def test_a_pending_file_belongs_to_the_person_who_chose_it(web: TestClient) -> None:
    login(web, "applicant_ma")
    ids = material_ids(web.get(f"/apply/{DIBAO_CODE}").text)
    files = {f"material_{ids[0]}": ("申请书.pdf", PDF, "application/pdf")}
    page = web.post(f"/apply/{DIBAO_CODE}", data=dibao_form(web, household_size=""), files=files)
    token = dict(PENDING.findall(page.text))[str(ids[0])]
    logout(web)
    # Another citizen cannot attach it by copying the token into her own form.
    login(web, "applicant_li")
    data = {**dibao_form(web), f"pending_{ids[0]}": token}
    page = web.post(f"/apply/{DIBAO_CODE}", data=data)
    assert page.status_code == 422
    assert token not in page.text and "申请书.pdf" not in page.text


def test_browser_hints_sit_on_top_of_the_server_checks(web: TestClient) -> None:
    login(web, "applicant_ma")
    page = web.get(f"/apply/{DIBAO_CODE}").text
    assert "novalidate" not in page
    assert re.search(r'name="household_size"[^>]*inputmode="numeric"[^>]*required', page)
    assert re.search(r'name="monthly_income_yuan"[^>]*inputmode="decimal"', page)
    assert re.search(r'<textarea id="f-reason" name="reason"[^>]*required', page)


def test_the_complaint_form_lists_items_by_department_and_finds_one_by_name(
    web: TestClient,
) -> None:
    page = web.get("/complaints").text
    assert '<optgroup label="彭阳县民政局">' in page and '<optgroup label="彭阳县公安局">' in page
    assert f'<option value="{DIBAO_CODE}">最低生活保障申请</option>' in page
    assert 'name="department_ref"' in page and "事项编码" not in page
    # 查找 re-posts the form: the narrowed list, the text typed so far kept, nothing filed.
    token = csrf(web, "/complaints")
    form = {
        "csrf_token": token,
        "find": "1",
        "item_q": "低保",
        "text": "窗口排队太久了",
        "contact_phone": "13900000009",
        "kind": "complaint",
        "category": "efficiency",
    }
    found = web.post("/complaints", data=form)
    assert found.status_code == 200
    assert "找到 1 个事项" in found.text
    assert f'<option value="{DIBAO_CODE}" selected>最低生活保障申请</option>' in found.text
    assert "窗口排队太久了</textarea>" in found.text
    assert 'value="13900000009"' in found.text
    assert found.text.count("<optgroup") == 1  # only the item found is listed
    # Filed with the item chosen from the list: no code typed.
    form = {k: v for k, v in form.items() if k != "find"}
    form |= {"target_kind": "item", "item_ref": DIBAO_CODE}
    filed = web.post("/complaints", data=form)
    assert filed.status_code == 200 and "最低生活保障申请" in filed.text and "查询码" in filed.text


def test_a_complaint_without_its_target_chosen_is_sent_back(web: TestClient) -> None:
    token = csrf(web, "/complaints")
    form = {
        "csrf_token": token,
        "target_kind": "department",
        "text": "电话一直打不通",
        "contact_phone": "13900000009",
        "kind": "complaint",
        "category": "efficiency",
    }
    page = web.post("/complaints", data=form)
    assert page.status_code == 422
    assert "请从列表中选择诉求针对的事项、部门或办件。" in page.text
    assert "电话一直打不通</textarea>" in page.text


def test_a_signed_in_complainant_picks_one_of_her_cases(web: TestClient) -> None:
    login(web, "applicant_ma")
    ids = material_ids(web.get(f"/apply/{DIBAO_CODE}").text)
    files = {f"material_{i}": ("材料.pdf", PDF, "application/pdf") for i in ids[:2]}
    done = web.post(f"/apply/{DIBAO_CODE}", data=dibao_form(web), files=files)
    case_no = re.search(r'id="case-no">([^<]+)<', done.text)
    assert case_no
    page = web.get("/complaints").text
    assert f'<option value="{case_no.group(1)}">{case_no.group(1)} · ' in page
    token = csrf(web, "/complaints")
    form = {
        "csrf_token": token,
        "target_kind": "case",
        "case_ref": case_no.group(1),
        "text": "材料审核太慢了",
        "kind": "complaint",
        "category": "efficiency",
    }
    filed = web.post("/complaints", data=form, follow_redirects=True)
    assert "最低生活保障申请" in filed.text and "已收到您的诉求" in filed.text


def test_error_pages_speak_the_page_language_only(web: TestClient) -> None:
    page = web.get("/items/NO-SUCH-ITEM")
    assert page.status_code == 404
    assert "item_not_found" not in page.text.split("<main", 1)[-1].replace(
        'data-error-code="item_not_found"', ""
    )
    assert "HTTP 404" not in page.text and "not found" not in page.text.lower()
    assert 'data-error-code="item_not_found"' in page.text  # kept for scripts and support
    english = web.get("/items/NO-SUCH-ITEM", params={"lang": "en"})
    assert "HTTP 404" in english.text and "item_not_found" in english.text
