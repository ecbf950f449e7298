"""Portal and workbench pages: search, guides, sign-in, CSRF, roles and language."""

from __future__ import annotations

from fastapi.testclient import TestClient

from web.webtools import DIBAO_CODE, csrf, login


def test_home_lists_bundles_and_search_box(web: TestClient) -> None:
    page = web.get("/")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert 'name="q"' in page.text
    assert "一件事一次办" in page.text
    assert "/bundles/" in page.text


def test_search_finds_dibao(web: TestClient) -> None:
    page = web.get("/search", params={"q": "低保"})
    assert page.status_code == 200
    assert "最低生活保障申请" in page.text
    assert f"/items/{DIBAO_CODE}" in page.text


def test_item_guide_shows_materials_limits_and_apply_button(web: TestClient) -> None:
    page = web.get(f"/items/{DIBAO_CODE}")
    assert page.status_code == 200
    text = page.text
    for expected in (
        "最低生活保障申请书",
        "家庭经济状况核对授权书",
        "免提交",  # 居民身份证 is replaced by shared data
        "情形必要",
        "法定办结时限",
        "30 个工作日",
        "20 个工作日",
        "不收费",
        "0 次（零跑动）",
        "常见问题",
        "0954-0000110",
        f'href="/apply/{DIBAO_CODE}"',
    ):
        assert expected in text, expected


def test_unknown_item_is_a_404_page(web: TestClient) -> None:
    page = web.get("/items/NO-SUCH-ITEM")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]


def test_bundle_page_lists_items(web: TestClient) -> None:
    home = web.get("/").text
    start = home.index('href="/bundles/') + len('href="')
    path = home[start : home.index('"', start)]
    page = web.get(path)
    assert page.status_code == 200
    assert "包含的事项" in page.text
    assert "/apply/bundle/" in page.text


def test_wrong_password_shows_an_error(web: TestClient) -> None:
    token = csrf(web)
    page = web.post(
        "/login", data={"username": "applicant_ma", "password": "wrong-pass1", "csrf_token": token}
    )
    assert page.status_code == 401
    assert "用户名或密码错误" in page.text
    assert "uid" not in web.cookies.get("tongban_session", "")


def test_post_without_csrf_token_is_refused(web: TestClient) -> None:
    csrf(web)  # a session exists, but the token is not sent back
    page = web.post("/login", data={"username": "applicant_ma", "password": "Demo@2026"})
    assert page.status_code == 403
    assert "页面已过期" in page.text
    wrong = web.post(
        "/login",
        data={"username": "applicant_ma", "password": "Demo@2026", "csrf_token": "forged"},
    )
    assert wrong.status_code == 403


def test_login_redirects_by_role(web: TestClient) -> None:
    assert login(web, "applicant_ma") == "/my/cases"
    # Staff land on their queues' counts, which read nobody's personal data.
    assert login(web, "clerk") == "/workbench"
    assert login(web, "reviewer_mzj") == "/workbench"
    assert login(web, "admin") == "/workbench"


def test_login_keeps_a_local_next_but_not_a_foreign_one(web: TestClient) -> None:
    token = csrf(web)
    form = {"username": "clerk", "password": "Demo@2026", "csrf_token": token}
    ok = web.post("/login", data={**form, "next": "/workbench/tasks"}, follow_redirects=False)
    assert ok.headers["location"] == "/workbench/tasks"
    token = csrf(web)
    evil = web.post(
        "/login",
        data={**form, "csrf_token": token, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert evil.headers["location"] == "/workbench"


def test_workbench_needs_sign_in_and_a_staff_role(web: TestClient) -> None:
    anonymous = web.get("/workbench/acceptance", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")
    login(web, "applicant_ma")
    for path in ("/workbench/acceptance", "/workbench/tasks", "/workbench/cases/X"):
        page = web.get(path)
        assert page.status_code == 403, path
        assert "无权" in page.text


def test_staff_cannot_open_my_cases(web: TestClient) -> None:
    login(web, "reviewer_mzj")
    assert web.get("/my/cases").status_code == 403


def test_english_via_lang_parameter_sticks(web: TestClient) -> None:
    page = web.get("/", params={"lang": "en"})
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert "Popular services" in page.text
    assert "热门事项" not in page.text
    # The choice is remembered in a cookie for the next pages.
    guide = web.get(f"/items/{DIBAO_CODE}")
    assert "Statutory time limit" in guide.text
    assert "Apply online" in guide.text
    back = web.get("/", params={"lang": "zh_CN"})
    assert "热门事项" in back.text


def test_english_error_page(web: TestClient) -> None:
    page = web.get("/items/NO-SUCH-ITEM", params={"lang": "en"})
    assert page.status_code == 404
    assert "The request could not be completed" in page.text


def test_progress_lookup_with_wrong_code_says_so(web: TestClient) -> None:
    token = csrf(web, "/progress")
    page = web.post(
        "/progress",
        data={"csrf_token": token, "case_no": "640425-20260101-000001", "query_code": "ZZZZZZ"},
    )
    assert page.status_code == 404
    assert "办件编号或查询码不正确" in page.text


def test_pages_carry_no_inline_script_or_style(web: TestClient) -> None:
    """The CSP forbids inline code; a page that relied on it would break silently."""
    for path in ("/", "/search?q=低保", f"/items/{DIBAO_CODE}", "/login", "/progress"):
        text = web.get(path).text
        assert "<script>" not in text and "<style" not in text and " style=" not in text, path
        assert " onclick=" not in text and " onsubmit=" not in text, path
