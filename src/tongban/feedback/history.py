"""The append-only event log of complaints and follow-ups, and how an event reads."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.feedback import repository, rules
from tongban.feedback.models import FeedbackEvent
from tongban.feedback.schemas import EventRead
from tongban.kit.clock import now
from tongban.privacy.scanner import mask_text

SYSTEM_NAME = "系统"


class Logged(Protocol):
    id: int
    last_event_seq: int


def append(
    session: Session,
    subject_kind: str,
    subject: Logged,
    actor: Actor | None,
    action: str,
    from_state: str | None,
    to_state: str,
    note: str = "",
    payload: dict[str, Any] | None = None,
    *,
    actor_name: str | None = None,
) -> None:
    """Append one event; the subject must be locked (or new) so that its seq is ours."""
    subject.last_event_seq += 1
    session.add(
        FeedbackEvent(
            subject_kind=subject_kind,
            subject_id=subject.id,
            seq=subject.last_event_seq,
            at=now(),
            actor_user_id=actor.user_id if actor else None,
            actor_name=actor_name
            or (actor.display_name or actor.username if actor else SYSTEM_NAME),
            actor_role=actor.role.value if actor else "system",
            action=action,
            from_state=from_state,
            to_state=to_state,
            note=note,
            payload=payload or {},
        )
    )


def read(session: Session, subject_kind: str, subject_id: int) -> list[EventRead]:
    labels = (
        rules.COMPLAINT_ACTION_LABELS
        if subject_kind == "complaint"
        else rules.FOLLOW_UP_ACTION_LABELS
    )
    return [
        EventRead(
            seq=e.seq,
            at=e.at,
            actor_name=e.actor_name,
            actor_role=e.actor_role,
            action=e.action,
            action_label=labels.get(e.action, e.action),
            from_state=e.from_state,
            to_state=e.to_state,
            note=mask_text(e.note),
            payload=e.payload,
        )
        for e in repository.events_of(session, subject_kind, subject_id)
    ]
