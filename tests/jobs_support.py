"""Job workers for tests: procrastinate workers in threads of the test process (each with
its own event loop and connection pool, as separate processes would have), and a wait."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import text

from support import make_user
from tongban.db import get_engine, transaction
from tongban.jobs import postgres
from tongban.jobs.tasks import Periodic
from tongban.notify import service as notify_service


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)


@contextlib.contextmanager
def running_workers(
    url: str, workers: Sequence[Sequence[Periodic]], **options: Any
) -> Iterator[None]:
    """One procrastinate worker per list of tasks, until the block ends; ``options``
    override postgres.worker_options (e.g. ``delete_jobs="never"`` to inspect jobs)."""
    stop = threading.Event()
    failures: list[BaseException] = []

    def work(index: int, tasks: Sequence[Periodic]) -> None:
        async def main() -> None:
            app = postgres.build_app(url, tasks)
            settings = postgres.worker_options(f"test-worker-{index}") | options
            async with app.open_async():
                worker = asyncio.create_task(
                    app.run_worker_async(install_signal_handlers=False, **settings)
                )
                await asyncio.to_thread(stop.wait)
                worker.cancel()  # a graceful stop: running jobs finish first
                with contextlib.suppress(asyncio.CancelledError):
                    await worker

        try:
            asyncio.run(main())
        except BaseException as error:  # surfaced by the test
            failures.append(error)

    threads = [
        threading.Thread(target=work, args=(i, tasks), daemon=True)
        for i, tasks in enumerate(workers)
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert not failures, failures


PARAMS = {"case_no": "640425-20261203-000001", "title": "最低生活保障申请"}


def queue_mail(url: str, key: str) -> None:
    """An e-mail to ``<key>@example.cn`` in the outbox (the SMTP sink must be running)."""
    with transaction(url) as s:
        person = make_user(s, "applicant", email=f"{key}@example.cn")
        notify_service.notify(
            s,
            kind="case_accepted",
            params=PARAMS,
            dedupe_key=key,
            user_id=person.user_id,
        )


def forget_jobs(url: str) -> None:
    """Empty the job queue (the domains' tables are wiped by the clean_db fixture)."""
    with get_engine(url).begin() as conn:
        conn.execute(
            text(
                "TRUNCATE procrastinate.procrastinate_jobs, procrastinate.procrastinate_events,"
                " procrastinate.procrastinate_periodic_defers,"
                " procrastinate.procrastinate_workers RESTART IDENTITY CASCADE"
            )
        )


def jobs_of(url: str, task_name: str) -> list[dict[str, Any]]:
    """The queue's rows of one task: id, status, attempts and the periodic tick."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, status::text AS status, attempts, args->>'timestamp' AS tick"
                " FROM procrastinate.procrastinate_jobs WHERE task_name = :name ORDER BY id"
            ),
            {"name": task_name},
        )
        return [dict(row._mapping) for row in rows]
