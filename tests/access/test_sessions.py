"""Sessions and tokens that can be revoked (issue 11 §3): logout, a password change, sign-out
everywhere and an admin end them on the server, and a second app server on the same
database refuses them at once; an admin unlocks a locked account; both are audited."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from tongban.app import create_app
from tongban.audit.models import AuditEntry
from tongban.db import session_factory

PASSWORD = "Demo@2026"


def token_for(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def me(client: TestClient, headers: dict[str, str] | None = None) -> int:
    return client.get("/api/v1/auth/me", headers=headers or {}).status_code


def sign_in_page(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the login page; returns the session cookie it set."""
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    answer = client.post(
        "/login",
        data={"csrf_token": token.group(1), "username": username, "password": password},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:300]
    return str(client.cookies.get("tongban_session"))


def audited(demo_db: str, action: str, username: str) -> bool:
    with session_factory(demo_db)() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return any(entry.subject_ref == username for entry in entries)


def test_a_token_logout_holds_on_every_app_server(client: TestClient, demo_db: str) -> None:
    headers = token_for(client, "clerk")
    with TestClient(create_app(demo_db)) as other_server:
        assert me(other_server, headers) == 200
        assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
        assert me(other_server, headers) == 401
    assert me(client, headers) == 401


def test_a_session_cookie_is_dead_after_logout_even_when_replayed(
    client: TestClient, demo_db: str
) -> None:
    cookie = sign_in_page(client, "clerk")
    assert "uid" not in cookie  # the cookie carries a session id, not the account
    assert client.get("/workbench", follow_redirects=False).status_code == 200
    page = client.get("/workbench").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    client.post("/logout", data={"csrf_token": token.group(1)}, follow_redirects=False)
    # Someone who copied the cookie before the logout, on another app server:
    with TestClient(create_app(demo_db)) as other_server:
        other_server.cookies.set("tongban_session", cookie)
        answer = other_server.get("/workbench", follow_redirects=False)
        assert answer.status_code in (303, 401), answer.status_code


def test_a_password_change_ends_the_other_sessions(client: TestClient) -> None:
    first, second = token_for(client, "applicant_ma"), token_for(client, "applicant_ma")
    changed = client.post(
        "/api/v1/me/password",
        headers=first,
        json={"old_password": PASSWORD, "new_password": "NewSecret2027"},
    )
    assert changed.status_code == 204, changed.text
    assert me(client, second) == 401
    assert me(client, token_for(client, "applicant_ma", "NewSecret2027")) == 200


def test_sign_out_everywhere_ends_tokens_and_cookies(client: TestClient) -> None:
    token = token_for(client, "clerk")
    sign_in_page(client, "clerk")
    assert client.post("/api/v1/auth/sign-out-everywhere", headers=token).status_code == 204
    assert me(client, token) == 401
    assert me(client) == 401  # the browser's session too


def test_an_admin_ends_a_users_sessions_audited(client: TestClient, demo_db: str) -> None:
    clerk = token_for(client, "clerk")
    admin = token_for(client, "admin")
    refused = client.post("/api/v1/users/admin/sessions/end", headers=clerk)
    assert refused.status_code == 403
    ended = client.post("/api/v1/users/clerk/sessions/end", headers=admin)
    assert ended.status_code == 200, ended.text
    assert ended.json() == {"username": "clerk", "ended": 1}
    assert me(client, clerk) == 401
    assert me(client, admin) == 200
    assert audited(demo_db, "users.end_sessions", "clerk")
    missing = client.post("/api/v1/users/nobody-here/sessions/end", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "user_not_found"


def test_an_admin_unlocks_a_locked_account_audited(client: TestClient, demo_db: str) -> None:
    wrong = {"username": "clerk", "password": "wrong-pass1"}
    statuses = [client.post("/api/v1/auth/token", json=wrong).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    locked = client.post("/api/v1/auth/token", json={"username": "clerk", "password": PASSWORD})
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "account_locked"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    admin = token_for(client, "admin")
    assert client.post("/api/v1/users/clerk/unlock", headers=admin).status_code == 204
    assert audited(demo_db, "users.unlock", "clerk")
    assert me(client, token_for(client, "clerk")) == 200


def test_a_token_of_the_old_format_or_forged_is_refused(client: TestClient) -> None:
    from itsdangerous import URLSafeTimedSerializer

    from tongban.config import get_settings

    signer = URLSafeTimedSerializer(get_settings().resolved_secret_key(), salt="tongban-api-token")
    for payload in ({"uid": 1, "e": 0}, {"sid": "not-a-session"}):
        assert me(client, {"Authorization": f"Bearer {signer.dumps(payload)}"}) == 401
    assert me(client, {"Authorization": "Bearer forged.token"}) == 401


def test_the_json_api_ignores_the_session_cookie_for_writes(client: TestClient) -> None:
    sign_in_page(client, "clerk")
    assert me(client) == 200  # reads may use the cookie
    # A write with only the cookie (what a forged cross-site request carries) is anonymous.
    answer = client.post("/api/v1/auth/sign-out-everywhere")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"
    assert me(client) == 200  # and did nothing
