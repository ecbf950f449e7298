"""/healthz, /readyz and /metrics through the app, on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tongban.app import create_app
from tongban.config import get_settings
from tongban.ops.settings import get_ops_settings


def test_healthz_answers_without_a_database(tmp_path: Path) -> None:
    # A database URL nothing listens on: liveness must not care.
    with TestClient(create_app("postgresql+psycopg://nobody@127.0.0.1:9/none")) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"


def test_readyz_when_everything_is_in_place(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "migrations": True,
        "key_files": True,
    }
    assert "set-cookie" not in response.headers


def test_readyz_refuses_an_unreachable_database() -> None:
    with TestClient(create_app("postgresql+psycopg://nobody@127.0.0.1:9/none")) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is False
    assert "migrations" not in checks  # the one failure is the cause


def test_readyz_refuses_a_database_behind_its_migrations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with TestClient(create_app(url)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    migrations = response.json()["checks"]["migrations"]
    assert migrations["ok"] is False
    assert "tongban db upgrade" in migrations["detail"]


def test_readyz_refuses_a_missing_keyring(
    demo_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TONGBAN_KEY_FILE", str(tmp_path / "gone.json"))
    get_settings.cache_clear()
    try:
        with TestClient(create_app(demo_db)) as client:
            response = client.get("/readyz")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert response.status_code == 503
    assert response.json()["checks"]["key_files"]["detail"] == "encryption_keyring missing"


def test_probes_are_not_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/healthz", "/readyz", "/metrics"} & set(paths)


def test_metrics_refuse_a_remote_caller_without_the_token(client: TestClient) -> None:
    # TestClient's peer is "testclient", not a loopback address.
    response = client.get("/metrics")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "metrics_forbidden"


def test_metrics_by_route_template_with_the_token(
    demo_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TONGBAN_METRICS_TOKEN", "s3cret-token")
    get_ops_settings.cache_clear()
    try:
        with TestClient(create_app(demo_db)) as client:
            client.get("/api/v1/cases/ZZ20991231000001")  # a raw path that must not appear
            client.get("/healthz")
            refused = client.get("/metrics", headers={"Authorization": "Bearer wrong"})
            response = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    finally:
        monkeypatch.undo()
        get_ops_settings.cache_clear()
    assert refused.status_code == 403
    assert response.status_code == 200
    text = response.text
    assert 'route="/healthz"' in text
    assert "tongban_http_request_duration_seconds_bucket" in text
    assert "ZZ20991231000001" not in text
    assert "tongban_metrics_database_up 1.0" in text
    assert "tongban_audit_appends_total" in text
    assert "tongban_notifications" in text


def test_readyz_answers_in_time_when_the_database_hangs(monkeypatch: pytest.MonkeyPatch) -> None:
    # A listener that never accepts: the connection opens, the server never speaks.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        monkeypatch.setenv("TONGBAN_READY_TIMEOUT_SECONDS", "0.5")
        get_ops_settings.cache_clear()
        try:
            app = create_app(f"postgresql+psycopg://nobody@127.0.0.1:{port}/none")
            with TestClient(app) as client:
                started = time.monotonic()
                first = client.get("/readyz")
                second = client.get("/readyz")
                elapsed = time.monotonic() - started
        finally:
            monkeypatch.undo()
            get_ops_settings.cache_clear()
    assert (first.status_code, second.status_code) == (503, 503)
    assert first.json()["checks"]["database"]["detail"] == "no answer within the deadline"
    assert "still waiting" in second.json()["checks"]["database"]["detail"]
    assert elapsed < 3  # not the minutes of a TCP or libpq timeout
