"""A visitor's catalog pages and the public catalog API are built once per catalog version,
served with an ETag (304 when unchanged), compressed, and change on every app server as soon
as an item is saved; static files carry their content hash and a long lifetime."""

from __future__ import annotations

import gzip

from fastapi.testclient import TestClient

from tongban.app import create_app
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemCreate
from tongban.db import transaction
from tongban.web.i18n import LANG_COOKIE
from tongban.web.static_files import content_hash
from web.webtools import DIBAO_CODE, login

DIBAO_NAME = "最低生活保障申请"


def _rename(url: str, name: str) -> None:
    with transaction(url) as s:
        item = catalog_service.get_item(s, code=DIBAO_CODE)
        data = ItemCreate.model_validate(item.model_dump()).model_copy(update={"name": name})
        catalog_service.upsert_item(s, data=data)


def test_a_visitors_pages_are_cached_until_an_item_is_saved(web: TestClient, demo_db: str) -> None:
    first = web.get(f"/items/{DIBAO_CODE}")
    assert first.status_code == 200
    assert "set-cookie" not in first.headers  # nothing personal: no session for a visitor
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public")
    again = web.get(f"/items/{DIBAO_CODE}", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""

    _rename(demo_db, "最低生活保障申请（新）")
    changed = web.get(f"/items/{DIBAO_CODE}", headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert "最低生活保障申请（新）" in changed.text


def test_another_app_server_sees_the_change_at_its_next_request(demo_db: str) -> None:
    with TestClient(create_app(demo_db)) as one, TestClient(create_app(demo_db)) as two:
        assert DIBAO_NAME in two.get(f"/items/{DIBAO_CODE}").text  # now cached on "two"
        _rename(demo_db, "低保申请（经一号服务器修改）")  # saved through "one"'s database
        assert one.get("/").status_code == 200
        assert "低保申请（经一号服务器修改）" in two.get(f"/items/{DIBAO_CODE}").text


def test_language_and_elder_mode_are_separate_pages(web: TestClient) -> None:
    chinese = web.get("/search", params={"q": "低保"})
    english = web.get("/search", params={"q": "低保"}, headers={"cookie": f"{LANG_COOKIE}=en"})
    assert chinese.headers["etag"] != english.headers["etag"]
    assert "Search" in english.text and "搜索" in chinese.text


def test_signed_in_pages_are_never_shared(web: TestClient) -> None:
    login(web, "applicant_ma")
    page = web.get("/")
    assert page.status_code == 200
    assert "etag" not in page.headers
    assert "马晓燕" in page.text or "applicant_ma" in page.text


def test_the_catalog_api_answers_304_and_changes_with_the_catalog(
    client: TestClient, demo_db: str
) -> None:
    first = client.get("/api/v1/items", params={"q": "低保"})
    assert first.status_code == 200 and first.json()["total"] >= 1
    etag = first.headers["etag"]
    assert (
        client.get(
            "/api/v1/items", params={"q": "低保"}, headers={"if-none-match": etag}
        ).status_code
        == 304
    )
    _rename(demo_db, "最低生活保障待遇申请")
    after = client.get("/api/v1/items", params={"q": "低保"}, headers={"if-none-match": etag})
    assert after.status_code == 200
    assert any(i["name"] == "最低生活保障待遇申请" for i in after.json()["items"])


def test_answers_are_compressed_for_clients_that_accept_gzip(web: TestClient) -> None:
    raw = web.get("/", headers={"accept-encoding": "gzip"})
    assert raw.headers.get("content-encoding") == "gzip"
    assert len(gzip.compress(raw.content)) < len(raw.content)  # httpx already inflated it


def test_static_files_have_hashed_addresses_and_a_long_life(web: TestClient) -> None:
    page = web.get("/").text
    address = f"/static/tongban.css?v={content_hash('tongban.css')}"
    assert address in page
    current = web.get(address)
    assert current.status_code == 200 and "immutable" in current.headers["cache-control"]
    stale = web.get("/static/tongban.css?v=000000000000")
    assert "immutable" not in stale.headers["cache-control"]


def test_an_unknown_item_is_not_cached(web: TestClient) -> None:
    missing = web.get("/items/NO-SUCH-ITEM")
    assert missing.status_code == 404 and "etag" not in missing.headers
