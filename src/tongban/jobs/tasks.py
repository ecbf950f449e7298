"""The background tasks: each calls the domain that owns the work and answers one line
for the log (and for ``tongban worker --once``). Each opens its own short transactions,
so one failing does not undo another's work, and each is safe to run again: the domains
key what they send (notification claims, dedupe keys), so a retry sends nothing twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tongban.jobs.queue import DELIVERY_TASK

Task = Callable[[str | None], str]


def deliver_notifications(url: str | None) -> str:
    """Send the due e-mail and SMS of the outbox (claimed row by row: never sent twice)."""
    from tongban.notify import jobs as notify_jobs

    sent = notify_jobs.deliver_due(url)
    return (
        f"notifications sent {sent.sent} · retried {sent.retried} · failed {sent.failed} · "
        f"skipped {sent.skipped} · expired {sent.expired}"
    )


def sweep_complaints(url: str | None) -> str:
    """Complaint deadline warnings and escalations, auto-confirmation, overdue follow-ups."""
    from tongban.feedback import jobs as feedback_jobs

    report = feedback_jobs.run_once(url)
    return (
        f"warnings {report.warnings} · escalations {report.escalations} · "
        f"auto-confirmed {report.auto_confirmed} · "
        f"follow-ups overdue {report.follow_ups_overdue}"
    )


def warn_case_deadlines(url: str | None) -> str:
    """Deadline warnings (预警/超期) to the departments that owe a case's next step."""
    from tongban.cases import jobs as case_jobs

    return f"case deadline warnings {case_jobs.warn_deadlines(url)}"


def remove_stale_uploads(url: str | None) -> str:
    """Files chosen on a form that was never sent, a week later."""
    from tongban.cases import jobs as case_jobs

    return f"stale pending uploads removed {case_jobs.sweep_stale_uploads(url)}"


def integrate_audit(url: str | None) -> str:
    """Queued audit entries merged into the tamper-evident tree."""
    from tongban.audit import service as audit_service

    return f"audit entries integrated {audit_service.integrate_pending(url)}"


@dataclass(frozen=True)
class Periodic:
    """A task run every ``seconds``. ``retries``: further attempts after a failure, each
    ``retry_seconds`` later (the next tick comes anyway; a retry only comes sooner)."""

    name: str
    run: Task
    seconds: float
    retries: int = 2
    retry_seconds: int = 2


# How often each runs, in seconds (the sweeps follow TONGBAN_WORKER_INTERVAL_SECONDS).
AUDIT_SECONDS = 1.0  # an access is in the signed tree about a second after it happened
DELIVERY_SECONDS = 5.0  # notifications also go out at once where the runner allows
STALE_UPLOAD_SECONDS = 3600.0


def schedule(interval: float, *, delivery: float | None = None) -> tuple[Periodic, ...]:
    """Every periodic task; ``interval`` is the sweeps' period (the worker's setting),
    ``delivery`` the outbox's (default: DELIVERY_SECONDS, or ``interval`` if shorter)."""
    return (
        Periodic("integrate_audit", integrate_audit, AUDIT_SECONDS),
        Periodic(DELIVERY_TASK, deliver_notifications, delivery or min(DELIVERY_SECONDS, interval)),
        Periodic("warn_case_deadlines", warn_case_deadlines, interval),
        Periodic("sweep_complaints", sweep_complaints, interval),
        Periodic("remove_stale_uploads", remove_stale_uploads, STALE_UPLOAD_SECONDS),
    )


# The order of ``tongban worker --once``: warnings first, so the notifications they raise
# are delivered in the same round.
ONCE_ORDER = (
    "warn_case_deadlines",
    "sweep_complaints",
    "integrate_audit",
    "deliver_notifications",
    "remove_stale_uploads",
)
