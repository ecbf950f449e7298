"""Two tongban nodes on loopback: one consumes the other's provider service, signed both ways.

Each node is a real app instance (uvicorn in a subprocess) with its own database,
node id and signing key; each trusts the other's public key. Node A's clerk asks a
question that node B's population register answers. Authorization is mutual: A
checks its own grant before sending, B checks its grant for A's consumer. A
tampering proxy between them shows that an altered or replayed response is not
believed, and B refuses replayed, stale and badly signed requests.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from exchange_support import MA, POLICE, demo_actor
from tongban.audit.models import AuditEntry
from tongban.audit.signing import SigningKeys, generate
from tongban.db import session_factory, transaction, upgrade
from tongban.demo.exchange import load_exchange_demo
from tongban.demo.legacy import LegacySources
from tongban.demo.loader import load_reference_data
from tongban.exchange import protocol, service
from tongban.exchange.models import ExchangeCall, ExchangeProvider
from tongban.exchange.schemas import AuthorizationCreate, ProviderCreate
from tongban.kit.clock import now
from tongban.privacy.crypto import person_ref

A, B = "county-a", "county-b"


@dataclass
class Node:
    node_id: str
    directory: Path
    port: int
    keys: SigningKeys
    process: subprocess.Popen[bytes] | None = None

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.directory / 'tongban.db'}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def public_key(self) -> str:
        return base64.b64encode(self.keys.current.public_key).decode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_node(root: Path, node_id: str) -> Node:
    directory = root / node_id
    directory.mkdir()
    keys = SigningKeys(generate("ed25519"))
    key_file = directory / "node.key"
    key_file.write_text(keys.to_json())
    key_file.chmod(0o600)
    node = Node(node_id, directory, free_port(), keys)
    upgrade(node.db_url)
    with transaction(node.db_url) as s:
        load_reference_data(s)
    return node


def start(node: Node) -> None:
    d = node.directory
    env = {
        **os.environ,  # the data key file is shared: the test process writes both databases
        "TONGBAN_DATABASE_URL": node.db_url,
        "TONGBAN_EXCHANGE_NODE_ID": node.node_id,
        "TONGBAN_EXCHANGE_NODE_KEY_FILE": str(d / "node.key"),
        "TONGBAN_AUDIT_SIGNING_KEY_FILE": str(d / "audit.key"),
        "TONGBAN_AUDIT_CHECKPOINT_FILE": str(d / "checkpoints.jsonl"),
        "TONGBAN_SECRET_KEY_FILE": str(d / "secret.key"),
        "TONGBAN_STORAGE_DIR": str(d / "files"),
    }
    command = [sys.executable, "-m", "uvicorn", "tongban.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(node.port), "--log-level", "warning"]
    log = (d / "server.log").open("wb")
    node.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            raise RuntimeError((d / "server.log").read_text())
        try:
            if httpx.get(f"{node.url}/api/v1/exchange/node", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"node {node.node_id} did not start")


def grant(session: Any, **changes: Any) -> None:
    data = {
        "consumer_kind": "role",
        "consumer": "clerk",
        "service_code": "population.person_basic",
        "claims": ["name_matches"],
        "purpose": "identity_check",
        "legal_basis": "law",
        "legal_reference": "《国务院关于在线政务服务的若干规定》第八条",
        **changes,
    }
    service.add_authorization(session, actor=None, data=AuthorizationCreate.model_validate(data))


@pytest.fixture(scope="module")
def nodes(
    tmp_path_factory: pytest.TempPathFactory, legacy: LegacySources
) -> Iterator[dict[str, Node]]:
    root = tmp_path_factory.mktemp("nodes")
    a, b = make_node(root, A), make_node(root, B)
    with transaction(b.db_url) as s:  # B: the demo providers, and A trusted for clerks' checks
        load_exchange_demo(s, legacy.directory)
        service.add_peer(
            s, actor=None, node_id=A, name="A 县", base_url=a.url, algorithm="ed25519",
            public_key=a.public_key,
        )  # fmt: skip
        grant(s, consumer_node=A)
    with transaction(a.db_url) as s:  # A: B's service as a node provider; clerks and reviewers
        service.add_peer(
            s, actor=None, node_id=B, name="B 县", base_url=b.url, algorithm="ed25519",
            public_key=b.public_key,
        )  # fmt: skip
        remote = {
            "code": "county_b_population",
            "name": "B 县公安人口库（跨节点）",
            "department_code": POLICE,
            "kind": "node",
            "location": b.url,
            "mapping": B,
            "services": [
                {
                    "code": "population.person_basic",
                    "name": "人口基本信息",
                    "elements": ["DE0002"],
                    "claims": {"name_matches": {"label": "姓名一致", "equals": ["DE0002"]}},
                }
            ],
        }
        service.register_provider(s, actor=None, data=ProviderCreate.model_validate(remote))
        admin = demo_actor(s, "admin")
        service.decide_provider(s, actor=admin, code="county_b_population", approve=True)
        service.set_provider_status(s, actor=admin, code="county_b_population", enabled=True)
        grant(s)
        grant(s, consumer="reviewer")  # A allows its reviewers; B does not
    try:
        start(a)
        start(b)
        yield {A: a, B: b}
    finally:
        for node in (a, b):
            if node.process is not None:
                node.process.terminate()
                node.process.wait(timeout=10)


def login(node: Node, username: str) -> dict[str, str]:
    answer = httpx.post(
        f"{node.url}/api/v1/auth/token", json={"username": username, "password": "Demo@2026"}
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def check(node: Node, username: str = "clerk", name: str = MA.name) -> httpx.Response:
    body = {
        "service_code": "population.person_basic",
        "subject": MA.id_number,
        "purpose": "identity_check",
        "claim": "name_matches",
        "claim_values": {"DE0002": name},
        "case_no": "640425-20261127-000042",
    }
    return httpx.post(
        f"{node.url}/api/v1/exchange/checks", json=body, headers=login(node, username), timeout=30
    )


def calls(node: Node, request_id: str) -> list[ExchangeCall]:
    with session_factory(node.db_url)() as s:
        query = select(ExchangeCall).where(ExchangeCall.request_id == request_id)
        return list(s.scalars(query))


def test_a_clerk_on_node_a_checks_a_fact_held_by_node_b(nodes: dict[str, Node]) -> None:
    a, b = nodes[A], nodes[B]
    answer = check(a)
    assert answer.status_code == 200, answer.text
    verified = answer.json()
    assert (verified["outcome"], verified["source"]) == ("verified", "公安人口库")
    assert check(a, name="马小燕").json()["outcome"] == "mismatch"

    (mine,) = calls(a, verified["request_id"])
    (theirs,) = calls(b, verified["request_id"])
    assert (mine.side, mine.outcome, theirs.side, theirs.outcome) == (
        "consumer",
        "answered",
        "provider",
        "answered",
    )
    assert theirs.consumer_node == A and theirs.consumer == "role:clerk"
    # Both logs hold the same request and response hashes, and the person only as a blind index.
    assert (mine.request_hash, mine.response_hash) == (theirs.request_hash, theirs.response_hash)
    for node in (a, b):
        with session_factory(node.db_url)() as s:
            query = select(AuditEntry).where(AuditEntry.subject_ref == verified["request_id"])
            logged = list(s.scalars(query.order_by(AuditEntry.seq)))
        assert [e.action for e in logged] == ["exchange_request", "exchange"]
        assert {e.person_ref for e in logged} == {person_ref(MA.id_number)}
        assert all(mine.request_hash in e.purpose_text for e in logged)
        assert all(MA.id_number not in e.purpose_text for e in logged)
    with session_factory(b.db_url)() as s:
        actor = s.scalar(
            select(AuditEntry.actor_role).where(AuditEntry.subject_ref == verified["request_id"])
        )
    assert actor == "anonymous"  # a node, not a user of B; named in the entry's text


def test_authorization_is_mutual(nodes: dict[str, Node]) -> None:
    refused = check(nodes[A], "reviewer_gaj")  # A grants its reviewers; B does not
    assert refused.status_code == 403
    assert refused.json()["code"] == "exchange_not_authorized"
    (theirs,) = calls(nodes[B], refused.json()["request_id"])
    assert theirs.outcome == "denied" and theirs.error_code == "exchange_not_authorized"
    local = check(nodes[A], "reviewer_gaj")
    assert local.json()["outcome"] == "denied"
    stranger = httpx.post(
        f"{nodes[A].url}/api/v1/exchange/checks",
        json={"service_code": "population.person_basic", "subject": MA.id_number,
              "purpose": "marketing", "claim": "name_matches", "claim_values": {"DE0002": "x"}},
        headers=login(nodes[A], "clerk"),
    )  # fmt: skip
    assert stranger.status_code == 403
    assert calls(nodes[B], stranger.json()["request_id"]) == []  # refused before it left A


class Tamper(ThreadingHTTPServer):
    """A man in the middle between A and B: passes, alters or replays B's responses."""

    daemon_threads = True

    def __init__(self, target: str) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.target = target
        self.mode = "pass"
        self.requests: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    server: Tamper

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append(json.loads(body))
        answer = httpx.post(
            self.server.target + self.path,
            content=body,
            headers={"Content-Type": "application/json"},
        )
        reply = answer.json()
        if self.server.mode == "flip":
            reply["body"]["claim_holds"] = not reply["body"]["claim_holds"]
        elif self.server.mode == "replay":
            reply = self.server.responses[0]
        self.server.responses.append(copy.deepcopy(answer.json()))
        payload = json.dumps(reply, ensure_ascii=False).encode()
        self.send_response(answer.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def tamper(nodes: dict[str, Node]) -> Iterator[Tamper]:
    proxy = Tamper(nodes[B].url)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    route(nodes[A], proxy.url)
    try:
        yield proxy
    finally:
        route(nodes[A], nodes[B].url)
        proxy.shutdown()
        proxy.server_close()


def route(node: Node, location: str) -> None:
    """Point A's provider at ``location`` (the attacker controls the network, not A)."""
    with transaction(node.db_url) as s:
        s.execute(
            update(ExchangeProvider)
            .where(ExchangeProvider.code == "county_b_population")
            .values(location=location)
        )


def test_an_altered_or_replayed_response_is_not_believed(
    nodes: dict[str, Node], tamper: Tamper
) -> None:
    tamper.mode = "pass"
    assert check(nodes[A]).json()["outcome"] == "verified"  # the proxy itself is harmless
    tamper.mode = "flip"
    flipped = check(nodes[A], name="马小燕")  # B says no; the proxy turns it into yes
    assert flipped.status_code == 503
    assert (flipped.json()["outcome"], flipped.json()["code"]) == (
        "unavailable",
        "exchange_response_forged",
    )
    tamper.mode = "replay"  # B's genuine, signed "yes" to the first request
    replayed = check(nodes[A], name="马小燕")
    assert (replayed.json()["outcome"], replayed.json()["code"]) == (
        "unavailable",
        "exchange_response_unbound",
    )
    (mine,) = calls(nodes[A], replayed.json()["request_id"])
    assert mine.outcome == "unavailable" and mine.error_code == "exchange_response_unbound"


def post(node: Node, message: Any) -> httpx.Response:
    return httpx.post(f"{node.url}/api/v1/exchange/requests", json=message)


def test_node_b_refuses_replayed_stale_and_badly_signed_requests(
    nodes: dict[str, Node], tamper: Tamper
) -> None:
    a, b = nodes[A], nodes[B]
    tamper.mode = "pass"
    check(a)
    captured = tamper.requests[-1]
    replay = post(b, captured)
    assert (replay.status_code, replay.json()["error"]["code"]) == (409, "exchange_replayed")

    body = protocol.RequestBody.model_validate(captured["body"])
    fresh = {"nonce": protocol.new_id(), "issued_at": protocol.iso(now())}
    forged = protocol.signed_request(body.model_copy(update=fresh), generate("ed25519"))
    answer = post(b, forged)
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "exchange_bad_signature")

    old = {"nonce": protocol.new_id(), "issued_at": protocol.iso(now() - timedelta(minutes=10))}
    stale = protocol.signed_request(body.model_copy(update=old), a.keys.current)
    answer = post(b, stale)
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "exchange_stale_message")

    unknown = body.model_copy(update={**fresh, "consumer_node": "county-z"})
    answer = post(b, protocol.signed_request(unknown, a.keys.current))
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "exchange_unknown_node")

    genuine = protocol.signed_request(body.model_copy(update=fresh), a.keys.current)
    answer = post(b, genuine)
    assert answer.status_code == 200 and answer.json()["body"]["claim_holds"] is True
    assert post(b, {"body": {}, "signature": {}}).status_code == 400
