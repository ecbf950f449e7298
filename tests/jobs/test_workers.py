"""`tongban worker` as operators run it: two processes on PostgreSQL deliver a queued
e-mail to a real SMTP server once; on SQLite a second worker refuses to start."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from jobs_support import queue_mail, wait_until
from notify_support import SmtpSink, free_port


@contextmanager
def tongban_worker(url: str, *, metrics_port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = os.environ | {"TONGBAN_DATABASE_URL": url, "TONGBAN_WORKER_INTERVAL_SECONDS": "2"}
    command = [sys.executable, "-m", "tongban.cli", "worker", "--metrics-port", str(metrics_port)]
    with tempfile.TemporaryFile() as log:  # a file, not a pipe nobody reads
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        try:
            yield process
        finally:
            process.terminate()  # SIGTERM: the running jobs finish, then it exits
            process.wait(timeout=60)


def runs(port: int, task: str) -> float:
    """Succeeded runs of ``task`` on the worker serving metrics at ``port`` (0 until up)."""
    try:
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return 0.0
    wanted = f'tongban_jobs_total{{outcome="succeeded",task="{task}"}} '
    for line in body.splitlines():
        if line.startswith(wanted):
            return float(line.removeprefix(wanted))
    return 0.0


def test_two_worker_processes_deliver_each_mail_once(
    pg_db: str, smtp_sink: SmtpSink, record_property: pytest.RecordProperty
) -> None:
    queue_mail(pg_db, "first")
    ports = [free_port(), free_port()]
    with tongban_worker(pg_db, metrics_port=ports[0]), tongban_worker(pg_db, metrics_port=ports[1]):
        smtp_sink.wait_for(1, timeout=90)
        queue_mail(pg_db, "second")  # while both are running
        smtp_sink.wait_for(2, timeout=60)

        def deliveries() -> float:
            return sum(runs(port, "deliver_notifications") for port in ports)

        seen = deliveries()
        wait_until(lambda: deliveries() >= seen + 3, what="three more delivery rounds")
        both = [runs(port, "integrate_audit") for port in ports]
        delivered = deliveries()
    recipients = sorted(str(m["To"]) for m in smtp_sink.messages)
    assert recipients == ["first@example.cn", "second@example.cn"]
    record_property(
        "summary",
        f"jobs: 2 `tongban worker` processes on PostgreSQL → each e-mail delivered once "
        f"({delivered:g} delivery runs in all; audit integration runs split {both[0]:g}"
        f"/{both[1]:g})",
    )


def test_a_second_county_worker_refuses_to_start(sqlite_db: str) -> None:
    port = free_port()
    with tongban_worker(sqlite_db, metrics_port=port) as first:
        wait_until(lambda: runs(port, "integrate_audit") >= 1, what="the first worker")
        second = subprocess.run(
            [sys.executable, "-m", "tongban.cli", "worker"],
            env=os.environ | {"TONGBAN_DATABASE_URL": sqlite_db},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert first.poll() is None
    assert second.returncode == 2
    assert "worker_already_running" in second.stderr and "已有一个" in second.stderr
