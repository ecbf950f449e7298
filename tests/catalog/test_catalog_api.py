"""The catalog JSON API under /api/v1, on SQLite and PostgreSQL, with the demo county loaded."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tongban.demo.loader import read

API = "/api/v1"


def token(client: TestClient, username: str) -> dict[str, str]:
    credentials = {"username": username, "password": "Demo@2026"}
    response = client.post(f"{API}/auth/token", json=credentials)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def demo_item(name: str) -> dict[str, Any]:
    return next(i for i in read("items") if i["name"] == name)


def test_search_through_the_api(client: TestClient) -> None:
    for query, first in (("低保", "最低生活保障申请"), ("异地 医保", "异地就医备案")):
        body = client.get(f"{API}/items", params={"q": query}).json()
        assert body["items"][0]["name"] == first
        assert body["items"][0]["score"] > 0
    licence = client.get(f"{API}/items", params={"q": "营业执照"}).json()
    top3 = [i["name"] for i in licence["items"][:3]]
    assert {"个体工商户登记", "企业设立登记"} <= set(top3)
    bundles = client.get(f"{API}/bundles", params={"q": "开公司"}).json()
    assert bundles[0]["code"] == "qiye-kaiban"
    assert len(bundles[0]["items"]) == 5


def test_empty_query_is_a_specific_4xx_and_no_hits_an_empty_page(client: TestClient) -> None:
    response = client.get(f"{API}/items", params={"q": "  "})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "empty_query"
    assert client.get(f"{API}/bundles", params={"q": ""}).json()["error"]["code"] == "empty_query"
    body = client.get(f"{API}/items", params={"q": "火星移民签证"}).json()
    assert (body["total"], body["items"]) == (0, [])


def test_list_items_with_department_filter_and_pages(client: TestClient) -> None:
    body = client.get(f"{API}/items", params={"size": 100}).json()
    assert body["total"] >= 30 and len(body["items"]) == body["total"]
    department = demo_item("异地就医备案")["department_code"]
    filtered = client.get(f"{API}/items", params={"department": department}).json()
    assert filtered["total"] >= 2
    assert {i["department_code"] for i in filtered["items"]} == {department}
    assert client.get(f"{API}/items", params={"size": 1000}).status_code == 422


def test_item_detail_and_not_found(client: TestClient) -> None:
    code = demo_item("个体工商户登记")["code"]
    item = client.get(f"{API}/items/{code}").json()
    assert item["name"] == "个体工商户登记"
    assert item["department_name"] == "彭阳县市场监督管理局"
    assert item["region_code"] == "640425"
    assert item["materials"][0]["id"] > 0
    assert item["form_schema"]["type"] == "object"
    missing = client.get(f"{API}/items/NO-SUCH-ITEM")
    assert missing.status_code == 404
    error = missing.json()["error"]
    assert error["code"] == "item_not_found" and error["message"] and error["message_en"]


def test_bundles_and_departments(client: TestClient) -> None:
    bundles = client.get(f"{API}/bundles").json()
    assert {"qiye-kaiban", "chusheng"} <= {b["code"] for b in bundles}
    kaiban = client.get(f"{API}/bundles/qiye-kaiban").json()
    assert kaiban["promised_limit_days"] == 1
    assert len({i["department_code"] for i in kaiban["items"]}) == 5
    missing = client.get(f"{API}/bundles/nope")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "bundle_not_found")
    departments = client.get(f"{API}/departments").json()
    assert len(departments) >= 12
    assert "彭阳县民政局" in {d["name"] for d in departments}


def test_post_item_is_for_admins_only(client: TestClient) -> None:
    data = demo_item("临时救助") | {"promised_limit_days": 8}
    assert client.post(f"{API}/items", json=data).status_code == 401
    as_applicant = client.post(f"{API}/items", json=data, headers=token(client, "applicant_ma"))
    assert as_applicant.status_code == 403
    assert client.get(f"{API}/items/{data['code']}").json()["promised_limit_days"] == 10

    admin = token(client, "admin")
    saved = client.post(f"{API}/items", json=data, headers=admin)
    assert saved.status_code == 200, saved.text
    assert (saved.json()["promised_limit_days"], saved.json()["version"]) == (8, 2)

    stale_copy = data | {"promised_limit_days": 7}
    stale = client.post(f"{API}/items", json=stale_copy, headers=admin | {"If-Match": "1"})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "item_version_conflict"

    invalid = client.post(f"{API}/items", json=data | {"promised_limit_days": 99}, headers=admin)
    assert invalid.status_code == 422
    assert invalid.json()["error"]["code"] == "promised_exceeds_statutory"
    assert client.get(f"{API}/items/{data['code']}").json()["promised_limit_days"] == 8


def test_post_item_rejects_undeclared_form_fields(client: TestClient) -> None:
    admin = token(client, "admin")
    data = demo_item("最低生活保障申请")
    properties = data["form_schema"]["properties"]
    assert all("x-privacy" in spec for spec in properties.values())
    # Collecting the applicant's religion "just in case": no declared purpose, no field.
    extra = {"religion": {"type": "string", "title": "宗教信仰", "maxLength": 20}}
    schema = data["form_schema"] | {"properties": properties | extra}
    response = client.post(f"{API}/items", json=data | {"form_schema": schema}, headers=admin)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "form_field_undeclared"
    assert "religion" in error["message"] and "religion" in error["message_en"]
    assert [p["field"] for p in error["details"]["problems"]] == [
        "form_schema.properties.religion.x-privacy"
    ]

    income = properties["monthly_income_yuan"]
    unmasked = income | {"x-privacy": income["x-privacy"] | {"mask": "none"}}
    schema = data["form_schema"] | {"properties": properties | {"monthly_income_yuan": unmasked}}
    response = client.post(f"{API}/items", json=data | {"form_schema": schema}, headers=admin)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "form_field_declaration_invalid"
    stored = client.get(f"{API}/items/{data['code']}").json()["form_schema"]
    assert stored == data["form_schema"]  # the declarations round-trip unchanged
