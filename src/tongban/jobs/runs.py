"""One run of a task, the same under every runner: timed, counted by outcome, logged."""

from __future__ import annotations

import logging
import re
import time

from tongban.jobs.metrics import job_metrics
from tongban.jobs.tasks import Periodic

log = logging.getLogger("tongban.worker")
DID_SOMETHING = re.compile(r"(?<![\d.])[1-9]")


def run_task(task: Periodic, url: str | None, *, attempt: int = 0) -> str:
    """Run ``task`` once; ``attempt`` counts the earlier failed attempts of this job, so
    a failure is a ``retry`` while attempts remain and ``failed`` after the last."""
    started = time.perf_counter()
    try:
        summary = task.run(url)
    except Exception:
        outcome = "retry" if attempt < task.retries else "failed"
        job_metrics().record(task.name, outcome, time.perf_counter() - started)
        log.exception("job %s failed (attempt %d, %s)", task.name, attempt + 1, outcome)
        raise
    job_metrics().record(task.name, "succeeded", time.perf_counter() - started)
    # A run that did something is news; the idle ticks (every second for some) are not.
    level = logging.INFO if DID_SOMETHING.search(summary) else logging.DEBUG
    log.log(level, "job %s: %s", task.name, summary)
    return summary
