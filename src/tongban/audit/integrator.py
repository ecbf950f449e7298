"""The integrator: queued audit entries into the tree, within the maximum merge delay.

Every app server process runs one background thread (``running``, started by the app's
lifespan) that looks for queued entries every quarter of
``audit_max_merge_delay_seconds`` and integrates them (``audit.queue.integrate``).
Processes and servers serialize on the head lock; one that finds the queue empty
spends one indexed read without a lock. ``tongban audit integrate`` and the job runner
call ``integrate_pending`` too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from sqlalchemy import select

from tongban.config import get_settings

log = logging.getLogger(__name__)


def has_pending(url: str | None = None) -> bool:
    """Whether anything is queued, read without taking any lock (SQLite: a deferred read)."""
    from tongban.audit import queue
    from tongban.audit.verify import read_only_session

    with read_only_session(url or get_settings().database_url) as session:
        return session.execute(select(queue.QUEUE.c.id).limit(1)).first() is not None


def integrate_pending(url: str | None = None) -> int:
    """Integrate every queued entry, one batch per transaction; returns how many were
    looked at (a row whose MAC fails is counted once and stays queued)."""
    from tongban.audit import queue
    from tongban.db import transaction

    if not has_pending(url):
        return 0
    total = 0
    while True:
        with transaction(url) as session:
            seen = queue.integrate(session)
        total += seen
        if seen < queue.BATCH:
            return total


class Integrator:
    """A daemon thread calling ``integrate_pending`` until stopped."""

    def __init__(self, url: str, interval: float) -> None:
        self.url = url
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-integrator", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        try:  # what was queued up to the end is not left for the next start
            integrate_pending(self.url)
        except Exception:
            log.exception("integrating the audit queue at shutdown failed")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                integrate_pending(self.url)
            except Exception:  # a lost connection: tried again next round
                log.exception("integrating the audit queue failed")


@asynccontextmanager
async def running(app: Any) -> AsyncIterator[None]:
    """App lifespan part: the process's integrator thread, from start-up to shutdown."""
    delay = app.state.settings.audit_max_merge_delay_seconds
    integrator = Integrator(app.state.database_url, max(0.05, delay / 4))
    integrator.start()
    try:
        yield
    finally:
        integrator.stop()


def with_integrator(
    lifespan: Callable[[Any], AbstractAsyncContextManager[None]],
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """The app's ``lifespan`` with the integrator thread running inside it."""

    @asynccontextmanager
    async def combined(app: Any) -> AsyncIterator[None]:
        async with lifespan(app), running(app):
            yield

    return combined
