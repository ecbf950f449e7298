"""Helpers for the web tests: demo logins, CSRF tokens, a tiny PDF."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

DEMO_PASSWORD = "Demo@2026"
# A minimal but real PDF: the upload check reads the magic bytes, not the name.
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
DIBAO_CODE = "11640425MB00010TBR051008000100001"  # 最低生活保障申请 (民政局)
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def csrf(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text[:500]
    match = _TOKEN.search(page.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def login(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> str:
    """Sign in and return the page the role lands on."""
    token = csrf(client, "/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
    return response.headers["location"]


def logout(client: TestClient) -> None:
    token = csrf(client, "/")
    client.post("/logout", data={"csrf_token": token}, follow_redirects=False)


def dibao_form(client: TestClient, **overrides: str) -> dict[str, str]:
    """A complete, valid 低保 application as the browser would post it."""
    page = client.get(f"/apply/{DIBAO_CODE}")
    assert page.status_code == 200, page.text[:500]
    token = _TOKEN.search(page.text)
    key = _KEY.search(page.text)
    assert token and key
    data = {
        "csrf_token": token.group(1),
        "idempotency_key": key.group(1),
        "applicant_name": "马晓燕",
        "applicant_id_number": "640425199003159981",
        "applicant_phone": "13900000001",
        "household_size": "3",
        "monthly_income_yuan": "1200",
        "reason": "家庭收入低于当地低保标准",
        "township": "白阳镇",
    }
    data.update(overrides)
    return data


def dibao_files(session_materials: list[int] | None = None) -> dict[str, tuple[str, bytes, str]]:
    """Files for the two materials that must be uploaded (M01 申请书, M03 授权书)."""
    ids = session_materials or []
    return {f"material_{i}": (f"材料{i}.pdf", PDF, "application/pdf") for i in ids}


def material_ids(page_html: str) -> list[int]:
    """The requirement ids of the file inputs on an application page."""
    return [int(m) for m in re.findall(r'type="file" id="f-material_(\d+)"', page_html)]
