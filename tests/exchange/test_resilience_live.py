"""Providers that are really down or really slow, through the full path (no mocks).

A REST provider on a closed loopback port, one behind a server that sleeps, and the
circuit breaker driven by a controlled clock.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange_support import MA, demo_actor
from tongban.exchange import service
from tongban.exchange.models import ExchangeCall
from tongban.exchange.resilience import breakers
from tongban.exchange.schemas import AuthorizationCreate, ProviderCreate


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


class DibaoServer(ThreadingHTTPServer):
    """A 民政 低保 API that answers every lookup after ``delay`` seconds."""

    daemon_threads = True

    def __init__(self, port: int, delay: float) -> None:
        self.delay = delay
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: DibaoServer

    def do_GET(self) -> None:
        time.sleep(self.server.delay)
        key = self.path.rsplit("/", 1)[-1]
        record = {"jbxx": {"sfzh": key, "xm": MA.name}, "bzzt": "在保", "rdrq": "2024-01-05"}
        payload = json.dumps({"code": 0, "data": [record]}, ensure_ascii=False).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting: that is the point

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serving(port: int, delay: float = 0.0) -> Iterator[DibaoServer]:
    server = DibaoServer(port, delay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def register_dibao(session: Session, code: str, port: int, **policy: Any) -> None:
    admin = demo_actor(session, "admin")
    data = ProviderCreate.model_validate(
        {
            "code": code,
            "name": "低保信息接口",
            "department_code": "11640425MB00010TBR",
            "kind": "rest",
            "location": f"http://127.0.0.1:{port}",
            "mapping": "subsistence_api",
            "services": [
                {
                    "code": f"{code}.status",
                    "name": "低保状态",
                    "elements": ["DE0002", "DE0021"],
                    "claims": {"receives": {"label": "在保", "fixed": {"DE0021": "1"}}},
                }
            ],
            **policy,
        }
    )
    service.register_provider(session, actor=None, data=data)
    service.decide_provider(session, actor=admin, code=code, approve=True)
    service.set_provider_status(session, actor=admin, code=code, enabled=True)
    grant = {
        "consumer_kind": "role",
        "consumer": "clerk",
        "service_code": f"{code}.status",
        "claims": ["receives"],
        "purpose": "subsistence_assessment",
        "legal_basis": "law",
        "legal_reference": "《社会救助暂行办法》第十一条",
    }
    service.add_authorization(session, actor=admin, data=AuthorizationCreate.model_validate(grant))


def ask(session: Session, code: str) -> service.VerificationResult:
    return service.verify(
        session,
        actor=demo_actor(session, "clerk"),
        service_code=f"{code}.status",
        subject=MA.id_number,
        purpose="subsistence_assessment",
        claim="receives",
    )


def attempts(session: Session, request_id: str) -> int:
    query = select(ExchangeCall.attempts).where(ExchangeCall.request_id == request_id)
    return int(session.scalars(query).one())


def test_a_provider_that_is_down_is_retried_short_circuited_and_tried_again_later(
    demo_session: Session,
) -> None:
    clock = Clock()
    breakers.reset(clock=clock)
    port = free_port()  # nothing listens there
    register_dibao(
        demo_session, "dibao", port, retries=2, breaker_failures=3, breaker_cooldown_seconds=30
    )
    first = ask(demo_session, "dibao")
    assert (first.outcome, first.code) == ("unavailable", "source_unavailable")
    assert "请提供" in first.message_zh
    assert attempts(demo_session, first.request_id) == 3
    assert breakers.states()["dibao"] == "open"

    started = time.perf_counter()
    second = ask(demo_session, "dibao")
    assert (second.outcome, second.code) == ("unavailable", "exchange_circuit_open")
    assert attempts(demo_session, second.request_id) == 0
    assert time.perf_counter() - started < 0.5

    with serving(port):
        assert ask(demo_session, "dibao").code == "exchange_circuit_open"  # still cooling down
        clock.now += 30  # half-open: one trial goes through, and it succeeds
        recovered = ask(demo_session, "dibao")
        assert (recovered.outcome, recovered.source) == ("verified", "低保信息接口")
        assert breakers.states()["dibao"] == "closed"

    stats = service.stats(demo_session, minutes=5)
    (row,) = stats.services
    assert (row.requests, row.answered, row.unavailable) == (4, 1, 3)
    assert row.errors == {"source_unavailable": 1, "exchange_circuit_open": 2}


def test_a_slow_provider_times_out_within_its_budget_and_others_are_not_held_up(
    demo_session: Session,
) -> None:
    slow_port, fast_port = free_port(), free_port()
    register_dibao(demo_session, "slow", slow_port, timeout_seconds=0.3, retries=1)
    register_dibao(demo_session, "fast", fast_port, timeout_seconds=0.3, retries=1)
    with serving(slow_port, delay=1.0), serving(fast_port):
        started = time.perf_counter()
        late = ask(demo_session, "slow")
        elapsed = time.perf_counter() - started
        assert (late.outcome, late.code) == ("unavailable", "source_timeout")
        assert attempts(demo_session, late.request_id) == 2
        assert 0.6 <= elapsed < 1.0  # two attempts of 0.3 s and a short backoff, not 2 × 1 s
        assert ask(demo_session, "fast").outcome == "verified"
    assert breakers.states() == {"slow": "closed", "fast": "closed"}  # 2 failures < 5


def test_a_sql_source_that_is_gone_is_unavailable(demo_session: Session, tmp_path: Any) -> None:
    from exchange_support import provider_data

    admin = demo_actor(demo_session, "admin")
    missing = f"sqlite:///{tmp_path / 'moved-away.db'}"
    service.register_provider(
        demo_session, actor=None, data=provider_data("rk", missing, retries=1)
    )
    service.decide_provider(demo_session, actor=admin, code="rk", approve=True)
    service.set_provider_status(demo_session, actor=admin, code="rk", enabled=True)
    grant = {
        "consumer_kind": "role",
        "consumer": "clerk",
        "service_code": "rk.person",
        "claims": ["name_matches"],
        "purpose": "identity_check",
        "legal_basis": "law",
        "legal_reference": "《国务院关于在线政务服务的若干规定》第八条",
    }
    service.add_authorization(
        demo_session, actor=admin, data=AuthorizationCreate.model_validate(grant)
    )
    result = service.verify(
        demo_session,
        actor=demo_actor(demo_session, "clerk"),
        service_code="rk.person",
        subject=MA.id_number,
        purpose="identity_check",
        claim="name_matches",
        claim_values={"DE0002": MA.name},
    )
    assert (result.outcome, result.code) == ("unavailable", "source_unavailable")
    assert not (tmp_path / "moved-away.db").exists()  # read-only: nothing was created


def test_a_slow_sql_source_is_stopped_by_the_database_at_the_deadline(
    demo_session: Session, tmp_path: Any
) -> None:
    import sqlite3

    from exchange_support import provider_data

    # A legacy "table" that is a view over five million generated rows: every lookup scans.
    path = tmp_path / "slow.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE VIEW RK_JBXX AS WITH RECURSIVE n(i) AS "
            "(SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000000) "
            "SELECT printf('%018d', i) AS GMSFHM, 'x' AS XM, '1' AS XB, 19900101 AS CSRQ, "
            "'彭阳县' AS HJDZ, '20' AS HYZK FROM n"
        )
    admin = demo_actor(demo_session, "admin")
    data = provider_data("rk", f"sqlite:///{path}", timeout_seconds=0.2, retries=1)
    service.register_provider(demo_session, actor=None, data=data)
    service.decide_provider(demo_session, actor=admin, code="rk", approve=True)
    service.set_provider_status(demo_session, actor=admin, code="rk", enabled=True)
    grant = {
        "consumer_kind": "role",
        "consumer": "clerk",
        "service_code": "rk.person",
        "claims": ["name_matches"],
        "purpose": "identity_check",
        "legal_basis": "law",
        "legal_reference": "《国务院关于在线政务服务的若干规定》第八条",
    }
    service.add_authorization(
        demo_session, actor=admin, data=AuthorizationCreate.model_validate(grant)
    )
    threads = threading.active_count()
    started = time.perf_counter()
    result = service.verify(
        demo_session,
        actor=demo_actor(demo_session, "clerk"),
        service_code="rk.person",
        subject=MA.id_number,
        purpose="identity_check",
        claim="name_matches",
        claim_values={"DE0002": MA.name},
    )
    elapsed = time.perf_counter() - started
    assert (result.outcome, result.code) == ("unavailable", "exchange_timeout")
    assert attempts(demo_session, result.request_id) == 2
    assert 0.4 <= elapsed < 1.2
    assert threading.active_count() == threads  # stopped by SQLite, not left running
