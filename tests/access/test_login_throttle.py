"""Repeated failed sign-ins lock the username for a while (API and web)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tongban.kit.clock import frozen

START = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def token_status(client: TestClient, password: str, username: str = "clerk") -> tuple[int, str]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    code = response.json().get("error", {}).get("code", "") if response.status_code != 200 else ""
    return response.status_code, code


def test_five_failures_lock_the_account_then_it_reopens(client: TestClient) -> None:
    with frozen(START):
        for _ in range(4):
            assert token_status(client, "wrong-pass1") == (401, "bad_credentials")
        assert token_status(client, "Demo@2026")[0] == 200  # success resets the count
        for _ in range(5):
            assert token_status(client, "wrong-pass1") == (401, "bad_credentials")
        # Locked now: even the right password is refused, with a clear 429.
        status, code = token_status(client, "Demo@2026")
        assert (status, code) == (429, "account_locked")
        locked = client.post(
            "/api/v1/auth/token", json={"username": "clerk", "password": "Demo@2026"}
        ).json()["error"]
        assert 0 < locked["details"]["retry_after_seconds"] <= 15 * 60
        # Other accounts are not affected.
        assert token_status(client, "Demo@2026", username="admin")[0] == 200
    with frozen(START + timedelta(minutes=16)):
        assert token_status(client, "Demo@2026")[0] == 200


def test_failures_outside_the_window_do_not_add_up(client: TestClient) -> None:
    for minutes in (0, 20, 40, 60, 80, 100):
        with frozen(START + timedelta(minutes=minutes)):
            assert token_status(client, "wrong-pass1") == (401, "bad_credentials")
    with frozen(START + timedelta(minutes=101)):
        assert token_status(client, "Demo@2026")[0] == 200


def test_unknown_and_overlong_usernames_are_throttled_without_errors(client: TestClient) -> None:
    with frozen(START):
        for _ in range(5):
            assert token_status(client, "x", username="nobody" * 20) == (401, "bad_credentials")
        assert token_status(client, "x", username="nobody" * 20) == (429, "account_locked")


def test_web_login_shows_the_lock(client: TestClient) -> None:
    import re

    with frozen(START):
        for attempt in range(6):
            page = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token
            response = client.post(
                "/login",
                data={
                    "csrf_token": token.group(1),
                    "username": "reviewer_mzj",
                    "password": "wrong-pass1" if attempt < 5 else "Demo@2026",
                },
            )
        assert response.status_code == 429
        assert "锁定" in response.text
