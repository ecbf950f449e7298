"""Job start latency on PostgreSQL: procrastinate waking on LISTEN/NOTIFY against the same
worker polling only (its fallback; a hand-rolled loop's best case is the same), measured
in the same run, plus how late a 1 s periodic tick starts.

Run: .venv/bin/python bench/jobs.py [--jobs 30] [--poll 1.0]

A scratch database is created (and dropped) on TONGBAN_TEST_PG_ADMIN_URL's server and
migrated. (a) ``--jobs`` jobs are deferred one after another (each waits for the previous
to start); latency = start of the run − the moment the defer returned. Once with
``listen_notify`` (the default of ``tongban worker``), once with polling every
``--poll`` seconds. (b) A 1 s periodic task runs for ``--jobs`` ticks; lateness = start of
the run − its tick. Printed: median and 95th percentile, and the ratio polling / notify.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from jobs_support import running_workers, wait_until
from tongban.db import upgrade
from tongban.jobs import postgres
from tongban.jobs.tasks import Periodic

ADMIN = os.environ.get(
    "TONGBAN_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def deferred_latency(url: str, jobs: int, **options: object) -> list[float]:
    started: list[float] = []

    def probe(_: str | None) -> str:
        started.append(time.time())
        return "probe ran 1"

    task = Periodic("bench_probe", probe, seconds=86400, retries=0)
    latencies = []
    with running_workers(url, [[task]], **options):
        time.sleep(1.0)  # the worker is listening
        for _ in range(jobs):
            count = len(started)
            postgres.defer_now(url, task)
            deferred = time.time()
            wait_until(lambda count=count: len(started) > count, timeout=30)
            latencies.append(started[-1] - deferred)
    return latencies


def tick_lateness(url: str, ticks: int) -> list[float]:
    started: list[float] = []
    lock = threading.Lock()

    def probe(_: str | None) -> str:
        with lock:
            started.append(time.time())
        return "tick ran 1"

    with running_workers(url, [[Periodic("bench_tick", probe, seconds=1, retries=0)]]):
        wait_until(lambda: len(started) >= ticks, timeout=ticks * 5)
    return [moment - int(moment) for moment in started]  # each tick is a whole second


def describe(name: str, values: list[float]) -> float:
    ordered = sorted(values)
    median = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"{name:<44} median {median * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms")
    return median


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--poll", type=float, default=1.0)
    args = parser.parse_args()
    name = f"tongban_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        notify = describe("deferred job, LISTEN/NOTIFY", deferred_latency(url, args.jobs))
        polled = describe(
            f"deferred job, polling every {args.poll:g} s",
            deferred_latency(
                url, args.jobs, listen_notify=False, fetch_job_polling_interval=args.poll
            ),
        )
        describe("1 s periodic tick, start after the tick", tick_lateness(url, args.jobs))
        print(f"ratio polling / notify (median): {polled / notify:.1f}")
    finally:
        from tongban.db import get_engine

        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
