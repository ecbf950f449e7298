"""The OpenAPI document declares what the server does (tongban.openapi): each operation's error
statuses follow from the route, with the project's error body; the input policy, enums and
canonical forms are on the fields the server checks. schemathesis checks the same against
real answers (tests/test_schemathesis.py); these pin the rules themselves."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tongban.app import create_app

API = "/api/v1"


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('openapi')) / 'unused.db'}"
    return create_app(url).openapi()  # made from the routes; no database is read


def operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return document["paths"][API + path][method]


def errors(document: dict[str, Any], method: str, path: str) -> set[int]:
    return {int(s) for s in operation(document, method, path)["responses"] if int(s) >= 400}


def test_statuses_follow_from_the_route(document: dict[str, Any]) -> None:
    # Public read without parameters: only 422 (a query with a control character).
    assert errors(document, "get", "/workdays/years") == {422}
    # Public read of a record: 404 too; never 401 (no actor is looked at).
    assert errors(document, "get", "/items/{code}") == {404, 422}
    # Signed in, with a permission: 401 and 403, and the bearer scheme.
    me = operation(document, "get", "/cases")
    assert errors(document, "get", "/cases") == {401, 403, 422}
    assert me["security"] == [{"bearer": []}]
    assert "security" not in operation(document, "get", "/items")
    # A write with a body on a record: 400, 413 for the body, 409 for a concurrent change.
    assert errors(document, "post", "/cases/{case_no}/actions") == {
        400, 401, 403, 404, 409, 413, 422,
    }  # fmt: skip
    # An audited lookup by query code: throttled (429); the router adds 404 (wrong code).
    assert errors(document, "get", "/progress") == {404, 422, 429}
    throttled = operation(document, "get", "/progress")["responses"]["429"]
    assert throttled["headers"]["Retry-After"]["schema"]["type"] == "integer"
    # An optional actor: a stale token is refused (401), but no permission is needed.
    assert errors(document, "get", "/complaints/{complaint_no}") == {401, 404, 422, 429}
    # What only the router knows stays: 415 on uploads, 503 on exchange checks.
    assert 415 in errors(document, "post", "/uploads")
    assert 503 in errors(document, "post", "/exchange/checks")


def test_every_api_operation_declares_422_and_every_error_has_the_error_body(
    document: dict[str, Any],
) -> None:
    operations = [
        (path, method, op)
        for path, item in document["paths"].items()
        if path.startswith(API)
        for method, op in item.items()
    ]
    assert len(operations) >= 75
    for path, method, op in operations:
        assert "422" in op["responses"], (method, path)
        for status, response in op["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (path, status)
    assert "ErrorBody" in document["components"]["schemas"]


def test_text_fields_carry_the_input_policy(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    username = schemas["TokenRequest"]["properties"]["username"]["pattern"]
    assert re.fullmatch(username, "clerk") and not re.fullmatch(username, "cl\x00erk")
    assert not re.fullmatch(username, "a\u202eb")  # bidi override
    text = schemas["ComplaintCreate"]["properties"]["text"]["pattern"]  # multi-line, ≥ 5
    assert re.fullmatch(text, "页面加载\n太慢了")
    assert not re.fullmatch(text, "\u00a0四个字啊")  # four characters after trimming
    q = next(p for p in operation(document, "get", "/items")["parameters"] if p["name"] == "q")
    assert not re.fullmatch(q["schema"]["pattern"], "   ")  # blank words are refused


def test_enums_and_canonical_forms_come_from_the_domain(document: dict[str, Any]) -> None:
    from tongban.cases.rules import STATE_LABELS, Action
    from tongban.feedback.rules import CATEGORIES

    schemas = document["components"]["schemas"]
    state = next(
        p for p in operation(document, "get", "/cases")["parameters"] if p["name"] == "state"
    )
    assert state["schema"]["enum"] == sorted(STATE_LABELS)
    assert schemas["ActionIn"]["properties"]["action"]["enum"] == sorted(a.value for a in Action)
    assert schemas["ComplaintCreate"]["properties"]["category"]["enum"] == sorted(CATEGORIES)
    phone = schemas["PhoneCodeRequest"]["properties"]["phone"]["pattern"]
    assert re.fullmatch(phone, "13912345678") and not re.fullmatch(phone, "12345678901")
    id_number = schemas["IdentityRequest"]["properties"]["id_number"]["pattern"]
    assert re.fullmatch(id_number, "64042519900307001X")
    assert not re.fullmatch(id_number, "99042519900307001X")  # no such province
    password = schemas["RegisterRequest"]["properties"]["password"]
    assert password["minLength"] == 8
    assert not re.fullmatch(password["pattern"], "12345678")
