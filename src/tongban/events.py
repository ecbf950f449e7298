"""In-process domain events and the explicit registry of their handlers.

Handlers run synchronously inside the publisher's transaction, so a side effect
(an audit record, a recomputed deadline) commits or rolls back with the change
that caused it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
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
    """A case action was recorded (published in the acting transaction).

    Carries who the case is for, so that handlers (notifications) need not read the
    case again: ``applicant_phone`` is the contact given on the application, plain in
    memory only — a handler that sends it anywhere masks what it writes.
    """

    case_no: str
    action: str
    from_state: str | None
    to_state: str
    actor_id: int | None
    occurred_on: date | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    applicant_user_id: int | None = None
    submitted_by_user_id: int | None = None
    applicant_phone: str = ""
    lead_department_code: str = ""
    query_code: str = ""
    seq: int = 0  # the case event's number: notifications use it as their dedupe key


@dataclass(frozen=True)
class CaseDeadlineNear(DomainEvent):
    """An accepted case is near (预警) or past (超期) its promised deadline.

    Published once per case, status and Beijing day by the cases worker sweep; the
    departments are those whose tasks are still pending (or the lead department when
    the case waits for its decision).
    """

    case_no: str
    title: str
    status: str  # "warning" | "overdue"
    deadline_on: date
    department_codes: tuple[str, ...]
    region_code: str


@dataclass(frozen=True)
class ComplaintAnswered(DomainEvent):
    """A complaint was responded to or resolved (published in the acting transaction).

    ``contact_phone`` is the anonymous complainant's number, plain in memory only.
    """

    complaint_no: str
    action: str  # "respond" | "resolve"
    cycle: int
    target_name: str
    complainant_user_id: int | None
    contact_phone: str = ""


@dataclass(frozen=True)
class ComplaintDeadlineNear(DomainEvent):
    """The worker sweep raised a complaint deadline alarm (once per complaint, cycle,
    deadline and level): level 0 warns the department, 1 escalates to its head (its
    reviewers), 2 to the center admins of the region."""

    complaint_no: str
    cycle: int
    deadline: str  # "response" | "result"
    level: int
    due_at: datetime
    department_code: str
    region_code: str


@dataclass(frozen=True)
class VerificationCodeIssued(DomainEvent):
    """A one-time code was issued for a mobile number (sign-up, password reset).

    The code is plain in memory only (the database keeps a keyed hash); the handler
    sends it by SMS, and by e-mail when an address was given.
    """

    code_id: int
    purpose: str  # signup | reset
    phone: str
    code: str
    minutes: int
    email: str | None = None


@dataclass(frozen=True)
class IdentityVerified(DomainEvent):
    """An account's identity was confirmed (实名认证 level 2 or 3): cases filed earlier for
    that person (at a window, by an agent) now show in their 我的办件."""

    user_id: int
    person_ref: str  # blind index of the identity number
    level: int


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
    from tongban.notify import handlers as notify_handlers

    subscribe(CalendarChanged, case_handlers.on_calendar_changed)
    subscribe(IdentityVerified, case_handlers.on_identity_verified)
    subscribe(CaseTransitioned, notify_handlers.on_case_transitioned)
    subscribe(CaseDeadlineNear, notify_handlers.on_case_deadline_near)
    subscribe(ComplaintAnswered, notify_handlers.on_complaint_answered)
    subscribe(ComplaintDeadlineNear, notify_handlers.on_complaint_deadline_near)
    subscribe(VerificationCodeIssued, notify_handlers.on_verification_code_issued)
