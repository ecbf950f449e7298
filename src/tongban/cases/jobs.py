"""Periodic case work for `tongban worker`: deadline warnings to the staff who owe the work.

Every accepted case whose clock runs (审查中) and whose promised deadline is at most
``warning_workdays`` working days away (预警) or past (超期) raises ``CaseDeadlineNear``
for the departments that owe the next step: those with a pending task, or the lead
department while the case waits for its decision. The notification side keys each
message by case, status and day, so running the sweep often sends nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tongban import events
from tongban.cases.models import Case
from tongban.cases.rules import OPEN_TASK_STATES, State
from tongban.config import get_settings
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


def _owing(case: Case) -> tuple[str, ...]:
    pending = [t.department_code for t in case.tasks if t.state == "pending"]
    if pending:
        return tuple(dict.fromkeys(pending))
    if any(t.state in OPEN_TASK_STATES for t in case.tasks):
        return ()
    return (case.lead_department_code,)


def _deadline_day(deadline_at: datetime) -> date:
    return (deadline_at.astimezone(SHANGHAI) - timedelta(seconds=1)).date()
