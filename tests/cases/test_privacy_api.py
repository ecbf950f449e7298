"""The API's privacy surface: masked answers, unmask with a purpose, list filter, CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from support import (
    PASSWORD,
    act,
    applicant,
    clerk,
    item_named,
    make_user,
    person_id,
    reviewer_for,
    submit,
)
from tongban.audit.models import AuditAlert, AuditEntry
from tongban.config import get_settings
from tongban.db import session_factory, transaction

ID_FIELD = "case.applicant_id_number"


def auth(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def world(client: TestClient, demo_db: str) -> dict[str, Any]:
    """Three 低保 applications (one accepted by the clerk) and the staff around them."""
    with transaction(demo_db) as s:
        dibao = item_named(s, "最低生活保障")
        window = clerk(s)
        cases = [
            submit(s, applicant(s, n), item_code=dibao.code, id_number=person_id(n))
            for n in (41, 42, 43)
        ]
        act(s, window, cases[0], "accept")
        people = {
            "clerk": window,
            "reviewer": reviewer_for(s, dibao.department_code),
            "admin": make_user(s, "admin", region_code="640425"),
        }
    return {
        "item": dibao.code,
        "cases": [c.case_no for c in cases],
        "headers": {role: auth(client, actor.username) for role, actor in people.items()},
    }


def entries(db: str, **where: Any) -> list[AuditEntry]:
    with session_factory(db)() as s:
        query = select(AuditEntry).filter_by(**where).order_by(AuditEntry.seq)
        return list(s.scalars(query))


def test_unmask_over_the_api(client: TestClient, demo_db: str, world: dict[str, Any]) -> None:
    case_no = world["cases"][0]
    reviewer = world["headers"]["reviewer"]
    url = f"/api/v1/cases/{case_no}/unmask"
    body = {"fields": [ID_FIELD], "reason_code": "review", "reason_text": "核对申请人身份信息"}

    masked = client.get(f"/api/v1/cases/{case_no}", headers=reviewer).json()
    assert masked["applicant_id_number"] == f"640425********{person_id(41)[-4:]}"
    assert ID_FIELD in masked["unmaskable_fields"]

    plain = client.post(url, json=body, headers=reviewer)
    assert plain.status_code == 200, plain.text
    assert plain.json() == {"case_no": case_no, "values": {ID_FIELD: person_id(41)}}
    assert plain.headers["cache-control"] == "no-store"
    (unmasked,) = entries(demo_db, action="unmask")
    assert (unmasked.purpose_code, unmasked.purpose_text) == ("review", "核对申请人身份信息")

    again = client.get(f"/api/v1/cases/{case_no}", headers=reviewer).json()
    assert again["applicant_id_number"] == masked["applicant_id_number"]

    for bad, code in (
        ({**body, "reason_code": "curious"}, "unknown_unmask_reason"),
        ({**body, "reason_text": "看"}, "unmask_reason_too_short"),
        ({**body, "fields": ["case.no_such_field"]}, "unknown_field"),
    ):
        refused = client.post(url, json=bad, headers=reviewer)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == code
    notes = client.post(url, json={**body, "fields": ["case.notes"]}, headers=reviewer)
    assert notes.status_code == 422  # notes are not a field one unmasks: the scanner masks them
    admin = client.post(url, json=body, headers=world["headers"]["admin"])
    assert admin.status_code == 403
    # The clerk who accepted the case may ask too (privacy.unmask, and tied to their work).
    accepted = client.post(url, json=body, headers=world["headers"]["clerk"])
    assert accepted.status_code == 200
    assert len(entries(demo_db, action="unmask")) == 2


def _rows(response: Any) -> list[list[str]]:
    assert response.content.startswith("\ufeff".encode())  # BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_export_is_masked_and_recorded_per_case(
    client: TestClient, demo_db: str, world: dict[str, Any]
) -> None:
    clerk_headers = world["headers"]["clerk"]
    response = client.get(
        "/api/v1/cases/export", params={"item_code": world["item"]}, headers=clerk_headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = _rows(response)
    header, body = rows[0], rows[1:]
    assert header[:6] == ["办件编号", "事项", "状态", "申请人", "证件号码", "联系电话"]
    assert sorted(r[0] for r in body) == sorted(world["cases"])
    for row in body:
        assert row[3] == "王**" and row[4].startswith("640425********") and row[5] == "139****5678"
    for n in (41, 42, 43):
        assert person_id(n) not in response.text
    exported = entries(demo_db, action="export")
    assert sorted(e.subject_ref for e in exported) == sorted(world["cases"])
    assert all(e.person_ref and e.result == "ok" for e in exported)

    in_review = client.get(
        "/api/v1/cases/export", params={"state": "in_review"}, headers=clerk_headers
    )
    assert [r[0] for r in _rows(in_review)[1:]] == [world["cases"][0]]
    reviewer = client.get("/api/v1/cases/export", headers=world["headers"]["reviewer"])
    assert reviewer.status_code == 403
    listed = client.get(
        "/api/v1/cases", params={"item_code": world["item"], "size": 100}, headers=clerk_headers
    )
    assert listed.json()["total"] == 3


@pytest.fixture
def bulk_limit_of_two(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TONGBAN_ALERT_BULK_PERSONS", "2")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_an_export_past_the_bulk_limit_is_refused_and_the_refusal_is_kept(
    client: TestClient, demo_db: str, world: dict[str, Any], bulk_limit_of_two: None
) -> None:
    refused = client.get("/api/v1/cases/export", headers=world["headers"]["clerk"])
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "export_blocked"
    # Committed although the answer is an error: the refusal and the alert are on record.
    (refusal,) = entries(demo_db, action="export")
    assert refusal.result == "refused"
    with session_factory(demo_db)() as s:
        assert s.scalar(select(func.count()).select_from(AuditAlert)) >= 1
