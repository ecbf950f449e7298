"""账号管理 (issue 11 §3): a center administrator who does not use curl finds a clerk
locked out after too many wrong passwords, lifts the lock, and ends every session of an
account whose phone was lost — both recorded in the audit log; other roles cannot."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from tongban.audit.models import AuditEntry
from tongban.db import session_factory
from web.webtools import DEMO_PASSWORD, csrf, login, logout


def _audited(url: str, action: str, username: str) -> bool:
    with session_factory(url)() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return any(entry.subject_ref == username for entry in entries)


def _lock_out(client: TestClient, username: str) -> None:
    wrong = {"username": username, "password": "wrong-pass1"}
    statuses = [client.post("/api/v1/auth/token", json=wrong).status_code for _ in range(6)]
    assert statuses[-1] == 429


def _post(web: TestClient, page: str, action: str) -> str:
    token = csrf(web, page)
    answer = web.post(action, data={"csrf_token": token}, follow_redirects=True)
    assert answer.status_code == 200, answer.text[:500]
    return answer.text


def test_an_admin_unlocks_a_locked_clerk_from_the_workbench(web: TestClient, demo_db: str) -> None:
    _lock_out(web, "clerk")
    login(web, "admin")
    page = web.get("/workbench/accounts?username=clerk")
    assert page.status_code == 200
    assert "已锁定" in page.text and "窗口人员" in page.text
    done = _post(web, "/workbench/accounts?username=clerk", "/workbench/accounts/clerk/unlock")
    assert "已解除该账号的登录锁定" in done and "未锁定" in done
    assert _audited(demo_db, "users.unlock", "clerk")
    answer = web.post("/api/v1/auth/token", json={"username": "clerk", "password": DEMO_PASSWORD})
    assert answer.status_code == 200


def test_an_admin_ends_every_session_of_an_account(web: TestClient, demo_db: str) -> None:
    token = web.post("/api/v1/auth/token", json={"username": "clerk", "password": DEMO_PASSWORD})
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert web.get("/api/v1/auth/me", headers=bearer).status_code == 200
    login(web, "admin")
    page = web.get("/workbench/accounts?username=clerk")
    assert re.search(r"有效会话</dt><dd>[1-9]", page.text), page.text[-2000:]
    done = _post(
        web, "/workbench/accounts?username=clerk", "/workbench/accounts/clerk/sessions/end"
    )
    assert "已结束该账号的全部会话" in done
    assert re.search(r"有效会话</dt><dd>0<", done)
    assert web.get("/api/v1/auth/me", headers=bearer).status_code == 401
    assert _audited(demo_db, "users.end_sessions", "clerk")


def test_an_unknown_account_is_named_and_other_roles_are_refused(web: TestClient) -> None:
    login(web, "admin")
    missing = web.get("/workbench/accounts?username=nobody-here")
    assert missing.status_code == 404 and "用户不存在" in missing.text
    logout(web)
    login(web, "clerk")
    assert web.get("/workbench/accounts?username=admin").status_code == 403
    token = csrf(web, "/workbench")
    refused = web.post("/workbench/accounts/admin/sessions/end", data={"csrf_token": token})
    assert refused.status_code == 403


def test_the_actions_need_the_forms_csrf_token(web: TestClient) -> None:
    login(web, "admin")
    refused = web.post("/workbench/accounts/clerk/sessions/end", data={})
    assert refused.status_code in (400, 403)
