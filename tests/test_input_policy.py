"""No input breaks it, and nothing half-stored (issue 10 §2), through the API on both
databases: every refusal is a specific 4xx with a machine-readable code, and no row of any
table changes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from support import application, person_id, submit
from tongban.access import service as access_service
from tongban.access.models import User
from tongban.app import create_app
from tongban.config import get_settings
from tongban.db import Base, get_engine, import_all_models, session_factory, transaction
from tongban.kit.ids import make_id_number

PASSWORD = "Demo@2026"
USERS = {"applicant": "applicant_ma", "clerk": "clerk", "admin": "admin", "auditor": "auditor"}
BAD = {"NUL": "\x00", "BEL": "\x07", "ESC": "\x1b", "C1": "\x85", "RLO": "\u202e", "LRI": "\u2066"}
COMPLAINT = {
    "category": "other",
    "target_kind": "platform",
    "text": "办事大厅的叫号屏不显示。",
    "contact_phone": "13912345678",
}


@pytest.fixture
def auth(client: TestClient) -> dict[str, dict[str, str]]:
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for role, username in USERS.items():
        answer = client.post(
            "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        headers[role] = {"authorization": f"Bearer {answer.json()['access_token']}"}
    return headers


def table_counts(url: str) -> dict[str, int]:
    """Rows per table: a refused request changes none of them."""
    import_all_models()
    with get_engine(url).connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def refused(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"] and error["message_en"]
    if field is not None:
        assert error["details"]["field"] == field, error
    return dict(error)


# (who, method, path, body with BAD where the bad value goes, the field named)
TEXT_FIELDS: list[tuple[str, str, str, dict[str, Any], str]] = [
    ("anonymous", "POST", "/api/v1/complaints", {**COMPLAINT, "text": "叫号屏BAD不显示"}, "text"),
    (
        "anonymous",
        "POST",
        "/api/v1/complaints",
        {**COMPLAINT, "contact_name": "张BAD"},
        "contact_name",
    ),
    (
        "anonymous",
        "POST",
        "/api/v1/auth/token",
        {"username": "clerkBAD", "password": "x"},
        "username",
    ),
    (
        "applicant",
        "POST",
        "/api/v1/me/identity",
        {"name": "马BAD", "id_number": person_id(3)},
        "name",
    ),
    (
        "clerk",
        "POST",
        "/api/v1/accounts/in-person",
        {"name": "马BAD", "id_number": person_id(4), "password": "Laohan2026", "consent": "同意"},
        "name",
    ),
    (
        "clerk",
        "POST",
        "/api/v1/delegations",
        {
            "principal_name": "马BAD",
            "principal_id_number": person_id(5),
            "agent_phone": "13912345678",
            "valid_until": "2030-01-01T00:00:00+08:00",
            "consent": "同意委托",
        },
        "principal_name",
    ),
    (
        "applicant",
        "POST",
        "/api/v1/me/delegations",
        {"agent_phone": "13912345678", "valid_until": "2030-01-01T00:00:00+08:00", "note": "BAD"},
        "note",
    ),
    ("clerk", "POST", "/api/v1/cases/X/actions", {"action": "accept", "note": "好BAD"}, "note"),
    ("applicant", "POST", "/api/v1/cases/X/rating", {"level": 5, "comment": "BAD"}, "comment"),
    (
        "clerk",
        "POST",
        "/api/v1/cases/X/unmask",
        {"fields": ["*"], "reason_code": "verify", "reason_text": "核对BAD"},
        "reason_text",
    ),
    (
        "clerk",
        "POST",
        "/api/v1/cases",
        {"item_code": "x", "applicant": {"name": "张BAD"}},
        "applicant.name",
    ),
    (
        "clerk",
        "POST",
        "/api/v1/cases",
        {"item_code": "x", "form": {"address": "白阳镇BAD"}},
        "form.address",
    ),
    ("auditor", "POST", "/api/v1/audit/alerts/1", {"status": "closed", "note": "BAD"}, "note"),
    (
        "admin",
        "POST",
        "/api/v1/exchange/authorizations",
        {
            "consumer_kind": "role",
            "consumer": "clerk",
            "service_code": "population.person_basic",
            "purpose": "identity_check",
            "purpose_label": "核验BAD",
            "legal_basis": "law",
        },
        "purpose_label",
    ),
]


def _with_bad(body: Any, bad: str) -> Any:
    if isinstance(body, str):
        return body.replace("BAD", bad)
    if isinstance(body, dict):
        return {k: _with_bad(v, bad) for k, v in body.items()}
    return body


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "field"),
    TEXT_FIELDS,
    ids=[f"{path.rsplit('/', 1)[-1]}.{field}" for _, _, path, _, field in TEXT_FIELDS],
)
def test_control_and_bidi_characters_are_refused_in_every_text_field(
    client: TestClient,
    auth: dict[str, dict[str, str]],
    demo_db: str,
    who: str,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    before = table_counts(demo_db)
    for name, bad in BAD.items():
        answer = client.request(method, path, json=_with_bad(body, bad), headers=auth[who])
        error = refused(answer, 422, "invalid_text", field)
        assert error["details"]["character"] == f"U+{ord(bad):04X}", name
    assert table_counts(demo_db) == before


def test_multi_line_text_keeps_its_line_breaks_single_line_text_refuses_them(
    client: TestClient, demo_db: str
) -> None:
    before = table_counts(demo_db)
    name = client.post("/api/v1/complaints", json={**COMPLAINT, "contact_name": "张\n三"})
    refused(name, 422, "invalid_text", "contact_name")
    assert table_counts(demo_db) == before
    filed = client.post("/api/v1/complaints", json={**COMPLAINT, "text": " 叫号屏\r\n不显示。 "})
    assert filed.status_code == 201, filed.text
    assert filed.json()["text"] == "叫号屏\n不显示。"


def test_text_is_trimmed_and_spaces_alone_are_not_a_value(
    client: TestClient, auth: dict[str, dict[str, str]], demo_db: str
) -> None:
    before = table_counts(demo_db)
    spaces = " \u3000 \t "
    refused(
        client.post("/api/v1/complaints", json={**COMPLAINT, "text": spaces}),
        422,
        "text_required",
        "text",
    )
    refused(
        client.post("/api/v1/complaints", json={**COMPLAINT, "text": "  一二  "}),
        422,
        "invalid_request",  # five characters at least: "一二" is two once trimmed
    )
    in_person = {
        "id_number": person_id(6),
        "password": "Laohan2026",
        "consent": "本人同意当面核验并注册",
    }
    refused(
        client.post(
            "/api/v1/accounts/in-person", json={**in_person, "name": spaces}, headers=auth["clerk"]
        ),
        422,
        "invalid_name",
        "name",
    )
    refused(
        client.post(
            "/api/v1/me/identity",
            json={"name": "   ", "id_number": person_id(7)},
            headers=auth["applicant"],
        ),
        422,
        "invalid_name",
        "name",
    )
    refused(
        client.post("/api/v1/auth/token", json={"username": spaces, "password": "x"}),
        401,
        "bad_credentials",
    )
    refused(
        client.post(
            "/api/v1/feedback/follow-ups/1/actions",
            json={"action": "explain", "note": "  "},
            headers=auth["admin"],
        ),
        422,
        "text_required",
        "note",
    )
    too_long = client.post("/api/v1/complaints", json={**COMPLAINT, "contact_name": "张" * 65})
    refused(too_long, 422, "text_too_long", "contact_name")
    assert too_long.json()["error"]["details"]["max_length"] == 64
    counts = table_counts(demo_db)
    assert {k: v for k, v in counts.items() if k != "login_throttles"} == {
        k: v for k, v in before.items() if k != "login_throttles"
    }  # the failed sign-in is counted against the name, as any failed sign-in is
    made = client.post(
        "/api/v1/accounts/in-person",
        json={**in_person, "name": "  马 老汉\u3000"},
        headers=auth["clerk"],
    )
    assert made.status_code == 201, made.text
    assert made.json()["display_name"] == "马 老汉"


def test_identity_numbers_with_impossible_birth_dates_or_foreign_digits(
    client: TestClient, auth: dict[str, dict[str, str]], demo_db: str
) -> None:
    body = {"name": "马老汉", "password": "Laohan2026", "consent": "本人同意当面核验并注册"}
    valid = make_id_number("640425", date(1950, 5, 1), 8)
    arabic = valid[:6] + "".join(chr(0x0660 + int(c)) for c in valid[6:17]) + valid[17]
    before = table_counts(demo_db)
    for bad in (
        make_id_number("640425", date(2099, 1, 1), 8),  # born in the future
        make_id_number("640425", date(1899, 12, 31), 8),  # before 1900
        make_id_number("990425", date(1950, 5, 1), 8),  # no such province
        arabic,  # Arabic-Indic digits, which int() reads
        valid[:6] + "\u0e51" + valid[7:],  # a Thai digit
    ):
        answer = client.post(
            "/api/v1/accounts/in-person", json={**body, "id_number": bad}, headers=auth["clerk"]
        )
        refused(answer, 422, "invalid_id_number", "id_number")
    assert table_counts(demo_db) == before
    full_width = valid[:6] + "".join(chr(0xFF10 + int(c)) for c in valid[6:17]) + valid[17]
    made = client.post(
        "/api/v1/accounts/in-person", json={**body, "id_number": full_width}, headers=auth["clerk"]
    )
    assert made.status_code == 201, made.text
    with session_factory(demo_db)() as s:
        user = s.scalar(select(User).where(User.username == made.json()["username"]))
        assert user is not None and user.id_number == valid  # stored as ASCII
    assert (
        client.post(
            "/api/v1/auth/token", json={"username": valid, "password": "Laohan2026"}
        ).status_code
        == 200
    )


def test_nan_and_infinity_are_refused(
    client: TestClient, auth: dict[str, dict[str, str]], demo_db: str
) -> None:
    before = table_counts(demo_db)
    json_headers = {"content-type": "application/json"}
    for literal in ("NaN", "Infinity", "-Infinity"):
        rating = client.post(
            "/api/v1/cases/X/rating",
            content=f'{{"level": {literal}}}',
            headers={**auth["applicant"], **json_headers},
        )
        refused(rating, 422, "invalid_number", "level")
        case = client.post(
            "/api/v1/cases",
            content=f'{{"item_code": "x", "form": {{"income": {literal}}}}}',
            headers={**auth["clerk"], **json_headers},
        )
        refused(case, 422, "invalid_number", "form.income")
        action = client.post(
            "/api/v1/cases/X/actions",
            content=f'{{"action": "accept", "payload": {{"amounts": [1, {literal}]}}}}',
            headers={**auth["clerk"], **json_headers},
        )
        refused(action, 422, "invalid_number", "payload.amounts.1")
    stats = client.get("/api/v1/exchange/stats", params={"minutes": "NaN"}, headers=auth["admin"])
    refused(stats, 422, "invalid_request")
    assert table_counts(demo_db) == before


def _item_with_a_date_field(demo_db: str) -> tuple[str, str]:
    from tongban.catalog import service as catalog_service

    with session_factory(demo_db)() as s:
        for summary in catalog_service.list_items(s, size=100).items:
            item = catalog_service.get_item(s, code=summary.code)
            for name, prop in (item.form_schema.get("properties") or {}).items():
                if prop.get("format") == "date" and item.decided_by == "department":
                    return item.code, name
    raise AssertionError("no demo item with a date field")


def test_a_date_field_holding_words_is_refused_with_the_field_named(
    client: TestClient, auth: dict[str, dict[str, str]], demo_db: str
) -> None:
    code, field = _item_with_a_date_field(demo_db)
    with transaction(demo_db) as s:
        clerk = access_service.actor_by_username(s, "clerk")
        assert clerk is not None
        body = application(s, clerk, item_code=code).model_dump(mode="json")
    before = table_counts(demo_db)
    for bad in ("不是日期", "2026-02-30", "２０２６-01-01", "2026-1-1"):
        answer = client.post(
            "/api/v1/cases",
            json={**body, "form": {**body["form"], field: bad}},
            headers=auth["clerk"],
        )
        error = refused(answer, 422, "invalid_form")
        assert field in [problem["field"] for problem in error["details"]], error
    assert table_counts(demo_db) == before


def test_progress_lookup_with_a_non_ascii_code_is_not_found(
    client: TestClient, demo_db: str
) -> None:
    code, _ = _item_with_a_date_field(demo_db)
    with transaction(demo_db) as s:
        clerk = access_service.actor_by_username(s, "clerk")
        assert clerk is not None
        case = submit(s, clerk, item_code=code)
    assert case.query_code
    before = table_counts(demo_db)
    for code in ("é", "码码码码码码", "１２３４５６", "٠١٢٣٤٥"):
        answer = client.get("/api/v1/progress", params={"case_no": case.case_no, "code": code})
        refused(answer, 404, "progress_not_found")
    # Nothing is stored but the guesses' throttle counter (docs/cases.md, query codes).
    after = table_counts(demo_db)
    assert after.pop("attempt_counters") >= before.pop("attempt_counters")
    assert after == before
    found = client.get(
        "/api/v1/progress", params={"case_no": case.case_no, "code": case.query_code}
    )
    assert found.status_code == 200


@pytest.mark.parametrize(
    ("who", "method", "path"),
    [
        ("anonymous", "GET", "/api/v1/items?page=100001"),
        ("anonymous", "GET", "/api/v1/items?page=10000000000000000000"),
        ("anonymous", "GET", "/api/v1/items?size=101"),
        ("anonymous", "GET", "/api/v1/items?q=" + "办" * 101),
        ("applicant", "GET", "/api/v1/complaints?page=" + "9" * 30),
        ("clerk", "GET", "/api/v1/cases?page=100001"),
        ("clerk", "GET", "/api/v1/cases?item_code=" + "x" * 65),
        ("clerk", "GET", "/api/v1/workbench/queue?page=100001"),
        ("auditor", "GET", "/api/v1/audit/alerts?page=100001"),
        ("applicant", "GET", "/api/v1/me/messages?page=9223372036854775808"),
        ("clerk", "GET", "/api/v1/cases/X/materials/2147483648"),
        ("clerk", "GET", "/api/v1/cases/X/materials/99999999999999999999"),
        ("clerk", "GET", "/api/v1/cases/" + "X" * 33),
        ("applicant", "POST", "/api/v1/delegations/99999999999999999999/revoke"),
        ("applicant", "POST", "/api/v1/me/messages/2147483648/read"),
        ("applicant", "POST", "/api/v1/me/messages/0/read"),
        ("applicant", "POST", "/api/v1/exchange/consents/-1/revoke"),
        ("auditor", "GET", "/api/v1/audit/accounts/" + "a" * 65 + "/accesses"),
    ],
)
def test_paging_and_ids_out_of_range_are_refused(
    client: TestClient,
    auth: dict[str, dict[str, str]],
    demo_db: str,
    who: str,
    method: str,
    path: str,
) -> None:
    before = table_counts(demo_db)
    refused(client.request(method, path, headers=auth[who]), 422, "invalid_request")
    assert table_counts(demo_db) == before


@pytest.mark.parametrize(
    ("who", "method", "path", "code"),
    [
        ("clerk", "GET", "/api/v1/cases/X/materials/2147483647", "case_not_found"),
        ("applicant", "POST", "/api/v1/delegations/2147483647/revoke", "delegation_not_found"),
        ("applicant", "POST", "/api/v1/me/messages/2147483647/read", "message_not_found"),
        ("anonymous", "GET", "/api/v1/items?page=100000", None),
    ],
)
def test_the_largest_accepted_values_reach_the_database_and_are_answered(
    client: TestClient,
    auth: dict[str, dict[str, str]],
    who: str,
    method: str,
    path: str,
    code: str | None,
) -> None:
    """2**31 - 1 is the largest id PostgreSQL's INTEGER takes: asked for, it is not found."""
    answer = client.request(method, path, headers=auth[who])
    if code is None:
        assert answer.status_code == 200 and answer.json()["items"] == []
    else:
        refused(answer, 404, code)


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/cases/A%00B", 404, "not_found"),
        ("/api/v1/items/A%00B", 404, "not_found"),
        ("/api/v1/items/A%E2%80%AEB", 404, "not_found"),  # RLO
        ("/api/v1/complaints/TS%00", 404, "not_found"),
        ("/api/v1/audit/accounts/cl%00erk/accesses", 404, "not_found"),
        ("/api/v1/items?q=%E5%8A%9E%00", 422, "invalid_text"),
        ("/api/v1/items?department=%07", 422, "invalid_text"),
        ("/api/v1/progress?case_no=A%00&code=123456", 422, "invalid_text"),
        ("/api/v1/complaints/TS1?code=%00", 422, "invalid_text"),
        ("/api/v1/workdays/add?date=2026-09-30%00&n=3", 422, "invalid_text"),
        ("/api/v1/bundles?q=%E2%81%A6x", 422, "invalid_text"),  # LRI
    ],
)
def test_nul_and_control_characters_in_paths_and_queries(
    client: TestClient,
    auth: dict[str, dict[str, str]],
    demo_db: str,
    path: str,
    status: int,
    code: str,
) -> None:
    before = table_counts(demo_db)
    error = refused(client.get(path, headers=auth["clerk"]), status, code)
    if code == "invalid_text":
        assert error["details"]["field"] in {"q", "department", "case_no", "code", "date"}
    assert table_counts(demo_db) == before


def test_pages_refuse_nul_in_their_urls_and_the_login_form(
    client: TestClient, demo_db: str
) -> None:
    html = {"accept": "text/html"}
    assert client.get("/login?next=%00", headers=html).status_code == 422
    assert client.get("/items/A%00B", headers=html).status_code == 404
    before = table_counts(demo_db)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    answer = client.post(
        "/login",
        data={"csrf_token": token.group(1), "username": "cl\x00erk", "password": "x\x00"},
        headers=html,
    )
    assert answer.status_code == 422, answer.text[:500]
    # The page counts it as a failed sign-in (under a blind index of the name, no NUL);
    # nothing else is written.
    after = table_counts(demo_db)
    assert after.pop("login_throttles") <= before.pop("login_throttles") + 1
    assert after == before


@pytest.fixture
def small_body_app(demo_db: str) -> Iterator[TestClient]:
    settings = get_settings().model_copy(update={"max_body_bytes": 4096})
    with TestClient(create_app(demo_db, settings=settings)) as client:
        yield client


def _chunks(size: int, piece: bytes = b" " * 1024) -> Iterator[bytes]:
    yield b'{"category": "other", "target_kind": "platform", "text": "'
    for _ in range(size // len(piece)):
        yield piece
    yield b'"}'


def test_a_chunked_body_over_the_limit_gets_413(small_body_app: TestClient, demo_db: str) -> None:
    before = table_counts(demo_db)
    json_body = small_body_app.post(
        "/api/v1/complaints",
        content=_chunks(64 * 1024),
        headers={"content-type": "application/json"},
    )
    assert "content-length" not in json_body.request.headers
    assert json_body.request.headers["transfer-encoding"] == "chunked"
    error = refused(json_body, 413, "body_too_large")
    assert error["details"] == {"max_bytes": 4096}
    boundary = "tongbanboundary"
    multipart = small_body_app.post(
        "/api/v1/uploads",
        content=(
            part
            for part in [
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
                "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n".encode(),
                *[b"0" * 1024] * 64,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        ),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    refused(multipart, 413, "body_too_large")
    small = small_body_app.post(
        "/api/v1/complaints", content=_chunks(1024), headers={"content-type": "application/json"}
    )
    assert small.status_code != 413  # under the limit, chunked is fine (refused for its text)
    assert table_counts(demo_db) == before


def test_the_database_never_receives_a_nul(demo_db: str) -> None:
    """The last line: whatever slipped past the checks above is refused before the driver."""
    from tongban.errors import Invalid

    with pytest.raises(Invalid) as caught, transaction(demo_db) as s:
        s.execute(text("SELECT count(*) FROM users WHERE username = :u"), {"u": "a\x00b"})
    assert caught.value.code == "invalid_text"
