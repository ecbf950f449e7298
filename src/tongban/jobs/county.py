"""SQLite (the county): APScheduler in the one worker process of the one machine.

SQLite has no job-queue library that coordinates several processes (procrastinate needs
PostgreSQL), and a county needs none: one ``tongban worker`` runs the same tasks on the
same schedule, each in a pool thread, one run of a task at a time, a failed run retried
like on PostgreSQL. A second worker on the same database file refuses to start (an
exclusive lock on ``<database>.worker.lock``), so nothing runs twice by accident. The
schedule lives in memory: every task is a sweep of durable rows, so a restart loses
nothing (the first ticks run at start).
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url

from tongban.errors import DomainError
from tongban.jobs.runs import run_task
from tongban.jobs.tasks import Periodic

log = logging.getLogger("tongban.worker")
THREADS = 3


class WorkerAlreadyRunning(DomainError):
    """Another worker holds this database's worker lock."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            "worker_already_running",
            f"已有一个 tongban worker 在处理此数据库（锁文件 {path}）：SQLite 部署只运行一个。",
            f"Another tongban worker is running on this database (lock {path}): "
            "a SQLite deployment runs one.",
            status=409,
        )


def lock_path(url: str) -> Path | None:
    """The lock file beside a SQLite database file; None for an in-memory database and
    for a server database."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".worker.lock")


class CountyWorker:
    """The tasks on their schedule in a background scheduler: ``start()``, ``stop()``."""

    def __init__(self, url: str, tasks: Sequence[Periodic], *, threads: int = THREADS) -> None:
        self.url = url
        self.tasks = tuple(tasks)
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(threads)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
            timezone=UTC,
        )
        self._running = {task.name: threading.Lock() for task in self.tasks}
        # APScheduler logs every run at INFO, and a tick skipped because the previous run
        # is still going (max_instances) as a WARNING: both expected; run_task logs the runs
        # that did something and every failure.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        self._lock_file: IO[str] | None = None

    def start(self) -> CountyWorker:
        self._take_lock()
        first = datetime.now(UTC)
        for task in self.tasks:
            self.scheduler.add_job(
                self._run,
                IntervalTrigger(seconds=task.seconds, timezone=UTC),
                args=[task, 0],
                id=task.name,
                name=task.name,
                next_run_time=first,
            )
        self.scheduler.start()
        return self

    def stop(self) -> None:
        """Stop scheduling and wait for the runs in progress."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self._lock_file is not None:
            self._lock_file.close()  # closing releases the lock
            self._lock_file = None

    def _run(self, task: Periodic, attempt: int) -> None:
        running = self._running[task.name]
        if not running.acquire(blocking=False):
            return  # the run in progress does this work (a retry met the next tick)
        try:
            run_task(task, self.url, attempt=attempt)
        except Exception:  # logged and counted by run_task
            if attempt < task.retries and self.scheduler.running:
                self.scheduler.add_job(
                    self._run,
                    "date",
                    run_date=datetime.now(UTC) + timedelta(seconds=task.retry_seconds),
                    args=[task, attempt + 1],
                    id=f"{task.name}:retry",
                    replace_existing=True,
                )
        finally:
            running.release()

    def _take_lock(self) -> None:
        path = lock_path(self.url)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise WorkerAlreadyRunning(path) from None
        self._lock_file = handle
