"""Periodic case work for `tongban worker`: deadline warnings to the staff who owe the work,
and files chosen on a form that was never sent, removed after a week.

Every accepted case whose clock runs (审查中) and whose promised deadline is at most
``warning_workdays`` working days away (预警) or past (超期) raises ``CaseDeadlineNear``
for the departments that owe the next step: those with a pending task, or the lead
department while the case waits for its decision. The notification side keys each
message by case, status and day, so running the sweep often sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tongban import events
from tongban.cases.models import Case, Upload
from tongban.cases.rules import OPEN_TASK_STATES, State
from tongban.cases.storage import get_storage
from tongban.config import get_settings
from tongban.db import transaction
from tongban.kit.clock import SHANGHAI, now
from tongban.workdays import service as workdays_service


def sweep_deadlines(session: Session, *, at: datetime | None = None) -> int:
    """Publish a warning for every case near or past its deadline; returns how many."""
    moment = at or now()
    today = moment.astimezone(SHANGHAI).date()
    horizon = workdays_service.add_workdays(
        session, start=today, n=get_settings().warning_workdays
    ).date
    # deadline_at is the end of the deadline day (midnight after it, Beijing time).
    limit = datetime.combine(horizon + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI)
    cases = session.scalars(
        select(Case)
        .where(Case.state == State.IN_REVIEW, Case.deadline_at.is_not(None))
        .where(Case.deadline_at <= limit)
        .options(selectinload(Case.tasks))
    )
    published = 0
    for case in cases:
        departments = _owing(case)
        if not departments or case.deadline_at is None:
            continue
        status = "overdue" if case.deadline_at <= moment else "warning"
        events.publish(
            session,
            events.CaseDeadlineNear(
                case_no=case.case_no,
                title=case.title,
                status=status,
                deadline_on=_deadline_day(case.deadline_at),
                department_codes=departments,
                region_code=case.region_code,
            ),
        )
        published += 1
    return published


def warn_deadlines(url: str | None = None, *, at: datetime | None = None) -> int:
    """``sweep_deadlines`` in a transaction of its own (the job runner's entry)."""
    with transaction(url) as session:
        return sweep_deadlines(session, at=at)


def _owing(case: Case) -> tuple[str, ...]:
    pending = [t.department_code for t in case.tasks if t.state == "pending"]
    if pending:
        return tuple(dict.fromkeys(pending))
    if any(t.state in OPEN_TASK_STATES for t in case.tasks):
        return ()
    return (case.lead_department_code,)


def _deadline_day(deadline_at: datetime) -> date:
    return (deadline_at.astimezone(SHANGHAI) - timedelta(seconds=1)).date()


# Files kept for a form that came back with an error (pending uploads) wait this long for
# the person to send the form again; the grace period also covers a concurrent upload of
# the same content, which renews the stored file.
PENDING_UPLOAD_DAYS = 7
SWEEP_BATCH = 500


def sweep_stale_uploads(url: str | None = None, *, at: datetime | None = None) -> int:
    """Delete pending uploads older than PENDING_UPLOAD_DAYS, and their files once no
    upload refers to them; returns how many uploads went. Rows go first, in their own
    transaction, so a file is never missing under a row that still points to it."""
    cutoff = (at or now()) - timedelta(days=PENDING_UPLOAD_DAYS)
    with transaction(url) as session:
        stale = session.scalars(
            select(Upload)
            .where(Upload.case_id.is_(None), Upload.created_at < cutoff)
            .order_by(Upload.id)
            .limit(SWEEP_BATCH)
        ).all()
        hashes = {upload.sha256 for upload in stale}
        for upload in stale:
            session.delete(upload)
    storage = get_storage()
    for sha256 in sorted(hashes):
        storage.discard(sha256, still_needed=_referenced(url, sha256), untouched_since=cutoff)
    return len(stale)


def _referenced(url: str | None, sha256: str) -> Callable[[], bool]:
    """Asks, when called, whether any upload still refers to the file ``sha256``."""

    def ask() -> bool:
        with transaction(url) as session:
            found = session.scalar(select(Upload.id).where(Upload.sha256 == sha256).limit(1))
        return found is not None

    return ask
