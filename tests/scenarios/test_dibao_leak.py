"""The 低保 leak, replayed: a window clerk pages through 500 recipients of the minimum
living allowance to sell the list. The audit log raises a bulk-read alert naming the
clerk the moment the threshold is crossed, the export is refused, and the security
auditor sees it all — on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from support import application, make_user
from tongban.audit.models import AuditAlert, AuditEntry
from tongban.cases import service as case_service
from tongban.catalog import service as catalog_service
from tongban.config import get_settings
from tongban.db import transaction
from tongban.kit.clock import frozen, now
from tongban.kit.ids import make_id_number

DEMO_PASSWORD = "Demo@2026"
RECIPIENTS = 500
PAGE_SIZE = 100
FILING_DAYS = 25  # the township windows filed them over five weeks, 20 a day


def _dibao_code(session: Any) -> str:
    """最低生活保障申请, the 民政局 item, found in the demo catalog as a citizen would."""
    page = catalog_service.search_items(session, q="最低生活保障", size=10)
    [item] = [i for i in page.items if i.name == "最低生活保障申请"]
    return item.code


def _filing_days(count: int) -> list[datetime]:
    """9 am on the last ``count`` weekdays before today."""
    days: list[datetime] = []
    moment = now().replace(hour=1, minute=0, second=0, microsecond=0)  # 09:00 in Beijing
    while len(days) < count:
        moment -= timedelta(days=1)
        if moment.weekday() < 5:
            days.append(moment)
    return list(reversed(days))


@pytest.fixture
def recipients(demo_db: str) -> str:
    """500 households applied for 低保 at a township window over the past five weeks."""
    with transaction(demo_db) as s:
        code = _dibao_code(s)
        township_window = make_user(
            s, "clerk", region_code="640425", display_name="王洼镇便民服务中心窗口"
        )
        per_day = RECIPIENTS // FILING_DAYS
        for day_index, day in enumerate(_filing_days(FILING_DAYS)):
            for i in range(per_day):
                n = day_index * per_day + i
                identity = make_id_number("640425", date(1950 + n % 50, 1 + n % 12, 1 + n % 28), n)
                with frozen(day + timedelta(minutes=i)):
                    data = application(
                        s, township_window, item_code=code, id_number=identity, name=f"低保户{n}"
                    )
                    case_service.submit_case(s, actor=township_window, data=data)
    return code


def _token(client: TestClient, username: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _alerts_for(demo_db: str, username: str) -> list[AuditAlert]:
    with transaction(demo_db) as s:
        rows = s.scalars(
            select(AuditAlert).where(
                AuditAlert.actor_username == username, AuditAlert.rule == "bulk_read"
            )
        ).all()
        s.expunge_all()
        return list(rows)


def test_a_clerk_paging_through_500_dibao_recipients_is_caught(
    client: TestClient, demo_db: str, recipients: str
) -> None:
    assert get_settings().alert_bulk_persons == 200
    clerk = _token(client, "clerk")

    # The clerk pages through the list, 100 recipients a page. Two pages stay under
    # the threshold of 200 persons an hour.
    seen: set[str] = set()
    for page in (1, 2):
        listing = client.get(
            "/api/v1/cases",
            params={"item_code": recipients, "size": PAGE_SIZE, "page": page},
            headers=clerk,
        )
        assert listing.status_code == 200, listing.text
        body = listing.json()
        assert body["total"] == RECIPIENTS
        seen |= {c["case_no"] for c in body["items"]}
    assert len(seen) == 200
    assert _alerts_for(demo_db, "clerk") == []

    # The third page crosses it: the alert is there when the response arrives.
    third = client.get(
        "/api/v1/cases",
        params={"item_code": recipients, "size": PAGE_SIZE, "page": 3},
        headers=clerk,
    )
    assert third.status_code == 200
    [alert] = _alerts_for(demo_db, "clerk")
    assert (alert.actor_username, alert.actor_name) == ("clerk", "演示综合窗口")
    assert alert.severity == "high" and alert.status == "open"
    with transaction(demo_db) as s:
        crossing_read = s.scalars(
            select(AuditEntry.at)
            .where(AuditEntry.actor_username == "clerk", AuditEntry.action == "read")
            .order_by(AuditEntry.seq.desc())
        ).first()
    assert crossing_read is not None
    assert timedelta(0) <= alert.created_at - crossing_read < timedelta(minutes=1)

    # The clerk reads on to the end; still one alert, now counting all 500.
    for page in (4, 5):
        assert (
            client.get(
                "/api/v1/cases",
                params={"item_code": recipients, "size": PAGE_SIZE, "page": page},
                headers=clerk,
            ).status_code
            == 200
        )
    [alert] = _alerts_for(demo_db, "clerk")
    assert alert.details["count"] == RECIPIENTS

    # The export that would carry the list away is refused, and the refusal is logged.
    export = client.get("/api/v1/cases/export", params={"item_code": recipients}, headers=clerk)
    assert export.status_code == 403
    assert export.json()["error"]["code"] == "export_blocked"
    assert "text/csv" not in export.headers["content-type"]
    with transaction(demo_db) as s:
        exports = s.scalars(
            select(AuditEntry).where(
                AuditEntry.actor_username == "clerk", AuditEntry.action == "export"
            )
        ).all()
        assert [(e.result, e.person_ref) for e in exports] == [("refused", None)]

    # The security auditor sees the alert in the API and on the alerts page.
    auditor = _token(client, "auditor")
    listed = client.get("/api/v1/audit/alerts", params={"status": "open"}, headers=auditor).json()
    # (run at night, the clerk's reads also raise an off-hours alert: the bulk one is ours)
    bulk = [a for a in listed["items"] if a["rule"] == "bulk_read"]
    assert [(a["actor_username"], a["details"]["count"]) for a in bulk] == [("clerk", RECIPIENTS)]
    history = client.get("/api/v1/audit/accounts/clerk/accesses", headers=auditor).json()
    assert history["total"] == RECIPIENTS + 1  # every read, and the refused export
    assert history["items"][0]["result"] == "refused"

    client.headers["accept"] = "text/html"
    login_page = client.get("/login")
    token = login_page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post(
        "/login", data={"username": "auditor", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    page = client.get("/audit/alerts")
    assert page.status_code == 200
    assert "批量读取" in page.text and "演示综合窗口" in page.text
    assert f"{RECIPIENTS} 人" in page.text  # how far it went, not only where it crossed
