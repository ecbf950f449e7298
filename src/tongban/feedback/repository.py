"""Every query of the feedback domain, scoped by the caller."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tongban.access.rules import Actor, Role
from tongban.feedback.models import Complaint, FeedbackAlarm, FeedbackEvent, FollowUp, Rating
from tongban.regions.rules import region_prefix

OPEN_COMPLAINT_STATES = ("filed", "assigned", "responded")


# --- scopes: which rows a staff member may see -----------------------------------------


def _staff_scope(actor: Actor, department: Any, region: Any) -> ColumnElement[bool]:
    """A department's reviewers see its rows; the center admin sees its region's rows."""
    if actor.role == Role.REVIEWER and actor.department_code:
        return department == actor.department_code
    if actor.role == Role.ADMIN and actor.region_code:
        return region.startswith(region_prefix(actor.region_code))
    return false()


def complaint_scope(actor: Actor) -> ColumnElement[bool]:
    staff = _staff_scope(actor, Complaint.department_code, Complaint.region_code)
    return or_(Complaint.complainant_user_id == actor.user_id, staff)


# --- ratings and follow-ups -------------------------------------------------------------


def rating_for_case(session: Session, case_no: str) -> Rating | None:
    return session.scalar(select(Rating).where(Rating.case_no == case_no))


def rating(session: Session, rating_id: int) -> Rating | None:
    return session.get(Rating, rating_id)


def follow_up_of(session: Session, rating_id: int) -> FollowUp | None:
    return session.scalar(select(FollowUp).where(FollowUp.rating_id == rating_id))


def lock_follow_up(session: Session, follow_up_id: int) -> FollowUp | None:
    query = select(FollowUp).where(FollowUp.id == follow_up_id).with_for_update()
    return session.scalar(query.execution_options(populate_existing=True))


def follow_ups(
    session: Session, actor: Actor, *, open_only: bool, limit: int = 200
) -> list[tuple[FollowUp, Rating]]:
    scope = _staff_scope(actor, FollowUp.department_code, FollowUp.region_code)
    query = select(FollowUp, Rating).join(Rating, Rating.id == FollowUp.rating_id).where(scope)
    if open_only:
        query = query.where(FollowUp.state.not_in(("reported", "voided")))
    rows = session.execute(query.order_by(FollowUp.due_at).limit(limit))
    return [(f, r) for f, r in rows]


def pending_appeals(session: Session, actor: Actor) -> list[Rating]:
    scope = _staff_scope(actor, Rating.department_code, Rating.region_code)
    query = select(Rating).where(scope, Rating.appeal_state == "pending").order_by(Rating.id)
    return list(session.scalars(query))


def overdue_follow_ups(session: Session, at: datetime) -> list[FollowUp]:
    query = select(FollowUp).where(
        FollowUp.due_at <= at,
        FollowUp.overdue.is_(False),
        FollowUp.state.not_in(("reported", "voided")),
    )
    return list(session.scalars(query.order_by(FollowUp.id)))


# --- complaints -----------------------------------------------------------------------


def complaint_by_no(session: Session, complaint_no: str) -> Complaint | None:
    return session.scalar(select(Complaint).where(Complaint.complaint_no == complaint_no))


def lock_complaint(session: Session, complaint_id: int) -> Complaint | None:
    """The row, locked until the transaction ends (PostgreSQL; SQLite locks the database)."""
    query = select(Complaint).where(Complaint.id == complaint_id).with_for_update()
    return session.scalar(query.execution_options(populate_existing=True))


def complaints(
    session: Session,
    condition: ColumnElement[bool],
    *,
    states: Sequence[str] | None = None,
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[Complaint], int]:
    query = select(Complaint).where(condition)
    if states:
        query = query.where(Complaint.state.in_(states))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Complaint.id.desc()).offset(offset).limit(limit))
    return list(rows), total


def complaints_to_sweep(session: Session, *, warn_horizon: datetime) -> list[Complaint]:
    """Open complaints with a deadline within the warning horizon (or past)."""
    query = select(Complaint).where(
        Complaint.state.in_(OPEN_COMPLAINT_STATES),
        or_(Complaint.response_due_at <= warn_horizon, Complaint.result_due_at <= warn_horizon),
    )
    return list(session.scalars(query.order_by(Complaint.id)))


def complaints_to_confirm(session: Session, *, resolved_before: datetime) -> list[int]:
    query = select(Complaint.id).where(
        Complaint.state == "resolved", Complaint.resolved_at <= resolved_before
    )
    return list(session.scalars(query.order_by(Complaint.id)))


# --- events and alarms ------------------------------------------------------------------


def events_of(session: Session, subject_kind: str, subject_id: int) -> list[FeedbackEvent]:
    query = (
        select(FeedbackEvent)
        .where(FeedbackEvent.subject_kind == subject_kind, FeedbackEvent.subject_id == subject_id)
        .order_by(FeedbackEvent.seq)
    )
    return list(session.scalars(query))


def insert_alarm(session: Session, values: dict[str, Any]) -> bool:
    """Insert the alarm unless it exists; True when this call created it.

    ON CONFLICT DO NOTHING waits for a concurrent insert of the same key to commit
    and then does nothing: of two workers, exactly one sees True.
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(FeedbackAlarm).values(**values).on_conflict_do_nothing()
    # RETURNING, not rowcount: drivers differ in what rowcount says for DO NOTHING.
    return session.scalar(statement.returning(FeedbackAlarm.id)) is not None


def alarms_for(
    session: Session, condition: ColumnElement[bool], *, limit: int = 100
) -> list[FeedbackAlarm]:
    query = select(FeedbackAlarm).where(condition).order_by(FeedbackAlarm.id.desc()).limit(limit)
    return list(session.scalars(query))


def missed_counts(session: Session, region_code: str) -> dict[tuple[str, Any], int]:
    """("response"|"result"|"follow_up", "missed") → deadlines missed (one per subject and
    cycle, whatever the levels it climbed); ("any", level) → escalations to that level."""
    in_region = FeedbackAlarm.region_code.startswith(region_prefix(region_code))
    missed = (
        select(FeedbackAlarm.deadline, FeedbackAlarm.subject_id, FeedbackAlarm.cycle)
        .where(in_region, FeedbackAlarm.level > 0)
        .distinct()
        .subquery()
    )
    counts: dict[tuple[str, Any], int] = {}
    by_deadline = select(missed.c.deadline, func.count()).group_by(missed.c.deadline)
    for deadline, count in session.execute(by_deadline):
        counts[(deadline, "missed")] = count
    by_level = (
        select(FeedbackAlarm.level, func.count())
        .where(in_region, FeedbackAlarm.level > 0, FeedbackAlarm.deadline != "follow_up")
        .group_by(FeedbackAlarm.level)
    )
    for level, count in session.execute(by_level):
        counts[("any", level)] = count
    return counts
