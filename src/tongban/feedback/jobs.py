"""Periodic feedback work for `tongban worker`: each sweep in its own transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from tongban.db import transaction
from tongban.feedback import service
from tongban.feedback.schemas import SweepReport
from tongban.kit.clock import now

log = logging.getLogger(__name__)
Sweep = Callable[..., None]
SWEEPS: tuple[Sweep, ...] = (
    service.sweep_deadlines,
    service.auto_confirm,
    service.mark_overdue_follow_ups,
)


def run_once(url: str | None = None, *, at: datetime | None = None) -> SweepReport:
    """Every sweep once, as of ``at`` (default: now). Safe to run from several workers."""
    report = SweepReport()
    moment = at or now()
    for sweep in SWEEPS:
        session: Session
        with transaction(url) as session:
            sweep(session, at=moment, report=report)
    return report


def run_forever(
    url: str | None = None,
    *,
    interval: float,
    should_stop: Callable[[], bool] = lambda: False,
    on_report: Callable[[SweepReport], None] = lambda report: None,
) -> None:
    """Sweep every ``interval`` seconds; a failed round is logged and the next one tries again."""
    while not should_stop():
        started = time.monotonic()
        try:
            on_report(run_once(url))
        except Exception:  # a worker must outlive a database hiccup
            log.exception("feedback sweep failed")
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
