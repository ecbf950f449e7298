"""Privileged actions leave an entry in the access log: who changed the catalog, the
calendar or the accounts, and when (the command line shows as no account)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from support import PASSWORD, item_named, make_user
from tongban.audit.models import AuditEntry
from tongban.catalog.schemas import ItemCreate, MaterialCreate
from tongban.db import transaction
from tongban.workdays import service as workdays_service

CALENDAR_2027 = Path(__file__).parents[2] / "src/tongban/demo/calendar-2027.toml"


def _entries(url: str, action: str) -> list[AuditEntry]:
    with transaction(url) as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_an_admin_saving_an_item_is_recorded_with_the_admin(
    client: TestClient, demo_db: str
) -> None:
    with transaction(demo_db) as s:
        admin = make_user(s, "admin", region_code="640425")
        item = item_named(s, "最低生活保障")
    token = client.post(
        "/api/v1/auth/token", json={"username": admin.username, "password": PASSWORD}
    ).json()["access_token"]
    before = len(_entries(demo_db, "catalog.item.save"))
    body = client.get(f"/api/v1/items/{item.code}").json()
    data = {key: value for key, value in body.items() if key in ItemCreate.model_fields}
    data["guide"] = body["guide"] + "（已更新）"
    data["materials"] = [
        {k: v for k, v in m.items() if k in MaterialCreate.model_fields} for m in body["materials"]
    ]
    response = client.post("/api/v1/items", json=data, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 201), response.text
    saved = _entries(demo_db, "catalog.item.save")
    assert len(saved) == before + 1
    assert (saved[-1].actor_username, saved[-1].subject_ref) == (admin.username, item.code)


def test_unchanged_items_leave_no_entry(demo_db: str) -> None:
    from tongban.catalog import service as catalog_service

    with transaction(demo_db) as s:
        item = item_named(s, "最低生活保障")
    before = len(_entries(demo_db, "catalog.item.save"))
    with transaction(demo_db) as s:
        data = ItemCreate.model_validate(item.model_dump())
        catalog_service.upsert_item(s, data=data)
    assert len(_entries(demo_db, "catalog.item.save")) == before


def test_loading_a_calendar_and_creating_an_account_are_recorded(demo_db: str) -> None:
    with transaction(demo_db) as s:
        workdays_service.load_file(s, path=CALENDAR_2027)
        clerk = make_user(s, "clerk", region_code="640425")
    loaded = _entries(demo_db, "workdays.load")[-1]
    assert (loaded.subject_kind, loaded.subject_ref, loaded.actor_role) == (
        "calendar",
        "2027",
        "anonymous",
    )
    created = _entries(demo_db, "users.create")[-1]
    assert (created.subject_kind, created.subject_ref) == ("user", clerk.username)
