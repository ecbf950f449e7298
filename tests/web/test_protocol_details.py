"""Protocol details an operator expects (issue 11 §3): a 405 names the allowed methods in
``Allow``, on the JSON API and on the pages."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_a_405_carries_allow(client: TestClient) -> None:
    api = client.delete("/api/v1/auth/token")
    assert api.status_code == 405
    assert api.headers["Allow"] == "POST"
    assert api.json()["error"]["code"]
    page = client.put("/login", headers={"Accept": "text/html"})
    assert page.status_code == 405
    assert page.headers["Allow"] == "GET, POST"  # one route per method, all named
