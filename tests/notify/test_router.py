"""The JSON API: my messages for every signed-in role, delivery failures for the admin."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from notify_support import settings_env
from tongban.access import service as access_service
from tongban.audit.models import AuditEntry
from tongban.db import transaction
from tongban.notify import jobs, service

PASSWORD = "Demo@2026"
PARAMS = {"case_no": "640425-20261203-000001", "title": "最低生活保障申请"}
# The rows for tests/access/test_authorization_matrix.py (a message id nobody has: 404).
EXPECTED = {
    "GET /api/v1/me/messages": {"anon": 401, "applicant_ma": 200, "clerk": 200, "admin": 200},
    "POST /api/v1/me/messages/999999/read": {
        "anon": 401,
        "applicant_ma": 404,
        "clerk": 404,
        "admin": 404,
    },
    "GET /api/v1/notifications/failed": {
        "anon": 401,
        "applicant_ma": 403,
        "clerk": 403,
        "auditor": 403,
        "admin": 200,
    },
    "GET /api/v1/notifications/stats": {
        "anon": 401,
        "applicant_ma": 403,
        "reviewer_mzj": 403,
        "admin": 200,
    },
}


def headers(client: TestClient, username: str) -> dict[str, str]:
    if username == "anon":
        return {}
    response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def user_id(db: str, username: str) -> int:
    with transaction(db) as s:
        actor = access_service.actor_by_username(s, username)
        assert actor is not None
        return actor.user_id


def message_for(db: str, username: str, key: str, **contact: Any) -> None:
    with transaction(db) as s:
        service.notify(
            s,
            kind="case_accepted",
            params=PARAMS,
            dedupe_key=key,
            user_id=user_id(db, username),
            **contact,
        )


def test_every_route_answers_each_role_as_expected(client: TestClient) -> None:
    problems = []
    for key, expected in EXPECTED.items():
        method, path = key.split(" ", 1)
        for role, status in expected.items():
            got = client.request(method, path, headers=headers(client, role)).status_code
            if got != status:
                problems.append(f"{key} as {role}: {got}, expected {status}")
    assert problems == []


def test_my_messages_newest_first_and_marked_read(client: TestClient, demo_db: str) -> None:
    message_for(demo_db, "applicant_ma", "api:1")
    message_for(demo_db, "applicant_ma", "api:2")
    message_for(demo_db, "applicant_li", "api:3")
    mine = headers(client, "applicant_ma")
    page = client.get("/api/v1/me/messages", headers=mine).json()
    assert page["total"] == 2 and page["unread"] == 2
    first, second = page["items"]
    assert first["id"] > second["id"] and first["unread"] and first["kind"] == "case_accepted"
    assert first["title"] == "办件已受理" and "640425-20261203-000001" in first["text"]
    assert first["params"] == PARAMS
    read = client.post(f"/api/v1/me/messages/{first['id']}/read", headers=mine)
    assert read.status_code == 200 and read.json()["unread"] is False
    again = client.post(f"/api/v1/me/messages/{first['id']}/read", headers=mine)
    assert again.json()["read_at"] == read.json()["read_at"]  # idempotent
    unread = client.get("/api/v1/me/messages?unread_only=true", headers=mine).json()
    assert [m["id"] for m in unread["items"]] == [second["id"]] and unread["unread"] == 1
    # Someone else's message does not exist for me.
    theirs = client.get("/api/v1/me/messages", headers=headers(client, "applicant_li")).json()
    other = theirs["items"][0]["id"]
    assert client.post(f"/api/v1/me/messages/{other}/read", headers=mine).status_code == 404
    too_big = client.post(f"/api/v1/me/messages/{2**40}/read", headers=mine)
    assert too_big.status_code == 422


def test_the_admin_sees_failures_masked_and_the_read_is_audited(
    client: TestClient, demo_db: str
) -> None:
    with settings_env(sms_gateway="http", sms_gateway_url="http://127.0.0.1:9/sms"):
        message_for(demo_db, "applicant_ma", "api:fail", phone="13912345678")
        with settings_env(notify_max_attempts=1):
            assert jobs.deliver_due(demo_db).failed == 1
    admin = headers(client, "admin")
    failed = client.get("/api/v1/notifications/failed", headers=admin).json()
    (item,) = failed["items"]
    assert item["channel"] == "sms" and item["address"] == "139****5678"
    assert item["attempts"] == 1 and item["last_error"].startswith("http_")
    assert "text" not in item and "13912345678" not in str(failed)
    with transaction(demo_db) as s:
        audited = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.subject_kind == "notification")
        )
    assert audited == 1
    stats = client.get("/api/v1/notifications/stats", headers=admin).json()
    assert stats["channels"]["sms"] == {"failed": 1} and stats["failed"] == 1
    assert stats["channels"]["site"] == {"sent": 1}
