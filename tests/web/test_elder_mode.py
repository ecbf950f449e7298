"""长辈模式: the header switch, its cookie, the safe redirect and the flag on the case (I2)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from tongban.access import service as access_service
from tongban.cases import service as cases_service
from tongban.db import transaction
from tongban.kit.clock import now
from tongban.web import elder
from web.webtools import DIBAO_CODE, dibao_files, dibao_form, login, material_ids

ELDER_HTML = re.compile(r'<html lang="[^"]+" class="theme-elder">')


def _font_size_base(css: str, selector: str) -> int:
    """The base size a rule block sets; ``selector`` is a pattern for its selector list."""
    block = re.search(selector + r"\s*\{([^}]*)\}", css, re.MULTILINE)
    assert block, selector
    size = re.search(r"--font-size-base:\s*(\d+)px", block.group(1))
    assert size, f"{selector} sets no base size"
    return int(size.group(1))


def test_the_switch_turns_on_the_elder_theme_and_back(web: TestClient) -> None:
    home = web.get("/").text
    assert not ELDER_HTML.search(home)
    assert 'href="/elder-mode/on?next=%2F"' in home  # visible in the header, a plain link

    switched = web.get("/elder-mode/on", params={"next": "/search?q=低保"}, follow_redirects=False)
    assert switched.status_code == 303
    assert unquote(switched.headers["location"]) == "/search?q=低保"
    cookie = switched.headers["set-cookie"]
    assert cookie.startswith(f"{elder.COOKIE}=1;")
    assert "Max-Age=31536000" in cookie and "HttpOnly" in cookie

    page = web.get("/search", params={"q": "低保"}).text
    assert ELDER_HTML.search(page)
    assert 'href="/elder-mode/off?next=%2Fsearch%3Fq%3D' in page  # the way back, to this page

    css = web.get("/static/tongban.css").text
    elder_rule = r"^:root\.theme-elder, \.theme-elder"
    assert _font_size_base(css, elder_rule) > _font_size_base(css, r"^:root")

    back = web.get("/elder-mode/off", params={"next": "/"}, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/"
    assert elder.COOKIE not in web.cookies
    assert not ELDER_HTML.search(web.get("/").text)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_the_redirect_stays_on_this_site(web: TestClient, target: str) -> None:
    response = web.get("/elder-mode/on", params={"next": target}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_without_next_the_switch_lands_on_the_home_page(web: TestClient) -> None:
    response = web.get("/elder-mode/off", follow_redirects=False)
    assert response.headers["location"] == "/"


def test_english_pages_translate_the_switch(web: TestClient) -> None:
    page = web.get("/", params={"lang": "en"}).text
    assert "Elder mode" in page and "Standard mode" in page


def test_elder_pages_stay_under_150_kb(web: TestClient) -> None:
    web.get("/elder-mode/on")
    page = web.get(f"/items/{DIBAO_CODE}")
    assert ELDER_HTML.search(page.text)
    css = web.get("/static/tongban.css").content
    script = web.get("/static/tongban.js").content
    assert len(page.content) + len(css) + len(script) < 150 * 1024


def _apply_online(web: TestClient) -> str:
    data = dibao_form(web)
    ids = material_ids(web.get(f"/apply/{DIBAO_CODE}").text)
    done = web.post(f"/apply/{DIBAO_CODE}", data=data, files=dibao_files(ids[:2]))
    assert done.status_code == 200, done.text[:500]
    case_no = re.search(r'id="case-no">([^<]+)<', done.text)
    assert case_no
    return case_no.group(1)


def _elder_flags(db_url: str) -> dict[str, bool]:
    """case number → elder_mode, as the indicators' case summary exports it."""
    with transaction(db_url) as session:
        admin = access_service.actor_by_username(session, "admin")
        assert admin is not None
        summary = cases_service.case_summary(
            session, actor=admin, since=now() - timedelta(days=1), until=now() + timedelta(days=1)
        )
    return dict(zip(summary["case"], summary["elder_mode"], strict=True))


def test_an_application_in_elder_mode_records_it(web: TestClient, demo_db: str) -> None:
    login(web, "applicant_ma")
    standard = _apply_online(web)
    web.get("/elder-mode/on")
    in_elder_mode = _apply_online(web)
    assert _elder_flags(demo_db) == {standard: False, in_elder_mode: True}
