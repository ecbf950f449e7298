"""PostgreSQL (the province): procrastinate, one queue in the database shared by every
worker on every host.

- A periodic task is deferred by whichever worker's clock reaches the tick first; the
  database keeps one job per task and tick (``procrastinate_periodic_defers`` is unique on
  task, id and timestamp), and a job is fetched by one worker (``FOR UPDATE SKIP LOCKED``):
  each tick runs once, however many workers there are.
- ``queueing_lock``: a tick is skipped while the previous one still waits, so a slow or
  stopped cluster never piles up a backlog; ``lock``: one run of a task at a time.
- A failed run is retried (``RetryStrategy``); a worker that dies mid-job stops sending
  heartbeats and the housekeeping task hands its jobs back to the queue.

Procrastinate's tables and functions live in their own schema ``procrastinate`` (migration
0014), so they never mix with the domains' tables; the worker's connections put it first
on their search path.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import procrastinate
from procrastinate import JobContext, RetryStrategy
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from tongban.jobs.queue import QUEUE, SCHEMA
from tongban.jobs.runs import run_task
from tongban.jobs.tasks import Periodic

log = logging.getLogger("tongban.worker")

CONCURRENCY = 4  # sync tasks run in threads; each holds at most one SQLAlchemy connection
HOUSEKEEPING = "procrastinate_housekeeping"
STALLED_SECONDS = 60.0  # a worker silent this long is gone; its running jobs are retried
KEEP_FINISHED_HOURS = 24  # failed jobs stay this long for `procrastinate` inspection


def conninfo(url: str) -> str:
    """The libpq connection string of a SQLAlchemy URL, with the job schema first."""
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return make_conninfo(libpq, options=f"-c search_path={SCHEMA}")


def cron(seconds: float) -> str:
    """Procrastinate's cron (a sixth field for seconds) for a period in seconds."""
    whole = max(1, round(seconds))
    if whole < 60:
        return f"* * * * * */{whole}"
    minutes = max(1, round(whole / 60))
    if minutes < 60:
        return f"*/{minutes} * * * *"
    return f"0 */{max(1, round(minutes / 60))} * * *"


def build_app(url: str, tasks: Sequence[Periodic]) -> procrastinate.App:
    """A procrastinate app for ``url`` with every task and its periodic schedule."""
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(url), min_size=1, max_size=CONCURRENCY + 3
    )
    app = procrastinate.App(connector=connector)
    for task in tasks:
        _register(app, url, task)
    _register_housekeeping(app)
    return app


def _register(app: procrastinate.App, url: str, task: Periodic) -> None:
    def run(context: JobContext, timestamp: int = 0) -> str:
        return run_task(task, url, attempt=context.job.attempts)

    run.__name__ = task.name
    job = app.task(
        name=task.name,
        queue=QUEUE,
        pass_context=True,
        lock=task.name,
        queueing_lock=task.name,
        retry=RetryStrategy(max_attempts=task.retries, wait=task.retry_seconds),
    )(run)
    app.periodic(cron=cron(task.seconds), periodic_id=task.name)(job)


def _register_housekeeping(app: procrastinate.App) -> None:
    async def housekeeping(timestamp: int = 0) -> None:
        manager = app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_SECONDS):
            log.warning("job %s (%s) was stalled: retried", job.id, job.task_name)
            await manager.retry_job(job)
        await manager.delete_old_jobs(nb_hours=KEEP_FINISHED_HOURS, include_failed=True)

    job = app.task(name=HOUSEKEEPING, queue=QUEUE, queueing_lock=HOUSEKEEPING)(housekeeping)
    app.periodic(cron="* * * * *", periodic_id=HOUSEKEEPING)(job)


def worker_options(name: str | None = None) -> dict[str, Any]:
    """How every worker runs: finished jobs deleted at once (a tick a second would fill
    the table), failed ones kept a day for inspection by the housekeeping."""
    return {
        "queues": [QUEUE],
        "name": name,
        "concurrency": CONCURRENCY,
        "delete_jobs": "successful",
        "stalled_worker_timeout": STALLED_SECONDS,
    }


def run(url: str, tasks: Sequence[Periodic], *, name: str | None = None) -> None:
    """Work until SIGINT or SIGTERM (the jobs running then are finished first)."""
    build_app(url, tasks).run_worker(**worker_options(name))


def defer_now(url: str, task: Periodic) -> bool:
    """Queue one run of ``task`` now (e.g. delivery after a message was queued); False when
    a run is already waiting, which will see the new work anyway."""
    app = build_app(url, [task])
    with app.open():
        try:
            app.configure_task(task.name, queueing_lock=task.name).defer(timestamp=0)
        except procrastinate.exceptions.AlreadyEnqueued:
            return False
    return True
