"""Citizen accounts over the API: sign-up by phone code (the code read from the demo SMS
gateway after real delivery), sign-in by phone or identity number, throttles, password
reset, signing out everywhere, and registration in person at a window."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from notify_support import settings_env
from support import PASSWORD, clerk, make_user, person_id
from tongban.access.models import IdentityCheck, PhoneCode, User
from tongban.db import session_factory, transaction
from tongban.notify import jobs as notify_jobs

PHONE = "13995400123"  # fictional
NEW_PASSWORD = "Newpass2027"


@pytest.fixture
def api(client: TestClient) -> Iterator[TestClient]:
    with settings_env(sms_gateway="demo"):
        yield client


def latest_code(client: TestClient, db: str, phone: str = PHONE) -> str:
    """The code as the person would read it: delivered, then shown by the demo gateway."""
    notify_jobs.deliver_due(db)
    page = client.get("/demo/sms", headers={"accept": "text/html"}).text
    assert phone not in page  # the gateway page shows the number masked
    codes = re.findall(r"(?<!\d)(\d{6})(?!\d)", page)
    assert codes, "no code on the demo gateway page"
    return codes[0]  # newest first


def sign_up(client: TestClient, db: str, phone: str = PHONE) -> dict[str, str]:
    sent = client.post("/api/v1/auth/phone-codes", json={"phone": phone, "purpose": "signup"})
    assert sent.status_code == 202, sent.text
    code = latest_code(client, db, phone)
    proof = client.post(
        "/api/v1/auth/phone-codes/confirm", json={"phone": phone, "purpose": "signup", "code": code}
    )
    assert proof.status_code == 200, proof.text
    made = client.post(
        "/api/v1/auth/register",
        json={"phone_proof": proof.json()["phone_proof"], "password": PASSWORD},
    )
    assert made.status_code == 201, made.text
    return {"authorization": f"Bearer {made.json()['access_token']}"}


def token_for(client: TestClient, login: str, password: str = PASSWORD) -> int:
    return client.post(
        "/api/v1/auth/token", json={"username": login, "password": password}
    ).status_code


def test_sign_up_on_a_confirmed_number(api: TestClient, demo_db: str) -> None:
    auth = sign_up(api, demo_db)
    account = api.get("/api/v1/me/account", headers=auth).json()
    assert account["assurance_level"] == 1 and account["phone_masked"] == "139****0123"
    assert token_for(api, PHONE) == 200  # sign in with the mobile number
    # One account per number; the proof worked once.
    again = api.post("/api/v1/auth/phone-codes", json={"phone": PHONE, "purpose": "signup"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "phone_registered"
    with session_factory(demo_db)() as s:
        codes = list(s.scalars(select(PhoneCode)))
        assert codes and all(PHONE not in (c.code_hash or "") for c in codes)
        assert all(c.used_at is not None for c in codes)
        user = s.scalar(select(User).where(User.username == account["username"]))
        assert user is not None and user.phone == PHONE and user.phone_index
        checks = list(s.scalars(select(IdentityCheck).where(IdentityCheck.user_id == user.id)))
        assert [(c.level, c.method) for c in checks] == [(1, "phone_code")]


def test_bad_numbers_wrong_codes_and_too_many_codes(api: TestClient, demo_db: str) -> None:
    for bad in ("12345", "1399540012a", "23995400123", "+1 139 9540 0123"):
        answer = api.post("/api/v1/auth/phone-codes", json={"phone": bad, "purpose": "signup"})
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_phone", bad
    assert api.post("/api/v1/auth/phone-codes", json={"phone": "139 9540 0123"}).status_code == 202
    code = latest_code(api, demo_db)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1, 0):
        answer = api.post(
            "/api/v1/auth/phone-codes/confirm",
            json={"phone": PHONE, "purpose": "signup", "code": wrong},
        )
        assert answer.status_code == 422
        assert answer.json()["error"]["details"] == {"guesses_left": left}  # counted and kept
    # After five wrong guesses even the right code is refused.
    late = api.post(
        "/api/v1/auth/phone-codes/confirm", json={"phone": PHONE, "purpose": "signup", "code": code}
    )
    assert late.status_code == 422 and late.json()["error"]["code"] == "wrong_code"
    for _ in range(4):
        assert api.post("/api/v1/auth/phone-codes", json={"phone": PHONE}).status_code == 202
    throttled = api.post("/api/v1/auth/phone-codes", json={"phone": PHONE})
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "too_many_attempts"
    assert throttled.json()["error"]["details"]["retry_after_seconds"] > 0


def test_reset_password_and_sign_out_everywhere(api: TestClient, demo_db: str) -> None:
    auth = sign_up(api, demo_db)
    second_device = {"authorization": f"Bearer {token_value(api, PHONE)}"}
    assert api.get("/api/v1/auth/me", headers=second_device).status_code == 200
    # Signing out everywhere ends every token, this one included.
    assert api.post("/api/v1/auth/sign-out-everywhere", headers=auth).status_code == 204
    for headers in (auth, second_device):
        assert api.get("/api/v1/auth/me", headers=headers).status_code == 401
    # An unknown number is answered like a known one, and nothing is sent.
    assert (
        api.post(
            "/api/v1/auth/phone-codes", json={"phone": "13995400999", "purpose": "reset"}
        ).status_code
        == 202
    )
    fresh = {"authorization": f"Bearer {token_value(api, PHONE)}"}
    assert (
        api.post("/api/v1/auth/phone-codes", json={"phone": PHONE, "purpose": "reset"}).status_code
        == 202
    )
    code = latest_code(api, demo_db)
    proof = api.post(
        "/api/v1/auth/phone-codes/confirm", json={"phone": PHONE, "purpose": "reset", "code": code}
    ).json()["phone_proof"]
    weak = api.post("/api/v1/auth/password-reset", json={"phone_proof": proof, "password": "short"})
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    done = api.post(
        "/api/v1/auth/password-reset", json={"phone_proof": proof, "password": NEW_PASSWORD}
    )
    assert done.status_code == 204
    assert api.get("/api/v1/auth/me", headers=fresh).status_code == 401  # reset signs out too
    assert token_for(api, PHONE) == 401 and token_for(api, PHONE, NEW_PASSWORD) == 200
    reused = api.post(
        "/api/v1/auth/password-reset", json={"phone_proof": proof, "password": PASSWORD}
    )
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "phone_proof_invalid"


def token_value(client: TestClient, login: str, password: str = PASSWORD) -> str:
    answer = client.post("/api/v1/auth/token", json={"username": login, "password": password})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def test_a_window_registers_a_citizen_in_person(api: TestClient, demo_db: str) -> None:
    with transaction(demo_db) as s:
        window = clerk(s)
        make_user(s, "applicant", id_number=person_id(31), display_name="已有账号")
    staff = {"authorization": f"Bearer {token_value(api, window.username)}"}
    body = {
        "name": "马老汉",
        "id_number": person_id(30),
        "password": "Laohan2026",
        "place": "白阳镇便民服务站",
        "consent": "本人已知悉并同意当面核验身份并注册账号",
    }
    missing = api.post("/api/v1/accounts/in-person", json={**body, "consent": ""}, headers=staff)
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "consent_required"
    made = api.post("/api/v1/accounts/in-person", json=body, headers=staff)
    assert made.status_code == 201, made.text
    assert made.json()["assurance_level"] == 3
    assert token_for(api, person_id(30), "Laohan2026") == 200  # signs in with the ID number
    other = api.post(
        "/api/v1/accounts/in-person", json={**body, "id_number": person_id(31)}, headers=staff
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "identity_registered"
    with session_factory(demo_db)() as s:
        check = s.scalar(select(IdentityCheck).where(IdentityCheck.method == "in_person"))
        assert check is not None and check.checked_by_user_id == window.user_id
        assert check.place == "白阳镇便民服务站" and "同意" in check.consent
        assert (
            s.scalar(select(func.count()).select_from(User).where(User.assurance_level == 3)) == 1
        )
    citizen = {"authorization": f"Bearer {token_value(api, person_id(30), 'Laohan2026')}"}
    refused = api.post("/api/v1/accounts/in-person", json=body, headers=citizen)
    assert refused.status_code == 403
