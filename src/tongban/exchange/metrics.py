"""Operational monitoring: per provider service, calls, outcomes, errors and latency percentiles.

Computed from ``exchange_calls`` over a time window; the circuit breakers' current
states come from this process.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tongban.exchange import repository
from tongban.exchange.resilience import breakers
from tongban.exchange.rules import percentile
from tongban.exchange.schemas import ServiceStats, StatsRead
from tongban.kit.clock import now


def stats(session: Session, *, minutes: int = 60, until: datetime | None = None) -> StatsRead:
    until = until or now()
    since = until - timedelta(minutes=minutes)
    latencies: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
    outcomes: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    errors: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for provider, service, outcome, error_code, latency in repository.calls_since(session, since):
        key = (provider, service)
        latencies[key].append(latency)
        outcomes[key][outcome] += 1
        if error_code:
            errors[key][error_code] += 1
    states = breakers.states()
    rows = []
    for key in sorted(latencies):
        ordered = sorted(latencies[key])
        rows.append(
            ServiceStats(
                provider_code=key[0],
                service_code=key[1],
                requests=len(ordered),
                answered=outcomes[key]["answered"],
                denied=outcomes[key]["denied"],
                unavailable=outcomes[key]["unavailable"],
                p50_ms=round(percentile(ordered, 50), 2),
                p95_ms=round(percentile(ordered, 95), 2),
                p99_ms=round(percentile(ordered, 99), 2),
                errors=dict(errors[key]),
                breaker=states.get(key[0], "closed"),
            )
        )
    return StatsRead(since=since, until=until, minutes=minutes, services=rows)
