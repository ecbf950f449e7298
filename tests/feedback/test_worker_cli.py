"""`tongban worker --once` and the API round trip of an anonymous complaint."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from feedback.feedback_support import complaint_about_item
from tongban.cli import app
from tongban.config import get_settings
from tongban.db import transaction
from tongban.feedback import service
from tongban.kit.clock import frozen, now

runner = CliRunner()


@pytest.fixture
def cli_db(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", demo_db)
    get_settings.cache_clear()
    yield demo_db
    get_settings.cache_clear()


def test_worker_once_escalates_a_complaint_filed_two_days_ago(cli_db: str) -> None:
    with transaction(cli_db) as s, frozen(now() - timedelta(days=2)):
        service.file_complaint(s, actor=None, data=complaint_about_item(s))
    first = runner.invoke(app, ["worker", "--once"])
    assert first.exit_code == 0, first.output
    assert "escalations 2" in first.output  # the department head, then the center (24 h)
    again = runner.invoke(app, ["worker", "--once"])
    assert "warnings 0 · escalations 0" in again.output


def test_an_anonymous_complaint_through_the_api(client: TestClient, demo_db: str) -> None:
    with transaction(demo_db) as s:
        body = complaint_about_item(s).model_dump()
    filed = client.post("/api/v1/complaints", json=body)
    assert filed.status_code == 201, filed.text
    number, code = filed.json()["complaint_no"], filed.json()["query_code"]
    assert client.get(f"/api/v1/complaints/{number}").status_code == 404  # no code, no access
    read = client.get(f"/api/v1/complaints/{number}", params={"code": code})
    assert read.status_code == 200 and read.json()["response"]["status"] == "open"
    early = client.post(
        f"/api/v1/complaints/{number}/actions", params={"code": code}, json={"action": "confirm"}
    )
    assert early.status_code == 409  # nothing to confirm before it is resolved
    assert early.json()["error"]["code"] == "complaint_action_not_allowed"
