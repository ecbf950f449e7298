"""Every query of the cases domain, scoped by the caller."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, exists, false, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from tongban.access.rules import Actor, Role
from tongban.cases.models import (
    Case,
    CaseMaterial,
    CaseSequence,
    IdempotencyRecord,
    Task,
    Upload,
)
from tongban.regions.rules import region_prefix

OPEN_REVIEW_STATES = ("in_review", "review_supplement", "suspended")
ACCEPTANCE_STATES = ("submitted", "prereview", "supplement")


def _scoped(query: Select[Any], actor: Actor) -> Select[Any]:
    """Only cases the actor may see: a forgotten check cannot leak rows."""
    if actor.role == Role.APPLICANT:
        return query.where(Case.applicant_user_id == actor.user_id)
    if actor.role == Role.REVIEWER:
        own_task = exists().where(
            and_(Task.case_id == Case.id, Task.department_code == actor.department_code)
        )
        return query.where(own_task)
    if actor.role in (Role.CLERK, Role.ADMIN) and actor.region_code:
        return query.where(Case.region_code.startswith(region_prefix(actor.region_code)))
    return query.where(false())


def case_for(session: Session, actor: Actor, case_no: str) -> Case | None:
    query = _scoped(select(Case).where(Case.case_no == case_no), actor)
    return session.scalar(
        query.options(
            selectinload(Case.tasks),
            selectinload(Case.events),
            selectinload(Case.materials).joinedload(CaseMaterial.upload),
        )
    )


def case_by_no(session: Session, case_no: str) -> Case | None:
    return session.scalar(select(Case).where(Case.case_no == case_no))


def page_cases(
    session: Session, actor: Actor, states: Sequence[str] | None, page: int, size: int
) -> tuple[list[Case], int]:
    query = _scoped(select(Case), actor)
    if states:
        query = query.where(Case.state.in_(states))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Case.submitted_at.desc(), Case.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    )
    return list(rows), total


def acceptance_queue(
    session: Session, actor: Actor, page: int, size: int
) -> tuple[list[Case], int]:
    query = _scoped(select(Case), actor).where(Case.state.in_(ACCEPTANCE_STATES))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Case.submitted_at, Case.id).offset((page - 1) * size).limit(size)
    )
    return list(rows), total


def task_queue(session: Session, actor: Actor, page: int, size: int) -> tuple[list[Task], int]:
    query = (
        select(Task).join(Case).where(Case.state.in_(OPEN_REVIEW_STATES), Task.state == "pending")
    )
    if actor.role == Role.REVIEWER:
        query = query.where(Task.department_code == actor.department_code)
    elif actor.region_code:
        query = query.where(Case.region_code.startswith(region_prefix(actor.region_code)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.options(selectinload(Task.case))
        .order_by(Case.deadline_at.is_(None), Case.deadline_at, Task.id)
        .offset((page - 1) * size)
        .limit(size)
    )
    return list(rows), total


def next_sequence(session: Session, region_code: str, day: str) -> int:
    """Atomic per-(region, day) counter; unique under concurrency on both databases."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(CaseSequence)
        .values(region_code=region_code, day=day, value=1)
        .on_conflict_do_update(
            index_elements=["region_code", "day"], set_={"value": CaseSequence.value + 1}
        )
        .returning(CaseSequence.value)
    )
    return int(session.execute(statement).scalar_one())


def idempotency_record(session: Session, user_id: int, key: str) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )


def upload_by_token(session: Session, token: str) -> Upload | None:
    return session.scalar(select(Upload).where(Upload.token == token))


def open_accepted_cases(session: Session) -> list[Case]:
    return list(
        session.scalars(
            select(Case)
            .where(Case.accepted_at.is_not(None), Case.state.in_(OPEN_REVIEW_STATES))
            .options(selectinload(Case.events))
        )
    )
