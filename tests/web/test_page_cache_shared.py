"""A visitor's catalog pages answered before the app runs (kit/shared_answers.py): the
same bytes and headers as the app's own answer, a fresh request id, counted in the
metrics, never a cookie, never to a signed-in user, and a save on another app server shows
at the next request."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from load.load_support import bearer, serving
from tongban.app import create_app
from tongban.catalog.schemas import ItemCreate
from tongban.kit.shared_answers import SharedAnswers
from tongban.ops.metrics import request_metrics
from tongban.web import elder
from tongban.web.i18n import LANG_COOKIE
from web.webtools import DIBAO_CODE, login

ITEM_PAGE = f"/items/{DIBAO_CODE}"
HTML = {"accept": "text/html"}


@pytest.fixture
def app(demo_db: str) -> FastAPI:
    return create_app(demo_db)


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, headers=HTML) as client:
        yield client


def _layer(app: FastAPI) -> SharedAnswers:
    node = app.middleware_stack
    while not isinstance(node, SharedAnswers):
        node = node.app  # type: ignore[union-attr]
    return node


def _kept(client: TestClient, path: str, **kwargs: object) -> httpx.Response:
    """The app's own answer: the first teaches the layer the path, the second is kept."""
    client.get(path, **kwargs)
    return client.get(path, **kwargs)


def _without_id(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k != "x-request-id"}


def test_a_kept_page_is_the_apps_answer_with_a_fresh_request_id(
    app: FastAPI, web: TestClient
) -> None:
    built = _kept(web, ITEM_PAGE)
    layer = _layer(app)
    hits = layer.hits
    served = web.get(ITEM_PAGE, headers={"x-request-id": "visitor-42"})
    assert layer.hits == hits + 1  # from memory, not from the app
    assert served.content == built.content
    assert _without_id(served) == _without_id(built)
    assert served.headers["x-request-id"] == "visitor-42"
    assert web.get(ITEM_PAGE).headers["x-request-id"] not in {
        "visitor-42",
        built.headers["x-request-id"],
    }
    headers = served.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "set-cookie" not in headers and not web.cookies


def test_a_kept_page_answers_304_with_the_security_headers(app: FastAPI, web: TestClient) -> None:
    etag = _kept(web, "/").headers["etag"]
    hits = _layer(app).hits
    again = web.get("/", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and "content-security-policy" in again.headers
    assert "set-cookie" not in again.headers
    assert _layer(app).hits == hits + 1


def test_compressed_and_plain_visitors_each_get_their_own_copy(
    app: FastAPI, web: TestClient
) -> None:
    packed = {"accept-encoding": "gzip"}
    plain = {"accept-encoding": "identity"}
    _kept(web, "/", headers=packed)
    _kept(web, "/", headers=plain)
    hits = _layer(app).hits
    raw_packed = web.get("/", headers=packed)
    raw_plain = web.get("/", headers=plain)
    assert _layer(app).hits == hits + 2
    assert raw_packed.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in raw_plain.headers
    assert raw_packed.text == raw_plain.text  # httpx inflated the first
    assert int(raw_packed.headers["content-length"]) < len(raw_plain.content)
    assert len(gzip.compress(raw_plain.content)) < len(raw_plain.content)
    for answer in (raw_packed, raw_plain):
        assert "accept-encoding" in answer.headers["vary"].lower()
        assert "cookie" in answer.headers["vary"].lower()


def test_language_and_elder_mode_are_kept_apart(app: FastAPI, web: TestClient) -> None:
    english = {"cookie": f"{LANG_COOKIE}=en"}
    elderly = {"cookie": f"{elder.COOKIE}=1"}
    chinese = _kept(web, "/search", params={"q": "低保"})
    _kept(web, "/search", params={"q": "低保"}, headers=english)
    _kept(web, "/search", params={"q": "低保"}, headers=elderly)
    hits = _layer(app).hits
    assert "搜索" in web.get("/search", params={"q": "低保"}).text
    assert "Search" in web.get("/search", params={"q": "低保"}, headers=english).text
    assert "theme-elder" in web.get("/search", params={"q": "低保"}, headers=elderly).text
    assert "theme-elder" not in chinese.text
    assert _layer(app).hits == hits + 3


def test_a_signed_in_visitor_never_gets_a_kept_page(app: FastAPI, web: TestClient) -> None:
    anonymous = _kept(web, "/")
    login(web, "applicant_ma")
    hits = _layer(app).hits
    page = web.get("/")
    assert page.status_code == 200 and _layer(app).hits == hits
    assert page.content != anonymous.content and "etag" not in page.headers
    assert "马晓燕" in page.text or "applicant_ma" in page.text


def test_a_bearer_token_always_reaches_the_app(app: FastAPI, web: TestClient) -> None:
    _kept(web, "/api/v1/items", params={"q": "低保"})
    token = web.post(
        "/api/v1/auth/token", json={"username": "applicant_ma", "password": "Demo@2026"}
    ).json()["access_token"]
    hits = _layer(app).hits
    answer = web.get(
        "/api/v1/items", params={"q": "低保"}, headers={"authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200 and _layer(app).hits == hits


def test_a_kept_page_is_counted_under_its_route(web: TestClient) -> None:
    _kept(web, ITEM_PAGE)
    labels = {"method": "GET", "route": "/items/{code}", "status": "200"}
    registry = request_metrics().registry
    before = registry.get_sample_value("tongban_http_requests_total", labels) or 0
    web.get(ITEM_PAGE)
    assert registry.get_sample_value("tongban_http_requests_total", labels) == before + 1


def test_an_item_saved_through_one_server_shows_on_another_at_once(
    demo_db: str, tmp_path: Path
) -> None:
    with (
        serving(demo_db, tmp_path, workers=1) as one,
        serving(demo_db, tmp_path, workers=1) as two,
    ):
        pages = [httpx.get(two + ITEM_PAGE, headers=HTML) for _ in range(3)]  # kept on "two"
        assert len({p.headers["etag"] for p in pages}) == 1
        api = [httpx.get(f"{two}/api/v1/items/{DIBAO_CODE}") for _ in range(3)]
        item = ItemCreate.model_validate(api[-1].json())
        renamed = item.model_copy(update={"name": "低保申请（经一号服务器修改）"})
        saved = httpx.post(
            one + "/api/v1/items",
            json=renamed.model_dump(mode="json"),
            headers=bearer(one, "admin"),
            timeout=30,
        )
        assert saved.status_code == 200, saved.text
        after = httpx.get(
            two + ITEM_PAGE, headers={**HTML, "if-none-match": pages[-1].headers["etag"]}
        )
        assert after.status_code == 200 and "低保申请（经一号服务器修改）" in after.text
        assert httpx.get(f"{two}/api/v1/items/{DIBAO_CODE}").json()["name"] == renamed.name
