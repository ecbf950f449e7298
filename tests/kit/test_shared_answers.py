"""The shared-answer layer keeps only what the app marked shareable (200, no cookie), per
version and variant, within its byte budget, and answers 304 to a client that has it."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Scope

from tongban.kit.shared_answers import SharedAnswers, mark_shareable


class Catalog:
    """What the test app's answers depend on, and how often it built one."""

    def __init__(self) -> None:
        self.version = "v1"
        self.builds = 0

    async def read_version(self) -> str:
        return self.version


def _app(catalog: Catalog, max_bytes: int = 1 << 20) -> TestClient:
    def page(request: Request) -> Response:
        catalog.builds += 1
        size = int(request.query_params.get("size", "10"))
        status = int(request.query_params.get("status", "200"))
        answer = PlainTextResponse(
            f"{catalog.version}:" + "x" * size, status_code=status, headers={"ETag": '"e"'}
        )
        if request.query_params.get("cookie"):
            answer.set_cookie("who", "you")
        if not request.query_params.get("private"):
            mark_shareable(request.scope)
        return answer

    def variant(scope: Scope) -> str | None:
        return f"{scope['path']}?{scope['query_string'].decode()}"

    app = Starlette(routes=[Route("/page", page)])
    app.add_middleware(
        SharedAnswers, version=catalog.read_version, variant=variant, max_bytes=max_bytes
    )
    return TestClient(app)


def test_kept_until_the_version_changes() -> None:
    catalog = Catalog()
    client = _app(catalog)
    answers = [client.get("/page") for _ in range(5)]
    assert {a.text for a in answers} == {"v1:" + "x" * 10}
    assert catalog.builds == 2  # the first teaches the path, the second is kept
    catalog.version = "v2"
    assert client.get("/page").text.startswith("v2:")
    assert client.get("/page").text.startswith("v2:")
    assert catalog.builds == 3


def test_private_cookie_setting_failed_and_large_answers_are_never_kept() -> None:
    catalog = Catalog()
    client = _app(catalog)
    client.get("/page")  # the path is now known
    for query in ("private=1", "cookie=1", "status=404", "size=600000"):
        for _ in range(3):
            client.get(f"/page?{query}")
    assert catalog.builds == 13


def test_a_client_that_has_the_answer_gets_304() -> None:
    catalog = Catalog()
    client = _app(catalog)
    client.get("/page")
    client.get("/page")
    answer = client.get("/page", headers={"If-None-Match": 'W/"x", "e"'})
    assert answer.status_code == 304 and answer.content == b""
    assert answer.headers["etag"] == '"e"' and "content-length" not in answer.headers
    assert catalog.builds == 2


def test_the_least_recently_used_answers_leave_first_when_the_budget_is_spent() -> None:
    catalog = Catalog()
    client = _app(catalog, max_bytes=250)
    for size in (100, 101, 102):  # ~100 bytes each: the third pushes the first out
        client.get(f"/page?size={size}")
        client.get(f"/page?size={size}")
    builds = catalog.builds
    client.get("/page?size=102")
    client.get("/page?size=101")
    assert catalog.builds == builds
    client.get("/page?size=100")
    assert catalog.builds == builds + 1
