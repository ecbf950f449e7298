"""Web test fixture: a browser-like client (Accept: text/html) on the demo county."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def web(client: TestClient) -> TestClient:
    client.headers["accept"] = "text/html,application/xhtml+xml"
    return client
