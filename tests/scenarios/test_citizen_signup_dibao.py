"""Scenario: a new citizen signs up, is verified against the population register, applies
for 最低生活保障 without uploading identity documents, and receives the decision online.

Through the real API (FastAPI on the test database, both databases): the sign-up code
travels by e-mail through a real SMTP server on loopback; 实名认证 asks the demo's
公安人口库 through the exchange; the 民政局 reviewer sees the income and household size
the decision rests on without unmasking; the clerk finds the case in 待办结 and 待送达
without typing its number; the applicant's first download of the decision is the
送达回证.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from exchange_support import AID, county_session
from notify_support import SmtpSink, running_smtp_sink
from tongban.app import create_app
from tongban.demo.cases import SAMPLE_PDF
from tongban.demo.legacy import LegacySources, create_legacy_sources
from tongban.demo.legacy_people import ANCHORS
from tongban.kit.ids import is_valid_id_number
from tongban.notify import jobs as notify_jobs

PASSWORD = "Demo@2026"
PHONE = "13995400321"  # fictional
EMAIL = "citizen@mail.test"
FORM = {
    "household_size": 4,
    "monthly_income_yuan": 1280,
    "reason": "因病致贫",
    "township": "白阳镇",
}


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> LegacySources:
    return create_legacy_sources(tmp_path_factory.mktemp("legacy"), people=600)


@pytest.fixture
def api(demo_db: str, legacy: LegacySources) -> Iterator[TestClient]:
    with county_session(demo_db, legacy.directory), TestClient(create_app(demo_db)) as client:
        yield client


def residents(legacy: LegacySources, count: int) -> list[tuple[str, str]]:
    """(name, identity number) of 彭阳县 residents with one clean register entry each."""
    with sqlite3.connect(legacy.population) as db:
        rows = db.execute("SELECT XM, GMSFHM, HJDZ FROM RK_JBXX").fetchall()
    numbers = [str(r[1]) for r in rows]
    anchors = {p.id_number for p in ANCHORS}
    found = []
    for name, number, address in rows:
        number = str(number)
        if (
            number not in anchors
            and len(number) == 18
            and is_valid_id_number(number)
            and numbers.count(number) == 1
            and str(name) == str(name).strip()
            and "彭阳县" in str(address or "")
        ):
            found.append((str(name), number))
    assert len(found) >= count, "not enough clean residents in the demo register"
    return found[:count]


def token(client: TestClient, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def sign_up(client: TestClient, sink: SmtpSink, db: str, name: str, number: str) -> dict[str, str]:
    ok(
        client.post(
            "/api/v1/auth/phone-codes", json={"phone": PHONE, "purpose": "signup", "email": EMAIL}
        ),
        202,
    )
    notify_jobs.deliver_due(db)
    mail = sink.to(EMAIL)[-1]
    code = sink.code_in(mail)
    assert PHONE not in SmtpSink.text(mail)  # the number itself is never written out
    proof = ok(
        client.post(
            "/api/v1/auth/phone-codes/confirm",
            json={"phone": PHONE, "purpose": "signup", "code": code},
        )
    )
    account = ok(
        client.post(
            "/api/v1/auth/register",
            json={"phone_proof": proof["phone_proof"], "password": PASSWORD, "email": EMAIL},
        ),
        201,
    )
    auth = {"authorization": f"Bearer {account['access_token']}"}
    assert ok(client.get("/api/v1/me/account", headers=auth))["assurance_level"] == 1
    # A level-1 account cannot apply for 低保 yet.
    early = client.post("/api/v1/cases", json={"item_code": AID, "form": FORM}, headers=auth)
    assert early.status_code == 403 and early.json()["error"]["code"] == "assurance_level_too_low"
    verified = ok(
        client.post("/api/v1/me/identity", json={"name": name, "id_number": number}, headers=auth)
    )
    assert verified["assurance_level"] == 2
    assert verified["display_name"] == name
    return auth


def apply(client: TestClient, auth: dict[str, str], family: list[str]) -> dict[str, Any]:
    item = ok(client.get(f"/api/v1/items/{AID}"))
    materials = []
    for material in item["materials"]:
        if material["necessity"] == "required" and not (
            material["replaced_by"] or material["replaced_by_data"]
        ):
            upload = ok(
                client.post(
                    "/api/v1/uploads",
                    headers=auth,
                    files={"file": ("材料.pdf", SAMPLE_PDF, "application/pdf")},
                ),
                201,
            )
            materials.append({"requirement_id": material["id"], "upload_id": upload["upload_id"]})
    identity_cards = [m for m in item["materials"] if "居民身份证" in m["name"]]
    assert identity_cards and all(m["replaced_by_data"] for m in identity_cards)
    form = {**FORM, "family_members": "\n".join(family)}  # the three others in the household
    body = {"item_code": AID, "form": form, "materials": materials, "delivery": "electronic"}
    return dict(ok(client.post("/api/v1/cases", json=body, headers=auth), 201))


def messages(client: TestClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    return list(ok(client.get("/api/v1/me/messages", headers=auth))["items"])


def act(client: TestClient, auth: dict[str, str], case_no: str, action: str, **payload: Any) -> Any:
    case = ok(client.get(f"/api/v1/cases/{case_no}", headers=auth))
    body = {"action": action, "version": case["version"], "payload": payload}
    return ok(client.post(f"/api/v1/cases/{case_no}/actions", json=body, headers=auth))


def queue(client: TestClient, auth: dict[str, str], kind: str, **params: str) -> list[str]:
    page = ok(client.get("/api/v1/workbench/queue", params={"kind": kind, **params}, headers=auth))
    return [entry["case_no"] for entry in page["items"]]


def test_new_citizen_signs_up_applies_and_receives_the_decision(
    api: TestClient, demo_db: str, legacy: LegacySources
) -> None:
    (name, number), *family = residents(legacy, 4)
    with running_smtp_sink() as sink:
        citizen = sign_up(api, sink, demo_db, name, number)
        case = apply(api, citizen, [member for _, member in family])
        case_no = case["case_no"]
        # 家庭成员居民身份证: every member's 户籍 confirmed by the population register.
        checks = {v["requirement_name"]: v for v in case["verifications"]}
        assert checks["家庭成员居民身份证"]["outcome"] == "verified"
        assert checks["家庭成员居民身份证"]["source"] == "公安人口库"
        assert case["applicant_name"] == name and case["applicant_id_number"] == number

        clerk = token(api, "clerk")
        assert case_no in queue(api, clerk, "acceptance")
        act(api, clerk, case_no, "accept")
        notify_jobs.deliver_due(demo_db)
        accepted = [m for m in messages(api, citizen) if case_no in m["text"]]
        assert accepted and "受理" in accepted[0]["text"]
        assert number not in accepted[0]["text"]
        assert any(case_no in SmtpSink.text(m) for m in sink.to(EMAIL))

        # The 民政局 reviewer sees what the decision rests on, plain; the identity masked.
        reviewer = token(api, "reviewer_mzj")
        assert case_no in queue(api, reviewer, "tasks")
        seen = ok(api.get(f"/api/v1/cases/{case_no}", headers=reviewer))
        assert seen["form"]["monthly_income_yuan"] == 1280
        assert seen["form"]["household_size"] == 4
        assert seen["form_visibility"]["monthly_income_yuan"] == "plain"
        assert seen["applicant_id_visibility"] == "masked" and number not in str(seen)
        act(api, reviewer, case_no, "approve_task", task_id=seen["tasks"][0]["id"])
        assert case_no in queue(api, reviewer, "decide")
        act(api, reviewer, case_no, "decide", decision="approve")

        # The window finds it to close and to deliver, by channel, without typing its number.
        assert case_no in queue(api, clerk, "close")
        act(api, clerk, case_no, "close")
        assert case_no in queue(api, clerk, "deliver", channel="electronic")
        assert case_no not in queue(api, clerk, "deliver", channel="pickup")

        first = api.get(f"/api/v1/cases/{case_no}/decision-document", headers=citizen)
        assert first.status_code == 200 and first.content.startswith(b"%PDF")
        delivered = ok(api.get(f"/api/v1/cases/{case_no}", headers=citizen))
        assert delivered["state"] == "delivered"
        receipt = delivered["events"][-1]
        assert receipt["action"] == "receive_electronic"
        assert receipt["payload"]["method"] == "electronic"
        assert receipt["payload"]["document_sha256"]
        again = api.get(f"/api/v1/cases/{case_no}/decision-document", headers=citizen)
        assert again.content == first.content  # issued once, kept as issued
        after = ok(api.get(f"/api/v1/cases/{case_no}", headers=citizen))
        assert len(after["events"]) == len(delivered["events"])
        assert case_no not in queue(api, clerk, "deliver")
        notify_jobs.deliver_due(demo_db)
        texts = " ".join(m["text"] for m in messages(api, citizen))
        assert "送达" in texts or "下载" in texts
