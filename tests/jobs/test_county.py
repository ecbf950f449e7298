"""The county: one worker on SQLite runs the same tasks with APScheduler."""

from __future__ import annotations

import pytest

from jobs_support import queue_mail, wait_until
from notify_support import SmtpSink
from tongban.events import register_handlers
from tongban.jobs.county import CountyWorker, WorkerAlreadyRunning, lock_path
from tongban.jobs.metrics import job_metrics
from tongban.jobs.tasks import Periodic, schedule


def test_the_county_worker_runs_every_task_and_delivers_mail(
    sqlite_db: str, smtp_sink: SmtpSink
) -> None:
    register_handlers()
    queue_mail(sqlite_db, "county")
    metrics = job_metrics()
    tasks = schedule(interval=1.0)
    before = {task.name: metrics.count(task.name, "succeeded") for task in tasks}
    worker = CountyWorker(sqlite_db, tasks).start()
    try:
        (mail,) = smtp_sink.wait_for(1, timeout=60)
        wait_until(
            lambda: all(metrics.count(t.name, "succeeded") > before[t.name] for t in tasks),
            what="a run of every task",
        )
        with pytest.raises(WorkerAlreadyRunning):  # one worker per database file
            CountyWorker(sqlite_db, []).start()
    finally:
        worker.stop()
    assert mail["To"] == "county@example.cn"
    CountyWorker(sqlite_db, []).start().stop()  # the lock went with the first worker


def test_a_failing_county_job_is_retried_and_counted(sqlite_db: str) -> None:
    calls: list[int] = []

    def flaky(url: str | None) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("database is locked")
        return "flaky ran 1"

    metrics = job_metrics()
    retried, succeeded = (metrics.count("county_flaky", o) for o in ("retry", "succeeded"))
    worker = CountyWorker(
        sqlite_db, [Periodic("county_flaky", flaky, seconds=86400, retry_seconds=0)]
    ).start()
    try:
        wait_until(lambda: metrics.count("county_flaky", "succeeded") > succeeded, what="retry")
    finally:
        worker.stop()
    assert metrics.count("county_flaky", "retry") == retried + 1
    assert len(calls) == 2  # the daily tick ran at start, then its one retry


def test_the_lock_file_sits_beside_the_database_file() -> None:
    assert str(lock_path("sqlite:////var/lib/tongban/tongban.db")) == (
        "/var/lib/tongban/tongban.db.worker.lock"
    )
    assert lock_path("sqlite://") is None
    assert lock_path("postgresql+psycopg://tongban@db/tongban") is None
