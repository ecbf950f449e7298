"""Handlers this domain registers in tongban.events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.cases import service
from tongban.events import CalendarChanged

# views caches the working-day calendar for the length of a transaction; the
# calendar just changed inside this very transaction.
CALENDAR_CACHE_KEY = "work_calendar"


def on_calendar_changed(session: Session, event: CalendarChanged) -> None:
    session.info.pop(CALENDAR_CACHE_KEY, None)
    service.recompute_open_deadlines(session)
