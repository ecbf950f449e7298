"""The work queues as SQL (cases.queue_rules says the same in Python; a test compares them).

Each queue is a condition on the case row (and its tasks) plus the reader's scope: the
region a clerk or administrator serves, or the reviewer's department.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session

from tongban.access.rules import Actor, Role
from tongban.cases.models import Case, Task
from tongban.cases.queue_rules import ACCEPTANCE_STATES, SUPPLEMENT_STATES, Queue
from tongban.cases.rules import OPEN_TASK_STATES, State
from tongban.regions.rules import region_prefix


def _task(department: str | None = None, states: tuple[str, ...] = ()) -> ColumnElement[bool]:
    conditions = [Task.case_id == Case.id]
    if department is not None:
        conditions.append(Task.department_code == department)
    if states:
        conditions.append(Task.state.in_(states))
    return exists().where(and_(*conditions))


def _awaits_decision() -> ColumnElement[bool]:
    return and_(Case.state == State.IN_REVIEW, ~_task(states=tuple(OPEN_TASK_STATES)))


def _overdue(at: datetime) -> ColumnElement[bool]:
    return and_(Case.state == State.IN_REVIEW, Case.deadline_at < at)


def _region_condition(queue: Queue, at: datetime) -> ColumnElement[bool]:
    match queue:
        case Queue.ACCEPTANCE:
            return Case.state.in_(ACCEPTANCE_STATES)
        case Queue.SUPPLEMENT:
            return Case.state.in_(SUPPLEMENT_STATES)
        case Queue.DECIDE:
            return and_(Case.decided_by == "window", _awaits_decision())
        case Queue.CLOSE:
            return Case.state == State.DECIDED
        case Queue.DELIVER:
            return Case.state == State.CLOSED
        case Queue.OVERDUE:
            return _overdue(at)
    return false()


def _department_condition(queue: Queue, department: str, at: datetime) -> ColumnElement[bool]:
    leads = Case.lead_department_code == department
    involved = or_(leads, _task(department))
    decides = and_(leads, Case.decided_by == "department", _awaits_decision())
    match queue:
        case Queue.TASKS:
            return and_(Case.state == State.IN_REVIEW, _task(department, ("pending",)))
        case Queue.DECIDE:
            return decides
        case Queue.SUPPLEMENT:
            return and_(Case.state == State.REVIEW_SUPPLEMENT, involved)
        case Queue.SPECIAL:
            return and_(Case.state == State.SUSPENDED, involved)
        case Queue.OVERDUE:
            return and_(_overdue(at), or_(_task(department, ("pending",)), decides))
    return false()


def condition(queue: Queue, actor: Actor, at: datetime) -> ColumnElement[bool]:
    """The cases of ``queue`` as ``actor`` owns it (false when the role does not own it)."""
    if actor.role in (Role.CLERK, Role.ADMIN) and actor.region_code:
        in_region = Case.region_code.startswith(region_prefix(actor.region_code))
        return and_(in_region, _region_condition(queue, at))
    if actor.role == Role.REVIEWER and actor.department_code:
        return _department_condition(queue, actor.department_code, at)
    return false()


_ORDER: dict[Queue, tuple[Any, ...]] = {
    Queue.ACCEPTANCE: (Case.submitted_at, Case.id),
    Queue.CLOSE: (Case.decided_at, Case.id),
    Queue.DELIVER: (Case.closed_at, Case.id),
}
_BY_DEADLINE = (Case.deadline_at.is_(None), Case.deadline_at, Case.submitted_at, Case.id)


def _query(queue: Queue, actor: Actor, at: datetime, channel: str | None) -> Select[Any]:
    query = select(Case).where(condition(queue, actor, at))
    if channel is not None:
        query = query.where(Case.delivery_preference == channel)
    return query


def page(
    session: Session,
    *,
    queue: Queue,
    actor: Actor,
    at: datetime,
    page: int,
    size: int,
    channel: str | None = None,
) -> tuple[list[Case], int]:
    query = _query(queue, actor, at, channel)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = query.order_by(*_ORDER.get(queue, _BY_DEADLINE))
    rows = session.scalars(ordered.offset((page - 1) * size).limit(size))
    return list(rows), total


def count(session: Session, *, queue: Queue, actor: Actor, at: datetime) -> int:
    query = select(func.count()).select_from(Case).where(condition(queue, actor, at))
    return session.scalar(query) or 0


def delivery_counts(session: Session, *, actor: Actor, at: datetime) -> dict[str, int]:
    """The deliver queue by the applicant's chosen channel (pickup, mail, electronic)."""
    query = (
        select(Case.delivery_preference, func.count())
        .where(condition(Queue.DELIVER, actor, at))
        .group_by(Case.delivery_preference)
    )
    return {str(channel): int(n) for channel, n in session.execute(query)}


def task_facts(session: Session, case_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """(department, task state) of each case's tasks, for the Python side of the rules."""
    if not case_ids:
        return {}
    rows = session.execute(
        select(Task.case_id, Task.department_code, Task.state).where(Task.case_id.in_(case_ids))
    )
    facts: dict[int, list[tuple[str, str]]] = {case_id: [] for case_id in case_ids}
    for case_id, department, state in rows:
        facts[case_id].append((department, state))
    return facts
