"""Handlers this domain registers in tongban.events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.cases import service
from tongban.events import CalendarChanged


def on_calendar_changed(session: Session, event: CalendarChanged) -> None:
    service.recompute_open_deadlines(session)
