"""Prometheus metrics: requests by route template, and figures read from the database at
scrape time.

Several uvicorn workers share nothing in memory, so each writes its counters to files in
``PROMETHEUS_MULTIPROC_DIR`` and a scrape of any worker sums them (prometheus_client's
multi-process mode). The directory is the operator's ``PROMETHEUS_MULTIPROC_DIR`` when set
(to be emptied at each start, e.g. a systemd ``RuntimeDirectory``), else a directory named
after the server's master process when this is one of several workers, so that each start
begins at zero without configuration. One process uses memory only.

Labels carry the route *template* (``/api/v1/cases/{case_no}``), never the raw path: a path
holds case numbers and query codes, and raw paths would also let any caller create series
without bound. Unmatched paths share one label.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client import values as prometheus_values
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED = "<unmatched>"


@dataclass(frozen=True)
class RequestMetrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    multiprocess_dir: Path | None


_metrics: RequestMetrics | None = None


def multiprocess_dir() -> Path | None:
    """Where this process writes its metric files; None for one process in memory."""
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        return Path(configured)
    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:  # not a worker spawned by a master process
        return None
    path = Path(tempfile.gettempdir()) / f"tongban-metrics-{parent.pid}"
    path.mkdir(mode=0o700, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def request_metrics() -> RequestMetrics:
    """The process's request metrics, created once, after the storage mode is chosen."""
    global _metrics
    if _metrics is None:
        directory = multiprocess_dir()
        # prometheus_client picks file-backed values from the environment when it is first
        # imported; choose again now that the directory is known.
        prometheus_values.ValueClass = prometheus_values.get_value_class()
        registry = CollectorRegistry()
        _metrics = RequestMetrics(
            registry=registry,
            requests=Counter(
                "tongban_http_requests",
                "HTTP requests answered, by method, route template and status",
                ["method", "route", "status"],
                registry=registry,
            ),
            latency=Histogram(
                "tongban_http_request_duration_seconds",
                "Time from request to the end of the response, by method and route template",
                ["method", "route"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            multiprocess_dir=directory,
        )
    return _metrics


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str):
        return template
    if str(scope.get("path", "")).startswith("/static/"):
        return "/static/{path}"
    return UNMATCHED


class RequestMetricsMiddleware:
    """Counts every HTTP response and its duration, labelled by the matched route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.metrics = request_metrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before responding

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            method = scope.get("method", "GET")
            method = method if method in KNOWN_METHODS else "OTHER"
            route = route_template(scope)
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)


class DatabaseFigures:
    """Figures the database already holds, read at scrape time (no hook in the domains):
    the notification outbox by channel and status (queue depth and delivery outcomes), the
    audit log's size (appends so far), and the last five minutes of exchange calls."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "tongban_metrics_database_up", "1 when the scrape-time database figures were read"
        )
        try:
            figures = list(self._read())
        except Exception:  # a scrape must still answer when the database does not
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from figures

    def _read(self) -> Iterator[Metric]:
        from tongban.audit import repository as audit_repository
        from tongban.db import session_factory
        from tongban.exchange import metrics as exchange_metrics
        from tongban.notify import repository as notify_repository

        session = session_factory(self.database_url)()
        try:
            outbox = GaugeMetricFamily(
                "tongban_notifications",
                "Notification outbox rows by channel and status (pending = queue depth)",
                labels=["channel", "status"],
            )
            for channel, status, count in notify_repository.status_counts(session):
                outbox.add_metric([channel, status], count)
            yield outbox
            head = audit_repository.head(session)
            appends = CounterMetricFamily(
                "tongban_audit_appends", "Entries appended to the audit log (its tree size)"
            )
            appends.add_metric([], getattr(head, "tree_size", 0) if head else 0)
            yield appends
            calls = GaugeMetricFamily(
                "tongban_exchange_calls_5m",
                "Data-exchange calls in the last five minutes by provider, service and outcome",
                labels=["provider", "service", "outcome"],
            )
            for service in exchange_metrics.stats(session, minutes=5).services:
                for outcome in ("answered", "denied", "unavailable"):
                    calls.add_metric(
                        [service.provider_code, service.service_code, outcome],
                        getattr(service, outcome),
                    )
            yield calls
        finally:
            session.rollback()
            session.close()


def exposition(database_url: str | None) -> bytes:
    """The OpenMetrics text of this server: all workers' request metrics, plus the
    database figures when asked for."""
    metrics = request_metrics()
    registry = CollectorRegistry()
    if metrics.multiprocess_dir is not None:
        MultiProcessCollector(registry, path=str(metrics.multiprocess_dir))
    else:
        registry.register(_Forward(metrics.registry))
    if database_url is not None:
        registry.register(DatabaseFigures(database_url))
    return generate_latest(registry)


class _Forward:
    """One registry's metrics offered through another (the scrape's)."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterable[Metric]:
        return self.source.collect()
