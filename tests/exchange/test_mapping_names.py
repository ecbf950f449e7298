"""A provider's mapping names a mapping shipped with the platform — never a server path
(issue 11 §3): a path is refused without the server reading the file, and the error
carries no file content."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi.testclient import TestClient

from exchange_support import provider_data
from tongban.exchange.registry import shipped_mappings


def _admin(client: TestClient) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"username": "admin", "password": "Demo@2026"})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_a_mapping_path_is_refused_without_reading_it(client: TestClient) -> None:
    secret = Path("/tmp") / f"tb-{os.getpid()}.toml"  # short: the field takes 64 characters
    secret.write_text('kind = "database"\npassword = "TOP-SECRET-VALUE"\n', encoding="utf-8")
    headers = _admin(client)
    for mapping in (str(secret), "../../../../etc/passwd", "population/../population"):
        answer = client.post(
            "/api/v1/exchange/providers",
            headers=headers,
            json=provider_data("rk_evil", "sqlite:///nothing.db", mapping=mapping).model_dump(
                exclude_none=True
            ),
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "exchange_unknown_mapping"
        assert "TOP-SECRET" not in answer.text
    secret.unlink()
    assert "population" in shipped_mappings()
