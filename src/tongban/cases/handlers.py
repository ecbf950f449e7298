"""Handlers this domain registers in tongban.events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.cases import repository, service, views
from tongban.events import CalendarChanged, IdentityVerified


def on_calendar_changed(session: Session, event: CalendarChanged) -> None:
    views.forget_calendar(session)
    service.recompute_open_deadlines(session)


def on_identity_verified(session: Session, event: IdentityVerified) -> None:
    repository.link_applicant(session, person_ref=event.person_ref, user_id=event.user_id)
