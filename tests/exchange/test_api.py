"""The exchange API: the registry for admins, checks for staff roles, consents for applicants."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from exchange_support import LOAN, MA
from support import PASSWORD, make_user
from tongban.db import transaction


def login(client: TestClient, username: str, password: str = "Demo@2026") -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def as_(client: TestClient, exchange_db: str) -> dict[str, dict[str, str]]:
    with transaction(exchange_db) as s:
        second = make_user(s, "admin", region_code="640425")
    users = ("admin", "clerk", "reviewer_gaj", "applicant_ma", "applicant_li")
    headers = {name: login(client, name) for name in users}
    headers["admin2"] = login(client, second.username, PASSWORD)
    return headers


def check_body(**changes: Any) -> dict[str, Any]:
    body = {
        "service_code": "population.person_basic",
        "subject": MA.id_number,
        "purpose": "identity_check",
        "claim": "name_matches",
        "claim_values": {"DE0002": MA.name},
    }
    return {**body, **changes}


def test_admins_see_and_keep_the_registry(
    client: TestClient, as_: dict[str, dict[str, str]]
) -> None:
    listed = client.get("/api/v1/exchange/providers", headers=as_["admin"])
    assert listed.status_code == 200
    by_code = {p["code"]: p for p in listed.json()}
    assert set(by_code) == {
        "population",
        "realestate",
        "social_insurance",
        "subsistence",
        "enterprise",
        "enterprise_agents",
    }
    assert by_code["realestate"]["status"] == "enabled"
    assert by_code["realestate"]["registered_by"] == "system"
    assert by_code["realestate"]["decided_by"] == "admin"
    population = by_code["population"]
    new = {
        **{k: population[k] for k in ("name", "department_code", "kind", "mapping")},
        "code": "population2",
        "location": "sqlite:////nonexistent/population.db",
        "services": [{"code": "population2.basic", "name": "人口", "elements": ["DE0002"]}],
    }
    made = client.post("/api/v1/exchange/providers", json=new, headers=as_["admin"])
    assert made.status_code == 201 and made.json()["status"] == "pending"
    own = client.post(
        "/api/v1/exchange/providers/population2/decision",
        json={"decision": "approve"},
        headers=as_["admin"],
    )
    assert own.status_code == 403 and own.json()["error"]["code"] == "exchange_self_approval"
    approved = client.post(
        "/api/v1/exchange/providers/population2/decision",
        json={"decision": "approve", "note": "核对无误"},
        headers=as_["admin2"],
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    enabled = client.post(
        "/api/v1/exchange/providers/population2/status",
        json={"status": "enabled"},
        headers=as_["admin"],
    )
    assert enabled.json()["status"] == "enabled"
    grants = client.get(
        "/api/v1/exchange/authorizations?service_code=realestate.ownership", headers=as_["admin"]
    )
    assert {g["consumer"] for g in grants.json()} == {
        LOAN,
        "11640425MB00010TBR051008000100001",  # 最低生活保障申请
        "11640425MB00008TB0071006000100001",  # 不动产转移登记: 不动产权属证书 免提交
    }


def test_staff_check_as_their_role_and_the_status_follows_the_outcome(
    client: TestClient, as_: dict[str, dict[str, str]]
) -> None:
    verified = client.post("/api/v1/exchange/checks", json=check_body(), headers=as_["clerk"])
    assert verified.status_code == 200, verified.text
    assert verified.json()["outcome"] == "verified" and verified.json()["source"] == "公安人口库"
    denied = client.post("/api/v1/exchange/checks", json=check_body(), headers=as_["reviewer_gaj"])
    assert denied.status_code == 403 and denied.json()["code"] == "exchange_not_authorized"
    client.post(
        "/api/v1/exchange/providers/population/status",
        json={"status": "disabled", "note": "维护"},
        headers=as_["admin"],
    )
    down = client.post("/api/v1/exchange/checks", json=check_body(), headers=as_["clerk"])
    assert down.status_code == 503 and down.json()["outcome"] == "unavailable"
    assert "请提供" in down.json()["message"]
    stats = client.get("/api/v1/exchange/stats?minutes=10", headers=as_["admin"]).json()
    (row,) = stats["services"]
    assert (row["requests"], row["answered"], row["denied"], row["unavailable"]) == (3, 1, 1, 1)
    assert row["p99_ms"] >= row["p50_ms"] > 0


def test_applicants_give_list_and_revoke_their_own_consents(
    client: TestClient, as_: dict[str, dict[str, str]]
) -> None:
    body = {
        "consumer": f"item:{LOAN}",
        "service_code": "realestate.ownership",
        "purpose": "housing_fund_loan",
        "days": 30,
    }
    given = client.post("/api/v1/exchange/consents", json=body, headers=as_["applicant_ma"])
    assert given.status_code == 201 and given.json()["channel"] == "online"
    consent_id = given.json()["id"]
    mine = client.get("/api/v1/exchange/consents", headers=as_["applicant_ma"]).json()
    assert [c["id"] for c in mine] == [consent_id]
    assert client.get("/api/v1/exchange/consents", headers=as_["applicant_li"]).json() == []
    stolen = client.post(
        f"/api/v1/exchange/consents/{consent_id}/revoke", headers=as_["applicant_li"]
    )
    assert stolen.status_code == 404
    revoked = client.post(
        f"/api/v1/exchange/consents/{consent_id}/revoke", headers=as_["applicant_ma"]
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    staff = client.post("/api/v1/exchange/consents", json=body, headers=as_["reviewer_gaj"])
    assert staff.status_code == 403


def test_services_describe_themselves_in_openapi_and_the_node_shows_its_key(
    client: TestClient, as_: dict[str, dict[str, str]]
) -> None:
    document = client.get(
        "/api/v1/exchange/services/social_insurance.enrolment/openapi", headers=as_["clerk"]
    ).json()
    assert document["openapi"] == "3.1.0"
    record = document["components"]["schemas"]["Record"]["properties"]
    assert record["DE0017"]["type"] == "integer" and record["DE0018"]["format"] == "date"
    assert record["DE0015"]["enum"] == ["1", "2", "3"]
    assert "enrolled" in document["info"]["x-claims"]
    node = client.get("/api/v1/exchange/node").json()
    assert node["algorithm"] == "ed25519" and len(node["key_id"]) == 16
