"""The province: several procrastinate workers share one queue in PostgreSQL, and each
job, each periodic tick included, runs once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from jobs_support import PARAMS, jobs_of, queue_mail, running_workers, wait_until
from notify_support import SmtpSink
from support import make_user
from tongban.db import transaction
from tongban.jobs import postgres, tasks
from tongban.jobs.metrics import job_metrics
from tongban.jobs.queue import DELIVERY_TASK
from tongban.jobs.tasks import Periodic
from tongban.notify import service as notify_service


def test_two_workers_run_each_tick_of_a_periodic_task_once(
    pg_db: str, record_property: pytest.RecordProperty
) -> None:
    runs: list[str] = []
    lock = threading.Lock()

    def probe(worker: str) -> Periodic:
        def run(url: str | None) -> str:
            with lock:
                runs.append(worker)
            return "probe ran 1"

        return Periodic("tick_probe", run, seconds=1, retries=0)

    with running_workers(pg_db, [[probe("a")], [probe("b")]], delete_jobs="never"):
        wait_until(lambda: len(runs) >= 8, what="eight ticks")

    jobs = jobs_of(pg_db, "tick_probe")
    ticks = Counter(job["tick"] for job in jobs)
    assert ticks and max(ticks.values()) == 1, f"a tick was deferred twice: {ticks}"
    succeeded = [job for job in jobs if job["status"] == "succeeded"]
    assert len(runs) == len(succeeded), "a job ran twice, or ran without succeeding"
    assert {job["status"] for job in jobs} <= {"succeeded", "todo"}
    by_worker = Counter(runs)
    record_property(
        "summary",
        f"jobs: 2 procrastinate workers, {len(ticks)} ticks of a 1 s periodic task → "
        f"{len(runs)} runs ({by_worker['a']} on one worker, {by_worker['b']} on the other), "
        "0 duplicates",
    )


def test_a_failing_job_is_retried_and_its_outcomes_counted(pg_db: str) -> None:
    attempts: list[int] = []

    def flaky(url: str | None) -> str:
        attempts.append(len(attempts))
        if len(attempts) == 1:
            raise ConnectionError("the database went away for a moment")
        return "flaky ran 1"

    def broken(url: str | None) -> str:
        raise RuntimeError("always fails")

    metrics = job_metrics()
    before = {
        (task, outcome): metrics.count(task, outcome)
        for task in ("pg_flaky", "pg_broken")
        for outcome in ("succeeded", "retry", "failed")
    }

    def counted(task: str, outcome: str) -> float:
        return metrics.count(task, outcome) - before[(task, outcome)]

    tasks = [
        Periodic("pg_flaky", flaky, seconds=86400, retries=2, retry_seconds=0),
        Periodic("pg_broken", broken, seconds=86400, retries=1, retry_seconds=0),
    ]
    with running_workers(pg_db, [tasks], delete_jobs="never"):
        for task in tasks:  # now, not at the next daily tick
            assert postgres.defer_now(pg_db, task)
        wait_until(lambda: counted("pg_flaky", "succeeded") >= 1, what="the retry")
        wait_until(lambda: counted("pg_broken", "failed") >= 1, what="the last attempt")

    assert counted("pg_flaky", "retry") == 1 and counted("pg_flaky", "failed") == 0
    assert counted("pg_broken", "retry") == 1  # one retry allowed, then given up
    (flaky_job,) = jobs_of(pg_db, "pg_flaky")
    assert flaky_job["status"] == "succeeded" and flaky_job["attempts"] == 2
    (broken_job,) = jobs_of(pg_db, "pg_broken")
    assert broken_job["status"] == "failed" and broken_job["attempts"] == 2


def test_a_queued_message_queues_its_delivery_when_committed(
    pg_db: str, smtp_sink: SmtpSink
) -> None:
    with pytest.raises(RuntimeError), transaction(pg_db) as s:
        person = make_user(s, "applicant", email="never@example.cn")
        notify_service.notify(
            s, kind="case_accepted", params=PARAMS, dedupe_key="rolled-back", user_id=person.user_id
        )
        raise RuntimeError("the request failed after the message was queued")
    assert jobs_of(pg_db, DELIVERY_TASK) == []  # no message, no job
    queue_mail(pg_db, "first")
    queue_mail(pg_db, "second")  # a delivery already waits: no second job
    (job,) = jobs_of(pg_db, DELIVERY_TASK)
    assert job["status"] == "todo"
    # Only a daily tick of its own: the mail goes out because of the queued job.
    delivery = Periodic(DELIVERY_TASK, tasks.deliver_notifications, seconds=86400)
    with running_workers(pg_db, [[delivery]]):
        smtp_sink.wait_for(2, timeout=60)
    assert sorted(str(m["To"]) for m in smtp_sink.messages) == [
        "first@example.cn",
        "second@example.cn",
    ]
