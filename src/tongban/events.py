"""In-process domain events and the explicit registry of their handlers.

Handlers run synchronously inside the publisher's transaction, so a side effect
(an audit record, a recomputed deadline) commits or rolls back with the change
that caused it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class DomainEvent:
    pass


@dataclass(frozen=True)
class CalendarChanged(DomainEvent):
    """An official working-day calendar was loaded for these years."""

    years: tuple[int, ...]


@dataclass(frozen=True)
class CaseTransitioned(DomainEvent):
    case_no: str
    action: str
    from_state: str | None
    to_state: str
    actor_id: int | None
    occurred_on: date | None = None
    payload: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Session, Any], None]
_registry: dict[type[DomainEvent], list[Handler]] = defaultdict(list)


def subscribe(event_type: type[DomainEvent], handler: Handler) -> None:
    if handler not in _registry[event_type]:
        _registry[event_type].append(handler)


def publish(session: Session, event: DomainEvent) -> None:
    for handler in list(_registry[type(event)]):
        handler(session, event)


def register_handlers() -> None:
    """The one place where domains wire their handlers (called by create_app and the CLI)."""
    from tongban.cases import handlers as case_handlers

    subscribe(CalendarChanged, case_handlers.on_calendar_changed)
