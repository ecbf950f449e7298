"""Read-only columns of ratings, 差评 follow-ups and complaints for the indicators.

Only counts, levels, departments and times leave: no comment, text or contact.
An appeal upheld by the center removes a rating from every figure (误评/恶意差评).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.feedback.models import Complaint, FollowUp, Rating
from tongban.feedback.ratings import require
from tongban.regions.rules import region_prefix


def _columns(session: Session, query: Any, names: tuple[str, ...]) -> dict[str, list[Any]]:
    rows = session.execute(query).all()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return {name: list(values) for name, values in zip(names, columns, strict=True)}


def _in_region(actor: Actor) -> str:
    return region_prefix(actor.region_code or "-")


RATING_COLUMNS = ("case", "item", "department", "region", "level", "rated_at")


def ratings(
    session: Session, *, actor: Actor, since: datetime, until: datetime
) -> dict[str, list[Any]]:
    """Ratings given in [since, until) in the admin's region, less upheld appeals."""
    require(actor, "feedback.decide_appeal")
    query = select(
        Rating.case_no,
        Rating.item_code,
        Rating.department_code,
        Rating.region_code,
        Rating.level,
        Rating.rated_at,
    ).where(
        Rating.rated_at >= since,
        Rating.rated_at < until,
        Rating.appeal_state != "upheld",
        Rating.region_code.startswith(_in_region(actor)),
    )
    return _columns(session, query.order_by(Rating.id), RATING_COLUMNS)


FOLLOW_UP_COLUMNS = ("case", "department", "region", "opened_at", "due_at", "reported_at")


def follow_ups(
    session: Session, *, actor: Actor, since: datetime, until: datetime
) -> dict[str, list[Any]]:
    """差评 follow-ups opened in [since, until) in the admin's region."""
    require(actor, "feedback.decide_appeal")
    query = (
        select(
            FollowUp.case_no,
            FollowUp.department_code,
            FollowUp.region_code,
            FollowUp.opened_at,
            FollowUp.due_at,
            FollowUp.reported_at,
        )
        .join(Rating, Rating.id == FollowUp.rating_id)
        .where(
            FollowUp.opened_at >= since,
            FollowUp.opened_at < until,
            Rating.appeal_state != "upheld",
            FollowUp.region_code.startswith(_in_region(actor)),
        )
    )
    return _columns(session, query.order_by(FollowUp.id), FOLLOW_UP_COLUMNS)


COMPLAINT_COLUMNS = (
    "complaint",
    "kind",
    "item",  # the item complained about, when the target is an item
    "department",  # "" for the center
    "region",
    "filed_at",
    "response_due_at",
    "responded_at",
    "result_due_at",
    "resolved_at",
)


def complaints(
    session: Session, *, actor: Actor, since: datetime, until: datetime
) -> dict[str, list[Any]]:
    """Complaints and suggestions filed in [since, until) in the admin's region.

    The deadlines are those of the current cycle: a reopened complaint is judged on
    its latest response and result.
    """
    require(actor, "feedback.decide_appeal")
    item = case((Complaint.target_kind == "item", Complaint.target_ref), else_="")
    query = select(
        Complaint.complaint_no,
        Complaint.kind,
        item,
        Complaint.department_code,
        Complaint.region_code,
        Complaint.filed_at,
        Complaint.response_due_at,
        Complaint.responded_at,
        Complaint.result_due_at,
        Complaint.resolved_at,
    ).where(
        Complaint.filed_at >= since,
        Complaint.filed_at < until,
        Complaint.region_code.startswith(_in_region(actor)),
    )
    return _columns(session, query.order_by(Complaint.id), COMPLAINT_COLUMNS)
