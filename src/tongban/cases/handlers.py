"""Handlers this domain registers in tongban.events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.cases import service, views
from tongban.events import CalendarChanged


def on_calendar_changed(session: Session, event: CalendarChanged) -> None:
    views.forget_calendar(session)
    service.recompute_open_deadlines(session)
