"""The feedback domain's service surface: ratings (好差评) with follow-ups and appeals,
the complaint zone (吐槽专区) and the worker's sweeps. Never commits."""

from __future__ import annotations

from sqlalchemy import and_, or_
from sqlalchemy.orm import Session

from tongban.access.rules import Actor, Role
from tongban.feedback import repository, rules
from tongban.feedback.complaints import act, file_complaint, get_complaint, list_complaints
from tongban.feedback.models import FeedbackAlarm
from tongban.feedback.ratings import (
    act_on_follow_up,
    appeal,
    decide_appeal,
    follow_ups,
    get_rating,
    pending_appeals,
    rate_case,
    require,
)
from tongban.feedback.schemas import FeedbackStats
from tongban.feedback.sweeps import auto_confirm, mark_overdue_follow_ups, sweep_deadlines
from tongban.regions.rules import region_prefix

__all__ = [
    "act",
    "act_on_follow_up",
    "alarms",
    "appeal",
    "auto_confirm",
    "decide_appeal",
    "file_complaint",
    "follow_ups",
    "get_complaint",
    "get_rating",
    "list_complaints",
    "mark_overdue_follow_ups",
    "pending_appeals",
    "rate_case",
    "stats",
    "sweep_deadlines",
]


def alarms(session: Session, *, actor: Actor) -> list[FeedbackAlarm]:
    """What the worker raised for me: my department's warnings and escalations to its
    head; for the center admin, everything escalated to the center in the region."""
    require(actor, "feedback.handle")
    if actor.role == Role.REVIEWER:
        condition = and_(
            FeedbackAlarm.department_code == (actor.department_code or "-"),
            FeedbackAlarm.level <= rules.DEPARTMENT_HEAD,
        )
    else:
        condition = and_(
            FeedbackAlarm.region_code.startswith(region_prefix(actor.region_code or "-")),
            or_(FeedbackAlarm.level == rules.CENTER_ADMIN, FeedbackAlarm.department_code == ""),
        )
    return repository.alarms_for(session, condition)


def stats(session: Session, *, actor: Actor) -> FeedbackStats:
    """Missed deadlines and escalations in the admin's region (each counted once)."""
    require(actor, "feedback.decide_appeal")
    counts = repository.missed_counts(session, actor.region_code or "-")
    return FeedbackStats(
        missed_response=counts.get(("response", "missed"), 0),
        missed_result=counts.get(("result", "missed"), 0),
        escalations_to_department=counts.get(("any", rules.DEPARTMENT_HEAD), 0),
        escalations_to_center=counts.get(("any", rules.CENTER_ADMIN), 0),
        follow_ups_overdue=counts.get(("follow_up", "missed"), 0),
    )
