"""The demo history's plain data: who applies, when, the plan of one case, the cast."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.access.rules import Actor
from tongban.cases.schemas import CaseDetail

KEY_PREFIX = "demo-history-"


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    phone: str


@dataclass(frozen=True)
class Enterprise:
    name: str
    credit_code: str


@dataclass(frozen=True)
class Moment:
    """A working day (index into the period's working days) and minutes after opening."""

    day: int
    minute: int


@dataclass
class Play:
    """One planned case while it is played: its steps and what they have learnt."""

    index: int
    person: Person
    item_codes: list[str]
    bundle_code: str | None
    lead: str  # lead department
    enterprise: Enterprise | None = None  # the applicant, when an enterprise files
    steps: list[tuple[Moment, Callable[[Session, Play], None]]] = field(default_factory=list)
    case: CaseDetail | None = None
    follow_up_id: int | None = None
    complaint: tuple[str, str] | None = None  # complaint number, query code


@dataclass
class HistoryReport:
    cases: int = 0
    steps: int = 0
    ratings: int = 0
    complaints: int = 0


WINDOW_CLERKS = ("clerk", "clerk2")  # the center's two general windows share the cases


class Cast:
    """The demo staff, looked up once: the window clerks and one reviewer per department."""

    def __init__(self, session: Session) -> None:
        clerks = [access_service.actor_by_username(session, name) for name in WINDOW_CLERKS]
        if any(clerk is None for clerk in clerks):
            raise LookupError(f"demo users missing: {WINDOW_CLERKS}")
        self.clerks: list[Actor] = [clerk for clerk in clerks if clerk is not None]
        self.clerk: Actor = self.clerks[0]
        self.reviewers = {
            r.department_code: r for r in access_service.reviewers(session) if r.department_code
        }

    def clerk_for(self, play_index: int) -> Actor:
        """The window that takes this case (alternating: like two windows of one center)."""
        return self.clerks[play_index % len(self.clerks)]

    def reviewer(self, department: str) -> Actor:
        return self.reviewers[department]
