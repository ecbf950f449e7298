"""Job outcomes for Prometheus: ``tongban_jobs_total{task, outcome}`` and how long each
run took. A worker is not a web server, so ``tongban worker --metrics-port N`` serves its
own ``/metrics`` (prometheus_client's exporter); with ``PROMETHEUS_MULTIPROC_DIR`` shared
with ``tongban serve`` on one machine, the web server's ``/metrics`` sums them too.

Outcomes: ``succeeded``; ``retry`` (failed, another attempt is scheduled); ``failed``
(failed, no attempt left — the next periodic tick still comes)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client import values as prometheus_values

OUTCOMES = ("succeeded", "retry", "failed")
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass(frozen=True)
class JobMetrics:
    registry: CollectorRegistry
    outcomes: Counter
    duration: Histogram

    def record(self, task: str, outcome: str, seconds: float) -> None:
        self.outcomes.labels(task, outcome).inc()
        self.duration.labels(task).observe(seconds)

    def count(self, task: str, outcome: str) -> float:
        """The counter's value in this process (for ``--once`` summaries and tests)."""
        value = self.registry.get_sample_value(
            "tongban_jobs_total", {"task": task, "outcome": outcome}
        )
        return value or 0.0


_metrics: JobMetrics | None = None
_lock = threading.Lock()


def job_metrics() -> JobMetrics:
    """This process's job metrics, created once."""
    global _metrics
    with _lock:
        if _metrics is None:
            # File-backed values when PROMETHEUS_MULTIPROC_DIR is set now (see ops/metrics).
            prometheus_values.ValueClass = prometheus_values.get_value_class()
            registry = CollectorRegistry()
            _metrics = JobMetrics(
                registry=registry,
                outcomes=Counter(
                    "tongban_jobs",
                    "Background job runs by task and outcome (succeeded, retry, failed)",
                    ["task", "outcome"],
                    registry=registry,
                ),
                duration=Histogram(
                    "tongban_job_duration_seconds",
                    "Time one background job run took, by task",
                    ["task"],
                    buckets=DURATION_BUCKETS,
                    registry=registry,
                ),
            )
        return _metrics


def serve(port: int, address: str = "127.0.0.1") -> None:
    """Expose this worker's job metrics at http://ADDRESS:PORT/metrics (a daemon thread)."""
    start_http_server(port, addr=address, registry=job_metrics().registry)
