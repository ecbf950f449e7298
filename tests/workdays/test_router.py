"""GET /api/v1/workdays/add and /api/v1/workdays/years (public)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tongban.kit.clock import frozen


@pytest.fixture
def api(clean_db: str) -> Iterator[TestClient]:
    from tongban.app import create_app

    with TestClient(create_app(clean_db)) as client:
        yield client


def test_add_within_an_official_year(api: TestClient) -> None:
    response = api.get("/api/v1/workdays/add", params={"date": "2026-09-30", "n": "1"})
    assert response.status_code == 200
    assert response.json() == {
        "date": "2026-10-08",
        "provisional": False,
        "source": "package",
        "years": {"2026": "package"},
    }


def test_add_into_a_provisional_year_is_flagged(api: TestClient) -> None:
    body = api.get("/api/v1/workdays/add?date=2026-12-31&n=1").json()
    assert body == {
        "date": "2027-01-04",
        "provisional": True,
        "source": "provisional",
        "years": {"2027": "provisional"},
    }


def test_zero_days(api: TestClient) -> None:
    body = api.get("/api/v1/workdays/add?date=2026-02-16&n=0").json()
    assert (body["date"], body["provisional"]) == ("2026-02-16", False)


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("date=2026-13-01&n=1", 422, "invalid_date"),
        ("date=20260301&n=1", 422, "invalid_date"),
        ("date=2026-03-01&n=-1", 422, "invalid_workday_count"),
        ("date=2026-03-01&n=1.5", 422, "invalid_workday_count"),
        ("date=2026-03-01&n=" + "9" * 5000, 422, "invalid_workday_count"),
        ("date=2026-03-01&n=99999", 422, "workday_count_out_of_range"),
        ("date=9999-12-30&n=5", 422, "workday_date_out_of_range"),
        ("date=2026-03-01", 422, "invalid_request"),
    ],
)
def test_bad_parameters(api: TestClient, query: str, status: int, code: str) -> None:
    response = api.get(f"/api/v1/workdays/add?{query}")
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"] and error["message_en"]


def test_years(api: TestClient) -> None:
    with frozen(datetime(2026, 6, 1, 4, 0, tzinfo=UTC)):
        body = api.get("/api/v1/workdays/years").json()
    assert body[0] == {"year": 2004, "source": "package"}
    assert body[-1] == {"year": 2028, "source": "provisional"}
    sources = {row["year"]: row["source"] for row in body}
    assert sources[2026] == "package"
    assert sources[2027] == "provisional"
    assert len(body) == 2028 - 2004 + 1
