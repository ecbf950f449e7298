"""Answering a request from a provider's own source: open adapters once, ask only what is granted.

Adapters are kept open per provider configuration (the SQL adapter reflects the
legacy schema when it opens; the file adapter indexes the drop), and replaced when
an administrator changes where the provider lives.

Each attempt has a deadline enforced where the work happens: the HTTP client's
timeout for REST sources; for SQL sources the database itself — SQLite through a
progress handler that checks this thread's deadline, PostgreSQL through
``statement_timeout``, MySQL through ``MAX_EXECUTION_TIME`` — and a deadline
thread (resilience) for any other database. File drops are read from memory.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine, event, make_url
from sqlalchemy.exc import ArgumentError

from tongban.errors import DomainError
from tongban.exchange.adapters import Adapter, Claim, open_adapter
from tongban.exchange.mapping import load_mapping
from tongban.exchange.resilience import Policy, breakers, call
from tongban.exchange.rules import ClaimSpec, claim_values
from tongban.exchange.specs import ProviderConfig


def policy_of(config: ProviderConfig, backoff: float) -> Policy:
    """HTTP clients and most SQL databases keep their own deadline; others get a thread."""
    native = config.kind != "sql" or _backend(config.location) in NATIVE_TIMEOUTS
    return Policy(
        timeout=config.timeout_seconds,
        retries=config.retries,
        backoff=backoff,
        own_deadline=not native,
    )


@dataclass(frozen=True)
class Answer:
    claim_holds: bool | None
    records: list[dict[str, str | int]]
    problems: list[dict[str, str]]
    source: str


# Databases that stop a query at our deadline themselves; others get a deadline thread.
NATIVE_TIMEOUTS = frozenset({"sqlite", "postgresql", "mysql"})
_deadline = threading.local()  # when the current thread's query must stop (monotonic)
SQLITE_PROGRESS_STEPS = 1000  # VM instructions between deadline checks


def _backend(url: str) -> str:
    try:
        return make_url(url).get_backend_name()
    except ArgumentError:
        return ""


def _past_deadline() -> int:
    moment = getattr(_deadline, "at", None)
    return 1 if moment is not None and time.monotonic() > moment else 0


def _arm(adapter: Adapter, timeout: float) -> None:
    """Have the source database stop a query that outlives ``timeout`` (no thread needed)."""
    engine: Engine | None = getattr(adapter, "engine", None)
    if engine is None or engine.dialect.name not in NATIVE_TIMEOUTS:
        return
    milliseconds = max(1, int(timeout * 1000))
    statement = {
        "postgresql": f"SET statement_timeout = {milliseconds}",
        "mysql": f"SET SESSION MAX_EXECUTION_TIME = {milliseconds}",
    }.get(engine.dialect.name)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if statement is None:  # SQLite: a progress handler reads this thread's deadline
            dbapi_connection.set_progress_handler(_past_deadline, SQLITE_PROGRESS_STEPS)
            return
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()
        dbapi_connection.commit()

    engine.dispose()  # the connection used for reflection predates the listener


_lock = threading.Lock()
_adapters: dict[str, tuple[tuple[str, ...], Adapter]] = {}


def adapter_for(config: ProviderConfig) -> Adapter:
    """The open adapter of a provider; a changed location or mapping opens a new one."""
    identity = (config.kind, config.mapping, config.location, str(config.timeout_seconds))
    with _lock:
        held = _adapters.get(config.code)
        if held and held[0] == identity:
            return held[1]
    adapter = _open(config)  # outside the lock: reflecting a schema may take a while
    with _lock:
        held = _adapters.get(config.code)
        if held and held[0] == identity:
            adapter.close()  # another thread opened it meanwhile
            return held[1]
        _adapters[config.code] = (identity, adapter)
    if held:
        held[1].close()
    return adapter


def _open(config: ProviderConfig) -> Adapter:
    mapping = load_mapping(config.mapping)
    if config.kind == "rest":
        client = httpx.Client(
            base_url=config.location,
            timeout=httpx.Timeout(config.timeout_seconds),
            headers={"Accept": "application/json"},
        )
        return open_adapter(mapping, config.location, client=client)
    adapter = open_adapter(mapping, config.location)
    _arm(adapter, config.timeout_seconds)
    return adapter


def forget_adapters() -> None:
    with _lock:
        held = list(_adapters.values())
        _adapters.clear()
    for _, adapter in held:
        adapter.close()


def ask_source(
    config: ProviderConfig,
    *,
    subject: str,
    elements: list[str],
    claim: tuple[str, ClaimSpec] | None,
    claim_given: dict[str, str],
    backoff: float,
) -> tuple[Answer, int]:
    """Ask the provider's source under its timeout, retry policy and breaker."""
    breaker = breakers.get(
        config.code, failures=config.breaker_failures, cooldown=config.breaker_cooldown_seconds
    )

    def ask(adapter: Adapter) -> Answer:
        source = adapter.mapping.title
        if claim is not None:
            name, spec = claim
            equals = claim_values(spec, name, claim_given)
            holds = adapter.check(Claim(subject, equals, until=spec.until))
            return Answer(holds, [], [], source)
        found = adapter.fetch(elements, subject)
        return Answer(
            None,
            [_jsonable(record.values) for record in found],
            [{"element": p.element, "reason": p.reason} for r in found for p in r.problems],
            source,
        )

    def attempt() -> Answer:
        adapter = adapter_for(config)
        _deadline.at = time.monotonic() + config.timeout_seconds
        try:
            return ask(adapter)
        except DomainError as error:
            if error.code == "source_unavailable" and _past_deadline():
                raise _timed_out(config) from error  # the database stopped it for us
            raise
        finally:
            _deadline.at = None

    return call(attempt, provider=config.code, breaker=breaker, policy=policy_of(config, backoff))


def _timed_out(config: ProviderConfig) -> DomainError:
    return DomainError(
        "exchange_timeout",
        f"数据源在 {config.timeout_seconds:g} 秒内未应答",
        f"The source did not answer within {config.timeout_seconds:g} s",
        status=504,
        details={"provider": config.code},
    )


def _jsonable(values: dict[str, Any]) -> dict[str, str | int]:
    return {code: value if isinstance(value, int) else str(value) for code, value in values.items()}
