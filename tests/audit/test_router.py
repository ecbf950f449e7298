"""The audit API: alerts and account histories for auditors, 我的数据被谁用了 for applicants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tongban.access import service as access_service
from tongban.audit import service as audit_service
from tongban.audit.models import AuditCheckpoint, AuditVerification
from tongban.audit.service import Access
from tongban.db import transaction
from tongban.kit.clock import SHANGHAI, frozen
from tongban.privacy.crypto import person_ref

DEMO_PASSWORD = "Demo@2026"
MA_ID_NUMBER = "640425199003159981"  # applicant_ma of the demo county (fictional)
MORNING = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)


def token(client: TestClient, username: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def story(demo_db: str) -> dict[str, Any]:
    """The window clerk reads 201 persons one morning (马晓燕 among them); a reviewer reads her."""
    with transaction(demo_db) as s:
        clerk = access_service.actor_by_username(s, "clerk")
        reviewer = access_service.actor_by_username(s, "reviewer_mzj")
        ma = access_service.actor_by_username(s, "applicant_ma")
        assert clerk and reviewer and ma
        ma_ref = person_ref(MA_ID_NUMBER)
        with frozen(MORNING):
            audit_service.record_many(
                s,
                actor=clerk,
                accesses=[
                    Access(action="read", subject_kind="case", subject_ref=f"C{i}", person_ref=ref)
                    for i, ref in enumerate([ma_ref, *(f"p{i}" for i in range(200))])
                ],
            )
        with frozen(MORNING + timedelta(hours=2)):
            audit_service.record(
                s,
                actor=reviewer,
                access=Access(
                    action="unmask",
                    subject_kind="case",
                    subject_ref="C0",
                    person_ref=ma_ref,
                    fields=("case.applicant_id_number",),
                    purpose_code="identity_check",
                    purpose_text="核对户籍信息",
                    related=True,
                ),
            )
            audit_service.record(  # her own look at her case is not listed to her
                s,
                actor=ma,
                access=Access(action="read", subject_kind="case", person_ref=ma_ref),
            )
    return {"ma_ref": ma_ref}


def test_auditor_lists_alerts_by_status(client: TestClient, story: dict[str, Any]) -> None:
    headers = token(client, "auditor")
    page = client.get("/api/v1/audit/alerts", headers=headers).json()
    assert page["total"] == 1
    [alert] = page["items"]
    assert (alert["rule"], alert["rule_label"], alert["severity"]) == (
        "bulk_read",
        "批量读取",
        "high",
    )
    assert (alert["actor_username"], alert["details"]["count"]) == ("clerk", 201)
    assert page["counts"] == {"open": 1}
    closed = client.get("/api/v1/audit/alerts", params={"status": "closed"}, headers=headers)
    assert closed.json()["total"] == 0
    bad = client.get("/api/v1/audit/alerts", params={"status": "gone"}, headers=headers)
    assert bad.status_code == 422


def test_auditor_acknowledges_then_closes_with_a_note(
    client: TestClient, story: dict[str, Any]
) -> None:
    headers = token(client, "auditor")
    [alert] = client.get("/api/v1/audit/alerts", headers=headers).json()["items"]
    url = f"/api/v1/audit/alerts/{alert['id']}"
    acknowledged = client.post(url, json={"status": "acknowledged"}, headers=headers)
    assert acknowledged.status_code == 200
    assert acknowledged.json()["resolved_by"] == "auditor"
    no_note = client.post(url, json={"status": "closed"}, headers=headers)
    assert (no_note.status_code, no_note.json()["error"]["code"]) == (422, "alert_note_required")
    closed = client.post(url, json={"status": "closed", "note": "系当日批量复核"}, headers=headers)
    assert closed.status_code == 200
    assert closed.json()["resolution_note"] == "系当日批量复核"
    again = client.post(url, json={"status": "acknowledged"}, headers=headers)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "alert_status_conflict")
    missing = client.post("/api/v1/audit/alerts/999999", json={"status": "closed", "note": "无"})
    assert missing.status_code == 401
    assert (
        client.post(
            "/api/v1/audit/alerts/999999",
            json={"status": "closed", "note": "无此告警"},
            headers=headers,
        ).status_code
        == 404
    )
    history = client.get("/api/v1/audit/accounts/auditor/accesses", headers=headers).json()
    assert [e["action"] for e in history["items"]][-2:] == ["alert_closed", "alert_acknowledged"]


def test_an_accounts_history_newest_first(client: TestClient, story: dict[str, Any]) -> None:
    headers = token(client, "auditor")
    response = client.get(
        "/api/v1/audit/accounts/reviewer_mzj/accesses", params={"size": 5}, headers=headers
    )
    assert response.status_code == 200
    history = response.json()
    assert (history["username"], history["role"], history["total"]) == (
        "reviewer_mzj",
        "reviewer",
        1,
    )
    [entry] = history["items"]
    assert (entry["action"], entry["purpose_code"], entry["related"]) == (
        "unmask",
        "identity_check",
        True,
    )
    clerk = client.get("/api/v1/audit/accounts/clerk/accesses", headers=headers).json()
    assert (clerk["total"], len(clerk["items"])) == (201, 50)
    unknown = client.get("/api/v1/audit/accounts/nobody_here/accesses", headers=headers)
    assert unknown.status_code == 404


def test_status_shows_head_checkpoints_and_verifications(
    client: TestClient, demo_db: str, story: dict[str, Any]
) -> None:
    with transaction(demo_db) as s:
        s.add(AuditVerification(tree_size=203, ok=True, problem="", seconds=0.4))
        s.add(
            AuditCheckpoint(
                tree_size=100, root_hash="ab" * 32, algorithm="ed25519", key_id="k1", signature="s"
            )
        )
    status = client.get("/api/v1/audit/status", headers=token(client, "auditor")).json()
    assert status["tree_size"] >= 203
    assert status["verifications"][0]["tree_size"] == 203
    assert status["verifications"][0]["ok"] is True
    assert 100 in [c["tree_size"] for c in status["checkpoints"]]
    assert status["alerts"] == {"open": 1}


def test_applicant_sees_who_used_her_data(client: TestClient, story: dict[str, Any]) -> None:
    response = client.get("/api/v1/me/data-accesses", headers=token(client, "applicant_ma"))
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 2  # the clerk and the reviewer; not her own look
    newest, oldest = page["items"]
    assert newest["actor_name"] != "演示审批员（民政局）"
    assert newest["actor_name"].startswith("演")  # the surname kept, the rest masked
    assert "*" in newest["actor_name"]
    assert (newest["role_label"], newest["action_label"], newest["purpose_label"]) == (
        "部门审批人员",
        "查看明文",
        "核验申请人身份",
    )
    assert newest["department_name"] == "彭阳县民政局"
    assert newest["field_labels"] == ["申请人身份证件号码/统一社会信用代码"]
    assert newest["purpose_text"] == "核对户籍信息"
    assert (oldest["role_label"], oldest["department_name"]) == ("窗口人员", "政务服务中心")
    other = client.get("/api/v1/me/data-accesses", headers=token(client, "applicant_li")).json()
    assert other["total"] == 0


@pytest.mark.parametrize("username", ["clerk", "reviewer_mzj", "admin", "applicant_ma"])
def test_auditor_endpoints_are_for_auditors_only(
    client: TestClient, story: dict[str, Any], username: str
) -> None:
    headers = token(client, username)
    for method, url in (
        ("GET", "/api/v1/audit/alerts"),
        ("POST", "/api/v1/audit/alerts/1"),
        ("GET", "/api/v1/audit/accounts/clerk/accesses"),
        ("GET", "/api/v1/audit/status"),
    ):
        body = {"status": "closed", "note": "自行关闭"} if method == "POST" else None
        response = client.request(method, url, json=body, headers=headers)
        assert response.status_code == 403, (username, url)


def test_data_accesses_are_for_applicants_only(client: TestClient, story: dict[str, Any]) -> None:
    assert client.get("/api/v1/me/data-accesses").status_code == 401
    for username in ("clerk", "auditor"):
        response = client.get("/api/v1/me/data-accesses", headers=token(client, username))
        assert (response.status_code, response.json()["error"]["code"]) == (403, "applicants_only")
