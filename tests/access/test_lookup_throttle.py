"""Query-code lookups are throttled per address and per case or complaint (issue 11 §3):
wrong codes are counted before the code is compared, atomically; a refusal is a 429
with ``lookup_throttled`` and Retry-After; a right code gives its attempt back; new codes
are 8 of 32 symbols and an old 6-character code stored before still works."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update

from support import clerk, item_named, submit
from tongban.access.throttle import LOOKUP_LIMITS
from tongban.cases.models import Case
from tongban.db import transaction
from tongban.feedback.models import Complaint

COMPLAINT = {
    "category": "other",
    "target_kind": "platform",
    "text": "办事大厅的叫号屏不显示。",
    "contact_phone": "13912345678",
}


def _case(demo_db: str) -> tuple[str, str]:
    with transaction(demo_db) as s:
        case = submit(s, clerk(s), item_code=item_named(s, "个体工商户").code)
    return case.case_no, str(case.query_code)


def test_wrong_case_codes_are_throttled_per_case(client: TestClient, demo_db: str) -> None:
    case_no, code = _case(demo_db)
    assert len(code) == 8 and code.isalnum() and code.upper() == code
    limit = LOOKUP_LIMITS["lookup_subject"][0]
    # A right code does not use up the budget.
    for _ in range(limit + 2):
        found = client.get("/api/v1/progress", params={"case_no": case_no, "code": code})
        assert found.status_code == 200
    wrong = [
        client.get("/api/v1/progress", params={"case_no": case_no, "code": "ZZZZZZZZ"})
        for _ in range(limit + 1)
    ]
    assert [w.status_code for w in wrong] == [404] * limit + [429]
    refused = wrong[-1]
    assert refused.json()["error"]["code"] == "lookup_throttled"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    # Now even the right code waits: the case is being guessed.
    again = client.get("/api/v1/progress", params={"case_no": case_no, "code": code})
    assert again.status_code == 429


def test_an_address_guessing_many_cases_is_throttled(client: TestClient, demo_db: str) -> None:
    limit = LOOKUP_LIMITS["lookup_address"][0]
    statuses = [
        client.get(
            "/api/v1/progress", params={"case_no": f"640425-20260101-{n:06d}", "code": "ABCDEFGH"}
        ).status_code
        for n in range(limit + 1)
    ]
    assert statuses == [404] * limit + [429]


def test_old_six_character_codes_keep_working(client: TestClient, demo_db: str) -> None:
    case_no, _ = _case(demo_db)
    with transaction(demo_db) as s:
        s.execute(update(Case).where(Case.case_no == case_no).values(query_code="ABC234"))
    answer = client.get("/api/v1/progress", params={"case_no": case_no, "code": "abc234"})
    assert answer.status_code == 200


def test_complaint_codes_are_long_throttled_and_old_ones_work(
    client: TestClient, demo_db: str
) -> None:
    filed = client.post("/api/v1/complaints", json=COMPLAINT)
    assert filed.status_code == 201, filed.text
    number, code = filed.json()["complaint_no"], filed.json()["query_code"]
    assert len(code) == 8
    assert client.get(f"/api/v1/complaints/{number}", params={"code": code}).status_code == 200
    limit = LOOKUP_LIMITS["lookup_subject"][0]
    statuses = [
        client.get(f"/api/v1/complaints/{number}", params={"code": "00000000"}).status_code
        for _ in range(limit + 1)
    ]
    assert statuses == [404] * limit + [429]
    # A complaint filed before the codes grew keeps its 6 digits, and they still work.
    filed = client.post("/api/v1/complaints", json=COMPLAINT)
    number = filed.json()["complaint_no"]
    with transaction(demo_db) as s:
        s.execute(
            update(Complaint).where(Complaint.complaint_no == number).values(query_code="123456")
        )
    assert client.get(f"/api/v1/complaints/{number}", params={"code": "123456"}).status_code == 200
