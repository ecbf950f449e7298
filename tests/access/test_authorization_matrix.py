"""Every API endpoint × every role × in-scope / out-of-scope record → the expected status.

The endpoint list comes from the app's own route table (its OpenAPI paths), so a
new endpoint without a rule here fails this test.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from support import PASSWORD, act, applicant, clerk, item_named, make_user, submit
from tongban.db import transaction

ROLES = (
    "anon",
    "owner",
    "stranger",
    "clerk",
    "far_clerk",
    "reviewer",
    "other_reviewer",
    "admin",
    "auditor",
)
STAFF = {"clerk": 200, "far_clerk": 200, "reviewer": 200, "other_reviewer": 200, "admin": 200}
SIGNED_IN = {"owner": 200, "stranger": 200, "auditor": 200, **STAFF}
EVERYONE_200 = {role: 200 for role in ROLES}
# In scope for the case: its applicant, the center's clerk and admin, the reviewer whose
# department has a task in it. Out of scope: 404, so that existence does not leak.
CASE_SCOPE = {
    "owner": 200,
    "clerk": 200,
    "reviewer": 200,
    "admin": 200,
    "stranger": 404,
    "far_clerk": 404,
    "other_reviewer": 404,
    "anon": 401,
    "auditor": 403,  # the security auditor reads the access log, never the cases
}


def _with(base: dict[str, int], **changes: int) -> dict[str, int]:
    return {**base, **changes}


ADMIN_422 = {**dict.fromkeys(ROLES, 403), "anon": 401, "admin": 422}
SIGNED_IN_422 = {**dict.fromkeys(ROLES, 422), "anon": 401}
WINDOW_422 = _with(dict.fromkeys(ROLES, 403), anon=401, clerk=422, far_clerk=422)


# "METHOD path" → (request builder, expected status per role)
RULES: dict[str, tuple[str, dict[str, int]]] = {
    "POST /api/v1/auth/token": ("bad_login", dict.fromkeys(ROLES, 401)),
    "GET /api/v1/auth/me": ("plain", {**SIGNED_IN, "anon": 401}),
    "GET /api/v1/items": ("plain", EVERYONE_200),
    "POST /api/v1/items": ("empty_json", _with(dict.fromkeys(ROLES, 403), anon=401, admin=422)),
    "GET /api/v1/items/{code}": ("plain", EVERYONE_200),
    "GET /api/v1/bundles": ("plain", EVERYONE_200),
    "GET /api/v1/bundles/{code}": ("plain", EVERYONE_200),
    "GET /api/v1/departments": ("plain", EVERYONE_200),
    "POST /api/v1/uploads": (
        "no_file",
        _with(
            dict.fromkeys(ROLES, 403), anon=401, owner=422, stranger=422, clerk=422, far_clerk=422
        ),
    ),
    "POST /api/v1/cases": (
        "empty_json",
        _with(
            dict.fromkeys(ROLES, 403), anon=401, owner=422, stranger=422, clerk=422, far_clerk=422
        ),
    ),
    "GET /api/v1/cases": ("plain", {**SIGNED_IN, "anon": 401, "auditor": 403}),
    "GET /api/v1/cases/{case_no}": ("plain", CASE_SCOPE),
    "POST /api/v1/cases/{case_no}/actions": (
        "unknown_action",
        {role: 422 if status == 200 else status for role, status in CASE_SCOPE.items()},
    ),
    # The policy hides material files from the centre's admin (upload.content).
    "GET /api/v1/cases/{case_no}/materials/{material_id}": ("plain", _with(CASE_SCOPE, admin=403)),
    "GET /api/v1/cases/export": (
        "plain",
        _with(dict.fromkeys(ROLES, 403), anon=401, clerk=200, far_clerk=200, admin=200),
    ),
    # Unmasking needs privacy.unmask and a case tied to the reader's work.
    "POST /api/v1/cases/{case_no}/unmask": (
        "unmask",
        _with(CASE_SCOPE, owner=403, stranger=403, admin=403),
    ),
    "GET /api/v1/progress": ("progress", EVERYONE_200),
    "GET /api/v1/workbench/queue": (
        "plain",
        {**STAFF, "owner": 403, "stranger": 403, "anon": 401, "auditor": 403},
    ),
    "GET /api/v1/workbench/queues": (
        "plain",
        {**STAFF, "owner": 403, "stranger": 403, "anon": 401, "auditor": 403},
    ),
    # The case is under review: no decision document yet (409) for those who may read it;
    # the centre's admin may not (the document names the applicant in full).
    "GET /api/v1/cases/{case_no}/decision-document": (
        "plain",
        {role: 409 if status == 200 else status for role, status in CASE_SCOPE.items()}
        | {"admin": 403},
    ),
    # Accounts: sign-up and reset take a body before anything (422); the account's own
    # pages need a sign-in; window staff register citizens and record delegations.
    "POST /api/v1/auth/phone-codes": ("empty_json", dict.fromkeys(ROLES, 422)),
    "POST /api/v1/auth/phone-codes/confirm": ("empty_json", dict.fromkeys(ROLES, 422)),
    "POST /api/v1/auth/register": ("empty_json", dict.fromkeys(ROLES, 422)),
    "POST /api/v1/auth/password-reset": ("empty_json", dict.fromkeys(ROLES, 422)),
    "POST /api/v1/me/password": ("empty_json", SIGNED_IN_422),
    "GET /api/v1/me/account": ("plain", {**SIGNED_IN, "anon": 401}),
    "POST /api/v1/me/identity": ("empty_json", SIGNED_IN_422),
    "GET /api/v1/me/enterprises": ("plain", {**SIGNED_IN, "anon": 401}),
    "POST /api/v1/me/enterprises": ("empty_json", SIGNED_IN_422),
    "POST /api/v1/me/enterprises/{credit_code}/unlink": (
        "plain",  # nobody is linked to it: nothing to do
        {**dict.fromkeys(ROLES, 204), "anon": 401},
    ),
    "GET /api/v1/me/delegations": ("plain", {**SIGNED_IN, "anon": 401}),
    "POST /api/v1/me/delegations": ("empty_json", SIGNED_IN_422),
    "POST /api/v1/delegations": ("empty_json", WINDOW_422),
    "POST /api/v1/delegations/{delegation_id}/revoke": (
        "plain",  # no delegation 999999
        {**dict.fromkeys(ROLES, 404), "anon": 401},
    ),
    "POST /api/v1/accounts/in-person": ("empty_json", WINDOW_422),
    "GET /api/v1/workdays/add": ("workdays", EVERYONE_200),
    "GET /api/v1/workdays/years": ("plain", EVERYONE_200),
    # The audit log is the security auditor's alone.
    "GET /api/v1/audit/alerts": ("plain", _with(dict.fromkeys(ROLES, 403), anon=401, auditor=200)),
    "POST /api/v1/audit/alerts/{alert_id}": (
        "close_alert",
        _with(dict.fromkeys(ROLES, 403), anon=401, auditor=404),  # no such alert
    ),
    "GET /api/v1/audit/accounts/{username}/accesses": (
        "plain",
        _with(dict.fromkeys(ROLES, 403), anon=401, auditor=200),
    ),
    "GET /api/v1/audit/status": ("plain", _with(dict.fromkeys(ROLES, 403), anon=401, auditor=200)),
    # 我的数据被谁用了: every applicant for their own data, no staff.
    "GET /api/v1/me/data-accesses": (
        "plain",
        _with(dict.fromkeys(ROLES, 403), anon=401, owner=200, stranger=200),
    ),
    # Data exchange: the registry, authorizations and statistics are the admin's (422: the
    # body is checked after the role); checks are for staff roles; consents for applicants.
    "GET /api/v1/exchange/providers": (
        "plain",
        _with(dict.fromkeys(ROLES, 403), anon=401, admin=200),
    ),
    "POST /api/v1/exchange/providers": ("empty_json", ADMIN_422),
    "POST /api/v1/exchange/providers/{code}/decision": ("empty_json", ADMIN_422),
    "POST /api/v1/exchange/providers/{code}/status": ("empty_json", ADMIN_422),
    "GET /api/v1/exchange/services/{service_code}/openapi": (
        "plain",  # the matrix's database registers no provider: 404 once allowed
        {
            **dict.fromkeys(ROLES, 403),
            "anon": 401,
            **dict.fromkeys(("clerk", "far_clerk", "reviewer", "other_reviewer", "admin"), 404),
        },
    ),
    "GET /api/v1/exchange/authorizations": (
        "plain",
        _with(dict.fromkeys(ROLES, 403), anon=401, admin=200),
    ),
    "POST /api/v1/exchange/authorizations": ("empty_json", ADMIN_422),
    "POST /api/v1/exchange/authorizations/{authorization_id}/revoke": ("empty_json", ADMIN_422),
    "GET /api/v1/exchange/consents": (
        "plain",
        _with(dict.fromkeys(ROLES, 403), anon=401, owner=200, stranger=200),
    ),
    "POST /api/v1/exchange/consents": (
        "empty_json",
        _with(dict.fromkeys(ROLES, 403), anon=401, owner=422, stranger=422),
    ),
    "POST /api/v1/exchange/consents/{consent_id}/revoke": (
        "plain",  # nobody's consent 999999: not found for applicants, refused for staff
        _with(dict.fromkeys(ROLES, 403), anon=401, owner=404, stranger=404),
    ),
    "POST /api/v1/exchange/checks": (
        "empty_json",
        _with(
            dict.fromkeys(ROLES, 403),
            anon=401,
            clerk=422,
            far_clerk=422,
            reviewer=422,
            other_reviewer=422,
        ),
    ),
    "GET /api/v1/exchange/stats": ("plain", _with(dict.fromkeys(ROLES, 403), anon=401, admin=200)),
    "GET /api/v1/exchange/node": ("plain", EVERYONE_200),
    # Process analysis (堵点) is the center admin's.
    "GET /api/v1/insight/bottlenecks": (
        "plain",
        _with(dict.fromkeys(ROLES, 403), anon=401, admin=200),
    ),
    "GET /api/v1/insight/process-map": (
        "plain",
        _with(dict.fromkeys(ROLES, 403), anon=401, admin=200),
    ),
    # Feedback: ratings by the applicant or the window (the world's case is not rated: 404);
    # follow-ups and appeals by the handling department and the center; complaints by
    # anyone (no complaint TS000000000000: 404; an empty body: 422 before any check).
    "POST /api/v1/cases/{case_no}/rating": (
        "empty_json",
        _with(
            dict.fromkeys(ROLES, 403), anon=401, owner=422, stranger=422, clerk=422, far_clerk=422
        ),
    ),
    "GET /api/v1/cases/{case_no}/rating": (
        "plain",
        {**dict.fromkeys(ROLES, 404), "anon": 401, "auditor": 403},
    ),
    "GET /api/v1/feedback/follow-ups": (
        "plain",
        _with(dict.fromkeys(ROLES, 403), anon=401, reviewer=200, other_reviewer=200, admin=200),
    ),
    "POST /api/v1/feedback/follow-ups/{follow_up_id}/actions": (
        "empty_json",
        _with(dict.fromkeys(ROLES, 403), anon=401, reviewer=422, other_reviewer=422, admin=422),
    ),
    "POST /api/v1/ratings/{rating_id}/appeal": (
        "empty_json",
        _with(dict.fromkeys(ROLES, 403), anon=401, reviewer=422, other_reviewer=422, admin=422),
    ),
    "POST /api/v1/ratings/{rating_id}/appeal/decision": ("empty_json", ADMIN_422),
    "POST /api/v1/complaints": ("empty_json", dict.fromkeys(ROLES, 422)),
    "GET /api/v1/complaints": ("plain", {**SIGNED_IN, "anon": 401}),
    "GET /api/v1/complaints/{complaint_no}": ("plain", dict.fromkeys(ROLES, 404)),
    "POST /api/v1/complaints/{complaint_no}/actions": ("empty_json", dict.fromkeys(ROLES, 422)),
    "GET /api/v1/feedback/stats": ("plain", _with(dict.fromkeys(ROLES, 403), anon=401, admin=200)),
    # Peer nodes authenticate by signature, not as users: an unsigned body is malformed.
    "POST /api/v1/exchange/requests": ("empty_json", dict.fromkeys(ROLES, 400)),
    # 我的消息 for everyone signed in (no message 999999: 404); failures and counts for the
    # centre's admin.
    "GET /api/v1/me/messages": ("plain", {**SIGNED_IN, "anon": 401}),
    "POST /api/v1/me/messages/{message_id}/read": (
        "plain",
        {**dict.fromkeys(ROLES, 404), "anon": 401},
    ),
    "GET /api/v1/notifications/failed": (
        "plain",
        _with(dict.fromkeys(ROLES, 403), anon=401, admin=200),
    ),
    "GET /api/v1/notifications/stats": (
        "plain",
        _with(dict.fromkeys(ROLES, 403), anon=401, admin=200),
    ),
    # An unknown user (ending a real one's sessions would end a token used here).
    "POST /api/v1/users/{username}/sessions/end": (
        "plain",
        _with(dict.fromkeys(ROLES, 403), anon=401, admin=404),
    ),
    "POST /api/v1/users/{username}/unlock": (
        "plain",
        _with(dict.fromkeys(ROLES, 403), anon=401, admin=404),
    ),
    # Last: it ends every session and token of the account that asks.
    "POST /api/v1/auth/sign-out-everywhere": ("plain", {**dict.fromkeys(ROLES, 204), "anon": 401}),
    # After it every token is dead, so logging out with one is refused too (a live logout:
    # tests/access/test_sessions.py).
    "POST /api/v1/auth/logout": ("plain", dict.fromkeys(ROLES, 401)),
}


@pytest.fixture
def world(client: TestClient, demo_db: str) -> dict[str, Any]:
    """A case under review at 民政局, and one account per role."""
    with transaction(demo_db) as s:
        item = item_named(s, "最低生活保障")
        owner = applicant(s, sequence=11)
        window = clerk(s)
        case = submit(s, owner, item_code=item.code)
        case = act(s, window, case, "accept")
        other_department = next(
            code
            for code in ("11640425MB00002TBX", "11640425MB00003TBK")
            if code != item.department_code
        )
        users = {
            "owner": owner,
            "stranger": applicant(s, sequence=12),
            "clerk": window,
            "far_clerk": make_user(s, "clerk", region_code="640402"),
            "reviewer": make_user(s, "reviewer", department_code=item.department_code),
            "other_reviewer": make_user(s, "reviewer", department_code=other_department),
            "admin": make_user(s, "admin", region_code="640425"),
            "auditor": make_user(s, "auditor", region_code="640425"),
        }
    headers: dict[str, dict[str, str]] = {"anon": {}}
    for role, actor in users.items():
        response = client.post(
            "/api/v1/auth/token", json={"username": actor.username, "password": PASSWORD}
        )
        headers[role] = {"Authorization": f"Bearer {response.json()['access_token']}"}
    return {
        "headers": headers,
        "params": {
            "code": item.code,
            "case_no": case.case_no,
            "material_id": str(case.materials[0].id),
            "alert_id": "999999",  # none: whether reads raised alerts depends on the hour
            "username": window.username,
            "service_code": "population.person_basic",
            "authorization_id": "999999",
            "consent_id": "999999",
            "follow_up_id": "999999",
            "rating_id": "999999",
            "complaint_no": "TS000000000000",
            "credit_code": "91640425MA76QY0010",
            "delegation_id": "999999",
            "message_id": "999999",
        },
        "query_code": case.query_code,
        "bundle": "qiye-kaiban",
    }


def _request(client: TestClient, world: dict[str, Any], key: str, role: str) -> int:
    method, path = key.split(" ", 1)
    kind, _ = RULES[key]
    params = dict(world["params"])
    if "bundles/{code}" in path:
        params["code"] = world["bundle"]
    if path.startswith("/api/v1/users/{username}"):
        params["username"] = "nobody-here"
    url = path.format(**params)
    headers = world["headers"][role]
    if kind == "bad_login":
        body = {"username": f"nobody_{role}", "password": "wrong1"}  # one try each: no lock-out
        return client.post(url, json=body).status_code
    if kind == "empty_json":
        return client.post(url, json={}, headers=headers).status_code
    if kind == "no_file":
        return client.post(url, data={"x": "1"}, headers=headers).status_code
    if kind == "close_alert":
        body = {"status": "closed", "note": "matrix"}
        return client.post(url, json=body, headers=headers).status_code
    if kind == "unknown_action":
        return client.post(url, json={"action": "no_such_action"}, headers=headers).status_code
    if kind == "unmask":
        body = {
            "fields": ["case.applicant_id_number"],
            "reason_code": "review",
            "reason_text": "核对申请信息",
        }
        return client.post(url, json=body, headers=headers).status_code
    query: dict[str, str] = {}
    if kind == "progress":
        query = {"case_no": params["case_no"], "code": world["query_code"]}
    if kind == "workdays":
        query = {"date": "2026-01-05", "n": "1"}
    return client.request(method, url, params=query, headers=headers).status_code


def test_every_endpoint_has_a_rule(client: TestClient) -> None:
    routes = {
        f"{method.upper()} {path}"
        for path, operations in client.app.openapi()["paths"].items()  # type: ignore[attr-defined]
        for method in operations
    }
    assert routes - RULES.keys() == set(), "new endpoint(s) without an authorization rule"
    assert RULES.keys() - routes == set(), "rules for endpoints that no longer exist"


def test_every_endpoint_for_every_role(client: TestClient, world: dict[str, Any]) -> None:
    problems = []
    for key, (_, expected) in RULES.items():
        for role in ROLES:
            status = _request(client, world, key, role)
            if status != expected.get(role):
                problems.append(f"{key} as {role}: {status}, expected {expected.get(role)}")
    assert problems == [], "\n".join(problems)
