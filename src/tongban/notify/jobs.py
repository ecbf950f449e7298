"""Delivery of the outbox: `tongban worker` runs it every few seconds (tongban.jobs), and on
PostgreSQL also at once after a message is queued (``tongban.jobs.queue``).

Each batch is claimed in one short transaction, sent with no transaction open (a slow
mail server must not hold a database lock), and each result is recorded in its own
short transaction. Several workers may run at once: a row is claimed by one of them.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from tongban.config import Settings, get_settings
from tongban.db import transaction
from tongban.kit.clock import now
from tongban.notify import channels, repository, rules
from tongban.notify.models import Notification
from tongban.notify.rules import Outcome
from tongban.notify.schemas import DeliveryReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A claimed row, decrypted in memory for the one send."""

    id: int
    token: str
    key: str
    channel: str
    address: str
    subject: str
    body: str
    attempts: int
    expires_at: datetime | None

    @classmethod
    def of(cls, row: Notification) -> Job:
        return cls(
            id=row.id,
            token=row.claim_token or "",
            key=row.dedupe_key,
            channel=row.channel,
            address=row.address,
            subject=row.subject,
            body=row.body,
            attempts=row.attempts,
            expires_at=row.expires_at,
        )


def _lease(settings: Settings, batch: int) -> timedelta:
    """Long enough for the whole batch to time out one send after another."""
    per_send = max(settings.smtp_timeout_seconds, settings.sms_gateway_timeout_seconds) * 2 + 5
    return timedelta(seconds=per_send * batch + 60)


def deliver_due(url: str | None = None, *, max_batches: int = 50) -> DeliveryReport:
    """Send every due message (up to ``max_batches`` batches); returns what happened."""
    settings = get_settings()
    report = DeliveryReport()
    size = max(1, settings.notify_batch_size)
    for _ in range(max_batches):
        token = secrets.token_hex(16)
        at = now()
        with transaction(url) as session:
            rows = repository.claim_due(
                session, at=at, limit=size, token=token, lease_until=at + _lease(settings, size)
            )
            jobs = [Job.of(row) for row in rows]
        for job in jobs:
            _deliver(url, settings, job, report)
        if len(jobs) < size:
            break
    return report


def _deliver(url: str | None, settings: Settings, job: Job, report: DeliveryReport) -> None:
    if job.expires_at is not None and now() >= job.expires_at:
        _finish(url, job, {"status": "expired", "last_error": "expired"})
        report.expired += 1
        return
    if job.attempts > settings.notify_max_attempts:  # claims lapsed: a worker kept dying
        _finish(url, job, {"status": "failed", "last_error": "claim_lapsed"})
        report.failed += 1
        return
    outcome = _send(url, settings, job)
    at = now()
    if outcome.error.endswith("_not_configured"):
        _finish(url, job, {"status": "skipped", "last_error": outcome.error})
        report.skipped += 1
    elif outcome.kind == "sent":
        values = {"status": "sent", "sent_at": at, "last_error": "", "provider_ref": outcome.ref}
        _finish(url, job, values)
        report.sent += 1
    elif rules.after_failure(outcome, job.attempts, settings.notify_max_attempts) == "pending":
        delay = rules.retry_delay(
            job.attempts,
            base=settings.notify_retry_seconds,
            cap=settings.notify_retry_max_seconds,
        )
        values = {
            "status": "pending",
            "next_attempt_at": at + timedelta(seconds=delay),
            "last_error": outcome.error[: rules.ERROR_LIMIT],
        }
        _finish(url, job, values)
        report.retried += 1
    else:
        _finish(url, job, {"status": "failed", "last_error": outcome.error[: rules.ERROR_LIMIT]})
        report.failed += 1
        log.warning("notification %s failed after %s attempts: %s", job.id, job.attempts, outcome)


def _send(url: str | None, settings: Settings, job: Job) -> Outcome:
    try:
        if job.channel == "email":
            if not settings.smtp_host:
                return Outcome("failed", "smtp_not_configured")
            message = channels.email_message(
                settings,
                to=job.address,
                subject=job.subject,
                body=job.body,
                message_id=rules.message_id(job.key, settings.smtp_from),
            )
            return channels.send_email(settings, message)
        if job.channel == "sms":
            gateway = channels.sms_gateway(settings, url)
            if gateway is None:
                return Outcome("failed", "sms_not_configured")
            key = rules.idempotency_key(job.key)
            return gateway.send(to=job.address, text=job.body, idempotency_key=key)
    except Exception as error:  # a bug or an odd answer: retried, never lost silently
        log.exception("notification %s: unexpected error while sending", job.id)
        return Outcome("retry", f"error_{type(error).__name__}")
    return Outcome("failed", f"unknown_channel_{job.channel}")


def _finish(url: str | None, job: Job, values: dict[str, object]) -> None:
    with transaction(url) as session:
        if not repository.finish(session, row_id=job.id, token=job.token, values=values):
            log.warning("notification %s: claim lost before its result was recorded", job.id)


class BackgroundDelivery:
    """Delivers every ``interval`` seconds in a daemon thread (the demo; not production).

    ``stop()`` ends the loop and waits for the current round to finish.
    """

    def __init__(self, url: str | None = None, *, interval: float = 1.5) -> None:
        self.url = url
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tongban-notify", daemon=True)

    def start(self) -> BackgroundDelivery:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                deliver_due(self.url)
            except Exception:  # the database may be busy or briefly away: try next time
                log.exception("notification delivery round failed")
            self._stop.wait(self.interval)
