"""Generated requests against the served OpenAPI document (schemathesis), on both databases.

Every API operation gets schemathesis' coverage cases (boundary and invalid values: NUL and
control characters, huge numbers, wrong types, missing fields …, deterministic) and
property-based cases, valid and invalid (Hypothesis, derandomized), each sent anonymously and
with a bearer token for every role. The app runs in-process (ASGI transport). Checked: no
response is a server error, and every response matches what the OpenAPI document says
(status code, content type, body schema — the errors too, ``{"error": {…}}``).

A second test sends positive data only (coverage and generated cases that conform to the
document), as the first identity the operation lets through: none may be refused for its form
— the document is at least as strict as the server — and every status answered must be
declared for its operation. ``TONGBAN_FUZZ_POSITIVE`` (default 6) sets its generated cases per
operation (and known record).

``TONGBAN_FUZZ_EXAMPLES`` (default 4) sets the property-based cases per operation and mode;
``TONGBAN_FUZZ_COVERAGE`` (default 16) caps the coverage cases per operation. Raise them for
a deeper run (``TONGBAN_FUZZ_EXAMPLES=50 TONGBAN_FUZZ_COVERAGE=1000``).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tongban.app import create_app
from tongban.kit.text import TEXT_ERROR_CODES

EXAMPLES = int(os.environ.get("TONGBAN_FUZZ_EXAMPLES", "4"))
COVERAGE = int(os.environ.get("TONGBAN_FUZZ_COVERAGE", "16"))
PASSWORD = "Demo@2026"
# One demo account per role; None: anonymous.
IDENTITIES: dict[str, str | None] = {
    "anonymous": None,
    "applicant": "applicant_ma",
    "clerk": "clerk",
    "reviewer": "reviewer_mzj",
    "admin": "admin",
    "auditor": "auditor",
}
EXCLUDED = {
    # Ends every session and token of the account: the role's later requests would all be
    # 401 and say nothing. Its refusal paths are tested in tests/access/test_accounts.py.
    "POST /api/v1/auth/sign-out-everywhere": "ends the token's session",
    # Signed messages between tongban nodes (tongban-exchange/1): a generated body is never
    # a valid signature, so every case would be the same refusal; the protocol, its
    # signatures and its refusals are tested in tests/exchange/test_nodes.py.
    "POST /api/v1/exchange/requests": "expects signed peer messages",
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Tally:
    requests: Counter[str] = field(default_factory=Counter)  # by identity
    statuses: Counter[str] = field(default_factory=Counter)  # 2xx, 4xx …
    failures: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def record(self, operation: str, identity: str, kind: str, example: str) -> None:
        key = (operation, identity, kind)
        self.failures[key] += 1
        self.examples.setdefault(key, example)


@pytest.fixture
def api(demo_db: str) -> Iterator[tuple[Any, dict[str, dict[str, str]]]]:
    """The demo county with its exchange providers and sample cases (in every state), so
    that generated requests also reach real records; the app, and a token per role."""
    from tongban import events
    from tongban.db import transaction
    from tongban.demo.cases import load_sample_cases
    from tongban.demo.exchange import load_exchange_demo

    events.register_handlers()
    with transaction(demo_db) as session:
        load_exchange_demo(session)
    with transaction(demo_db) as session:
        load_sample_cases(session)
    app = create_app(demo_db)
    headers: dict[str, dict[str, str]] = {}
    with TestClient(app) as client:
        for identity, username in IDENTITIES.items():
            if username is None:
                headers[identity] = {}
                continue
            response = client.post(
                "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            headers[identity] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        complaint = client.post(
            "/api/v1/complaints",
            json={
                "category": "other",
                "target_kind": "platform",
                "text": "页面加载太慢，希望改进。",
                "contact_phone": "13912345678",
            },
        )
        assert complaint.status_code == 201, complaint.text
        yield app, headers


def _known_records(url: str) -> dict[str, list[dict[str, Any]]]:
    """Path parameters naming real records, by path: generated requests reach them too."""
    from sqlalchemy import select

    from tongban.cases.models import Case, CaseMaterial
    from tongban.catalog.models import Bundle, ServiceItem
    from tongban.db import session_factory
    from tongban.exchange.models import (
        ExchangeAuthorization,
        ExchangeConsent,
        ExchangeProvider,
        ExchangeService,
    )
    from tongban.feedback.models import Complaint
    from tongban.notify.models import Notification

    with session_factory(url)() as s:
        states: dict[str, str] = {}
        for case in s.scalars(select(Case).order_by(Case.id)):
            states.setdefault(case.state, case.case_no)
        cases = [{"case_no": no} for no in list(states.values())[:3]]
        material = s.execute(
            select(Case.case_no, CaseMaterial.id).join(
                CaseMaterial, CaseMaterial.case_id == Case.id
            )
        ).first()
        first = {
            "item": s.scalar(select(ServiceItem.code).limit(1)),
            "bundle": s.scalar(select(Bundle.code).limit(1)),
            "complaint": s.scalar(select(Complaint.complaint_no).limit(1)),
            "message": s.scalar(select(Notification.id).limit(1)),
            "provider": s.scalar(select(ExchangeProvider.code).limit(1)),
            "service": s.scalar(select(ExchangeService.code).limit(1)),
            "authorization": s.scalar(select(ExchangeAuthorization.id).limit(1)),
            "consent": s.scalar(select(ExchangeConsent.id).limit(1)),
        }
    known: dict[str, list[dict[str, Any]]] = {
        "/api/v1/items/{code}": [{"code": first["item"]}],
        "/api/v1/bundles/{code}": [{"code": first["bundle"]}],
        "/api/v1/audit/accounts/{username}/accesses": [{"username": "clerk"}],
        "/api/v1/complaints/{complaint_no}": [{"complaint_no": first["complaint"]}],
        "/api/v1/complaints/{complaint_no}/actions": [{"complaint_no": first["complaint"]}],
        "/api/v1/me/messages/{message_id}/read": [{"message_id": first["message"]}],
        "/api/v1/exchange/providers/{code}/decision": [{"code": first["provider"]}],
        "/api/v1/exchange/providers/{code}/status": [{"code": first["provider"]}],
        "/api/v1/exchange/services/{service_code}/openapi": [{"service_code": first["service"]}],
        "/api/v1/exchange/authorizations/{authorization_id}/revoke": [
            {"authorization_id": first["authorization"]}
        ],
        "/api/v1/exchange/consents/{consent_id}/revoke": [{"consent_id": first["consent"]}],
    }
    for path in (
        "/api/v1/cases/{case_no}",
        "/api/v1/cases/{case_no}/actions",
        "/api/v1/cases/{case_no}/unmask",
        "/api/v1/cases/{case_no}/decision-document",
        "/api/v1/cases/{case_no}/rating",
    ):
        known[path] = cases
    if material is not None:
        known["/api/v1/cases/{case_no}/materials/{material_id}"] = [
            {"case_no": material[0], "material_id": material[1]}
        ]
    return {
        path: [p for p in params if all(v is not None for v in p.values())]
        for path, params in known.items()
    }


def _spread(cases: list[Any], limit: int) -> list[Any]:
    """At most ``limit`` cases, evenly spread over the list (deterministic)."""
    if len(cases) <= limit:
        return cases
    step = len(cases) / limit
    return [cases[int(i * step)] for i in range(limit)]


def _send(case: Any, operation: str, headers: dict[str, dict[str, str]], tally: Tally) -> None:
    for identity, auth in headers.items():
        tally.requests[identity] += 1
        try:
            response = case.call(headers=auth)
        except Exception as exc:  # the app raised instead of answering: a server error
            tally.record(operation, identity, f"raised {type(exc).__name__}", repr(exc)[:500])
            continue
        tally.statuses[f"{response.status_code // 100}xx"] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=auth)
        except (AssertionError, BaseExceptionGroup) as problem:
            for failure in getattr(problem, "exceptions", [problem]):
                kind = f"{type(failure).__name__} {response.status_code}"
                example = f"{case.as_curl_command(headers=auth)}\n→ {response.text[:300]}"
                tally.record(operation, identity, kind, example)


def _fuzz(
    op: Any,
    mode: GenerationMode,
    headers: dict[str, dict[str, str]],
    tally: Tally,
    path_parameters: dict[str, Any] | None = None,
) -> None:
    @given(case=op.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # the same cases every run
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        _send(case, op.label, headers, tally)

    try:
        run()
    except Exception as exc:
        # An operation without parameters has no invalid variant (Unsatisfiable): nothing to send.
        if type(exc).__name__ != "Unsatisfiable":
            raise


def test_generated_requests_get_no_server_error_and_match_the_schema(
    api: tuple[Any, dict[str, dict[str, str]]],
    record_property: Any,
    db_url: str,
) -> None:
    app, headers = api
    known = _known_records(app.state.database_url)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    tally = Tally()
    started = time.monotonic()
    operations = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if not op.path.startswith("/api/") or op.label in EXCLUDED:
            continue
        operations += 1
        coverage = schema.iter_coverage_cases(
            op,
            generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generation_config=schema.config.generation_for(operation=op),
        )
        for case in _spread(list(coverage), COVERAGE):
            _send(case, op.label, headers, tally)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(op, mode, headers, tally)
            for path_parameters in known.get(op.path, []):
                _fuzz(op, mode, headers, tally, path_parameters)

    total = sum(tally.requests.values())
    seconds = time.monotonic() - started
    by_identity = ", ".join(f"{who} {n}" for who, n in tally.requests.items())
    server_errors = sum(n for (_, _, kind), n in tally.failures.items() if "ServerError" in kind)
    backend = db_url.split(":", 1)[0].split("+", 1)[0]
    summary = (
        f"schemathesis on {backend}: {total} requests to {operations} operations in "
        f"{seconds:.0f} s ({by_identity}; "
        f"{', '.join(f'{k} {v}' for k, v in sorted(tally.statuses.items()))}); "
        f"{server_errors} server errors, "
        f"{sum(tally.failures.values()) - server_errors} schema mismatches"
    )
    record_property("summary", summary)  # printed at the end of the run (tests/conftest.py)
    report = "\n\n".join(
        f"{n}× {op} as {who}: {kind}\n{tally.examples[(op, who, kind)]}"
        for (op, who, kind), n in sorted(tally.failures.items())
    )
    assert not tally.failures, report
    assert total >= 2000


# --- positive data: what the document allows, the server takes -----------------------------

POSITIVE_EXAMPLES = int(os.environ.get("TONGBAN_FUZZ_POSITIVE", "6"))
# The refusals of the request's form (FastAPI's validation and the input policy): a
# schema-conforming request that gets one means the document is looser than the server.
FORM_REFUSALS = {"invalid_request", "malformed_json", *TEXT_ERROR_CODES}
# Refusals that depend on what a document cannot describe — a check character, a rule
# between fields, another record, a one-time code, a file's content — not on the form of
# the request. Each is the service's own code; a new one fails the test until it is here.
DOMAIN_REFUSALS: dict[str, str] = {
    "cross_field_rule": "a rule between fields (CaseCreate: exactly one of item_code, bundle_code)",
    "invalid_id_number": "the check character of a 居民身份证号",
    "phone_proof_invalid": "a proof from a confirmed phone code",
    "wrong_code": "a one-time code sent by SMS",
    "contact_required": "anonymous complaints need a contact number (depends on the caller)",
    "unknown_field": "unmask: the field names of the case's item and policy",
    "exchange_unknown_mapping": "a shipped mapping, or for a node provider the peer's node id",
    "unknown_department": "a department that exists",
    "promised_exceeds_statutory": "item: promised limit ≤ statutory limit",
    "replacement_needs_check": "item: a shared-data replacement names a claim or elements",
    "visit_reason_required": "item: visits need a reason",
    "duplicate_material_code": "item: material codes unique within the item",
    "form_schema_unsupported_keyword": "item: the form schema's keywords",
    "form_schema_not_object": "item: a form schema describes an object",
    "exchange_service_elements": "exchange: a service offers elements its mapping maps",
    "unsupported_file_type": "uploads: the file's content (PDF, JPEG, PNG, OFD)",
    "invalid_period": "insight: from ≤ to, at most a year apart",
    "period_out_of_range": "insight: dates within the years the platform keeps",
    "workday_count_out_of_range": "workdays: n ≤ 2,500 (n is text, parsed with its own codes)",
    "alert_note_required": "audit: closing an alert needs a note (audit schemas are not ours)",
}


@dataclass
class Acceptance:
    requests: int = 0
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)  # (operation, code)
    domain: Counter[str] = field(default_factory=Counter)  # refusal code
    examples: dict[tuple[str, str], str] = field(default_factory=dict)
    undocumented: Counter[tuple[str, int]] = field(default_factory=Counter)

    def check(self, case: Any, response: Any, auth: dict[str, str]) -> None:
        self.requests += 1
        op = case.operation.label
        documented = case.operation.definition.raw.get("responses", {})
        if str(response.status_code) not in documented:
            self.undocumented[(op, response.status_code)] += 1
        if response.status_code not in (400, 413, 415, 422):
            return
        code = _error_code(response)
        if code == "invalid_request" and _across_fields(response):
            code = "cross_field_rule"
        if code in DOMAIN_REFUSALS:
            self.domain[code] += 1
            return
        self.rejected[(op, code)] += 1
        example = f"{case.as_curl_command(headers=auth)}\n→ {response.text[:400]}"
        self.examples.setdefault((op, code), example)


def _across_fields(response: Any) -> bool:
    """A model validator's refusal: it names the whole body, no single field."""
    details = response.json()["error"]["details"]
    return isinstance(details, list) and all(
        d.get("type") == "value_error" and list(d["loc"]) == ["body"] for d in details
    )


def _error_code(response: Any) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return f"status {response.status_code}"


def _reaching_identity(case: Any, headers: dict[str, dict[str, str]]) -> str:
    """The first identity (anonymous first) whose request gets past sign-in and permission:
    the form of a request is checked only then."""
    for identity, auth in headers.items():
        response = case.call(headers=auth)
        if response.status_code not in (401, 403) or _error_code(response) not in (
            "unauthenticated",
            "forbidden",
        ):
            return identity
    return "admin"


def _positive(
    op: Any, auth: dict[str, str], acceptance: Acceptance, known: list[dict[str, Any]]
) -> None:
    for path_parameters in [None, *known]:

        @given(
            case=op.as_strategy(
                generation_mode=GenerationMode.POSITIVE, path_parameters=path_parameters
            )
        )
        @settings(
            max_examples=POSITIVE_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            acceptance.check(case, case.call(headers=auth), auth)

        run()


def test_schema_conforming_requests_are_accepted_and_every_status_is_documented(
    api: tuple[Any, dict[str, dict[str, str]]],
    record_property: Any,
    db_url: str,
) -> None:
    """Positive data only (schemathesis' coverage cases and generated cases that conform to
    the document), each sent as the first identity that may call the operation: none may be
    refused for its form (400/422 ``invalid_request``, ``invalid_text`` …) — the document is at
    least as strict as the server — and every status answered is documented for its
    operation."""
    app, headers = api
    known = _known_records(app.state.database_url)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    acceptance = Acceptance()
    started = time.monotonic()
    operations = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if not op.path.startswith("/api/") or op.label in EXCLUDED:
            continue
        operations += 1
        coverage = _spread(
            list(
                schema.iter_coverage_cases(
                    op,
                    generation_modes=[GenerationMode.POSITIVE],
                    generation_config=schema.config.generation_for(operation=op),
                )
            ),
            COVERAGE,
        )
        if not coverage:
            continue
        identity = _reaching_identity(coverage[0], headers)
        auth = headers[identity]
        for case in coverage:
            acceptance.check(case, case.call(headers=auth), auth)
        _positive(op, auth, acceptance, known.get(op.path, []))

    seconds = time.monotonic() - started
    backend = db_url.split(":", 1)[0].split("+", 1)[0]
    domain = ", ".join(f"{code} {n}" for code, n in acceptance.domain.most_common())
    record_property(
        "summary",
        f"schemathesis positive data on {backend}: {acceptance.requests} requests to "
        f"{operations} operations in {seconds:.0f} s; "
        f"{sum(acceptance.rejected.values())} refused for their form, "
        f"{sum(acceptance.undocumented.values())} undocumented statuses; "
        f"refused by the domain: {domain or 'none'}",
    )
    report = "\n\n".join(
        f"{n}× {op}: {code}\n{acceptance.examples[(op, code)]}"
        for (op, code), n in sorted(acceptance.rejected.items())
    )
    undocumented = "\n".join(
        f"{n}× {op} answered {status}, not documented"
        for (op, status), n in sorted(acceptance.undocumented.items())
    )
    assert not acceptance.rejected and not acceptance.undocumented, f"{report}\n\n{undocumented}"
    assert operations >= 70
