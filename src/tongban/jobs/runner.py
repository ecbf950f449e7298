"""The worker: every task once (``--once``), or on its schedule under the runner the
database URL calls for — procrastinate on PostgreSQL, APScheduler on SQLite."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from tongban.jobs import tasks
from tongban.jobs.runs import log, run_task


def configure_logging() -> None:
    """INFO lines on standard error through the privacy filter (a failed delivery's error
    may quote an address), JSON with TONGBAN_LOG_FORMAT=json like the web server's; the
    libraries' per-job lines only from WARNING."""
    from tongban.ops.logs import use_json_logs
    from tongban.ops.settings import get_ops_settings
    from tongban.privacy.logs import PersonalDataFilter

    handler = logging.StreamHandler()
    handler.addFilter(PersonalDataFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    if get_ops_settings().log_format == "json":
        use_json_logs()


def is_postgresql(url: str) -> bool:
    return url.startswith("postgresql")


def run_once(url: str | None, *, say: Callable[[str], None] = print) -> bool:
    """Every task once, in ``ONCE_ORDER``; one failing does not stop the others. True when
    all succeeded."""
    by_name = {task.name: task for task in tasks.schedule(interval=1.0)}
    ok = True
    for name in tasks.ONCE_ORDER:
        task = by_name[name]
        try:
            say(run_task(task, url, attempt=task.retries))  # no retry: the next round is one
        except Exception:
            ok = False
    return ok


def run_forever(url: str, *, interval: float, name: str | None = None) -> None:
    """Run the schedule until SIGINT or SIGTERM."""
    schedule = tasks.schedule(interval)
    if is_postgresql(url):
        from tongban.jobs import postgres

        postgres.run(url, schedule, name=name)
        return
    from tongban.jobs.county import CountyWorker

    worker = CountyWorker(url, schedule).start()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        log.info("stopping: waiting for the runs in progress")
        worker.stop()
