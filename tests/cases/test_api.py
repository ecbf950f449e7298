"""The cases API on both databases: happy path, scope, and every kind of bad input."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from support import PASSWORD, PDF, item_named, make_user, person_id, sample_form
from tongban.cases import service as case_service
from tongban.cases.models import Case, Upload
from tongban.db import session_factory, transaction


def token(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def setup_people(db: str) -> dict[str, Any]:
    with transaction(db) as s:
        item = item_named(s, "个体工商户")
        people = {
            "applicant": make_user(s, "applicant", id_number=person_id(3), display_name="李四"),
            "other": make_user(s, "applicant", id_number=person_id(4)),
            "clerk": make_user(s, "clerk", region_code="640425"),
            "far_clerk": make_user(s, "clerk", region_code="640402"),
            "reviewer": make_user(s, "reviewer", department_code=item.department_code),
        }
        other_dept = next(d for d in _departments(s) if d != item.department_code)
        people["other_reviewer"] = make_user(s, "reviewer", department_code=other_dept)
    return {"item": item, **people}


def _departments(s: Any) -> list[str]:
    from tongban.regions import service as regions_service

    return [d.code for d in regions_service.list_departments(s, region_code="640425")]


def count(db: str, model: type) -> int:
    with session_factory(db)() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def new_application(client: TestClient, auth: dict[str, str], item: Any) -> dict[str, Any]:
    materials = []
    for m in item.materials:
        if case_service.must_upload(m):
            up = client.post(
                "/api/v1/uploads",
                headers=auth,
                files={"file": ("证明.pdf", PDF + m.code.encode(), "application/pdf")},
            )
            assert up.status_code == 201, up.text
            materials.append({"requirement_id": m.id, "upload_id": up.json()["upload_id"]})
    return {
        "item_code": item.code,
        "applicant": {"name": "李四", "id_number": person_id(3), "phone": "13900001111"},
        "form": sample_form([item]),
        "materials": materials,
    }


def test_submit_accept_review_over_the_api(client: TestClient, demo_db: str) -> None:
    p = setup_people(demo_db)
    item = p["item"]
    auth = token(client, p["applicant"].username)
    body = new_application(client, auth, item)
    response = client.post("/api/v1/cases", json=body, headers={**auth, "Idempotency-Key": "k-1"})
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["case_no"].startswith("640425-")
    # The applicant reads their own data plain; staff see it masked (below).
    assert case["applicant_id_number"] == person_id(3)
    assert case["applicant_id_visibility"] == "plain"

    # Replaying the same request returns the same case, not a second one.
    again = client.post("/api/v1/cases", json=body, headers={**auth, "Idempotency-Key": "k-1"})
    assert again.json()["case_no"] == case["case_no"]
    assert count(demo_db, Case) == 1

    # Scope: other applicants, far-away clerks and other departments see nothing.
    for who in ("other", "far_clerk", "other_reviewer"):
        seen = client.get(
            f"/api/v1/cases/{case['case_no']}", headers=token(client, p[who].username)
        )
        assert seen.status_code == 404, who
        assert seen.json()["error"]["code"] == "case_not_found"

    clerk = token(client, p["clerk"].username)
    queue = client.get("/api/v1/workbench/queue", headers=clerk).json()
    assert [c["case_no"] for c in queue["items"]] == [case["case_no"]]
    assert queue["items"][0]["applicant_name"] == "李*"
    seen = client.get(f"/api/v1/cases/{case['case_no']}", headers=clerk).json()
    assert seen["applicant_id_number"] == person_id(3)[:6] + "********" + person_id(3)[-4:]
    assert seen["applicant_id_visibility"] == "masked"
    assert person_id(3) not in json.dumps(seen) and "13900001111" not in json.dumps(seen)
    # The applicant cannot accept their own case.
    denied = client.post(
        f"/api/v1/cases/{case['case_no']}/actions",
        headers=auth,
        json={"action": "accept", "version": case["version"]},
    )
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "role_not_allowed"
    # The clerk holds the paper of whatever shared data could not confirm.
    paper = [v["id"] for v in case["verifications"] if v["ask_for_paper"]]
    accepted = client.post(
        f"/api/v1/cases/{case['case_no']}/actions",
        headers=clerk,
        json={"action": "accept", "version": case["version"], "payload": {"paper_checked": paper}},
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "in_review"
    # A stale version is a conflict.
    stale = client.post(
        f"/api/v1/cases/{case['case_no']}/actions",
        headers=clerk,
        json={"action": "withdraw", "version": case["version"]},
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"

    reviewer = token(client, p["reviewer"].username)
    tasks = client.get("/api/v1/workbench/queue", headers=reviewer).json()["items"]
    assert tasks and tasks[0]["case_no"] == case["case_no"]
    progress = client.get(
        "/api/v1/progress", params={"case_no": case["case_no"], "code": case["query_code"]}
    )
    assert progress.status_code == 200
    assert "李四" not in progress.text and progress.json()["applicant_name_masked"] == "李*"
    wrong = client.get("/api/v1/progress", params={"case_no": case["case_no"], "code": "XXXXXX"})
    assert wrong.status_code == 404


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"] and error["message_en"]


def test_bad_input_is_refused_and_nothing_is_stored(client: TestClient, demo_db: str) -> None:
    p = setup_people(demo_db)
    item = p["item"]
    auth = token(client, p["applicant"].username)
    good = new_application(client, auth, item)
    uploads_before = count(demo_db, Upload)

    def post(body: Any, **headers: str) -> Any:
        return client.post("/api/v1/cases", json=body, headers={**auth, **headers})

    bad_id = json.loads(json.dumps(good))
    bad_id["applicant"]["id_number"] = person_id(3)[:-1] + ("0" if person_id(3)[-1] != "0" else "1")
    assert_error(post(bad_id), 422, "invalid_id_number")
    assert_error(post({**good, "item_code": "NO-SUCH-ITEM"}), 404, "item_not_found")
    required = item.form_schema.get("required", [])
    assert required, "the demo item declares required form fields"
    missing_field = {**good, "form": {k: v for k, v in good["form"].items() if k != required[0]}}
    response = post(missing_field)
    assert_error(response, 422, "invalid_form")
    assert required[0] in json.dumps(response.json()["error"]["details"], ensure_ascii=False)
    assert_error(post({**good, "materials": []}), 422, "missing_material")
    assert_error(post({**good, "item_code": None}), 422, "invalid_request")
    malformed = client.post(
        "/api/v1/cases",
        content=b'{"item_code": ',
        headers={**auth, "content-type": "application/json"},
    )
    assert_error(malformed, 400, "malformed_json")
    huge = client.post(
        "/api/v1/cases",
        content=b"x" * (13 * 1024 * 1024),
        headers={**auth, "content-type": "application/json"},
    )
    assert_error(huge, 413, "body_too_large")
    assert count(demo_db, Case) == 0

    first = post(good, **{"Idempotency-Key": "same-key"})
    assert first.status_code == 201
    changed = {**good, "form": {**good["form"]}, "channel": "online"}
    changed["applicant"] = {**good["applicant"], "name": "王五"}
    assert_error(post(changed, **{"Idempotency-Key": "same-key"}), 422, "idempotency_key_reused")
    assert count(demo_db, Case) == 1

    # Wrong state: a submitted case cannot be closed.
    case_no = first.json()["case_no"]
    clerk = token(client, p["clerk"].username)
    wrong_state = client.post(
        f"/api/v1/cases/{case_no}/actions", headers=clerk, json={"action": "close"}
    )
    assert_error(wrong_state, 409, "action_not_allowed_in_state")
    unknown = client.post(
        f"/api/v1/cases/{case_no}/actions", headers=clerk, json={"action": "launch"}
    )
    assert_error(unknown, 422, "unknown_action")
    refuse = client.post(
        f"/api/v1/cases/{case_no}/actions", headers=clerk, json={"action": "refuse"}
    )
    assert_error(refuse, 422, "note_required")

    # Uploads: content decides the type, and size is limited.
    exe = client.post(
        "/api/v1/uploads",
        headers=auth,
        files={"file": ("scan.pdf", b"MZ\x90\x00" + b"\x00" * 512, "application/pdf")},
    )
    assert_error(exe, 415, "unsupported_file_type")
    elf = client.post(
        "/api/v1/uploads",
        headers=auth,
        files={"file": ("scan.pdf", b"\x7fELF" + b"\x00" * 512, "application/pdf")},
    )
    assert_error(elf, 415, "unsupported_file_type")
    big = client.post(
        "/api/v1/uploads",
        headers=auth,
        files={"file": ("big.pdf", PDF + b"0" * (10 * 1024 * 1024), "application/pdf")},
    )
    assert_error(big, 413, "file_too_large")
    assert count(demo_db, Upload) == uploads_before
    with session_factory(demo_db)() as s:
        names = set(s.scalars(select(Upload.filename)))
    assert "scan.pdf" not in names and "big.pdf" not in names


def test_authentication_errors(client: TestClient) -> None:
    assert_error(client.get("/api/v1/cases"), 401, "unauthenticated")
    bad = client.post("/api/v1/auth/token", json={"username": "nobody", "password": "x"})
    assert_error(bad, 401, "bad_credentials")
    forged = client.get("/api/v1/cases", headers={"Authorization": "Bearer forged.token.value"})
    assert_error(forged, 401, "unauthenticated")
