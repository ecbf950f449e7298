"""The demo history's plain data: who applies, when, the plan of one case, the cast."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tongban.access import enterprises
from tongban.access import service as access_service
from tongban.access.rules import Actor, Role
from tongban.cases.schemas import CaseDetail, Delivery

KEY_PREFIX = "demo-history-"
CITIZEN_PASSWORD = "Demo@2026"  # the demo's citizens sign in with their phone or identity number


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
class Citizen:
    """A registered person with a portal account (made at their first online application):
    files online for themselves, or for the enterprise they represent."""

    username: str
    person: Person
    region_code: str
    elder: bool  # uses the portal's 长辈模式
    enterprise: Enterprise | None = None  # the enterprise whose legal representative they are


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
    citizen: Citizen | None = None  # the account that files online; None: at the window
    elder_mode: bool = False  # filed with the portal's 长辈模式 on
    delivery: Delivery = "pickup"  # the applicant's choice: pickup / mail / electronic
    steps: list[tuple[Moment, Callable[[Session, Play], None]]] = field(default_factory=list)
    case: CaseDetail | None = None
    follow_up_id: int | None = None
    complaint: tuple[str, str] | None = None  # complaint number, query code

    @property
    def online(self) -> bool:
        return self.citizen is not None


@dataclass
class HistoryReport:
    cases: int = 0
    steps: int = 0
    ratings: int = 0
    complaints: int = 0


WINDOW_CLERKS = ("clerk", "clerk2")  # the center's two general windows share the cases


class Cast:
    """Who acts: the demo staff, looked up once (the window clerks and one reviewer per
    department), and the citizens' accounts, made when they first apply online."""

    def __init__(self, session: Session) -> None:
        clerks = [access_service.actor_by_username(session, name) for name in WINDOW_CLERKS]
        if any(clerk is None for clerk in clerks):
            raise LookupError(f"demo users missing: {WINDOW_CLERKS}")
        self.clerks: list[Actor] = [clerk for clerk in clerks if clerk is not None]
        self.clerk: Actor = self.clerks[0]
        self.reviewers = {
            r.department_code: r for r in access_service.reviewers(session) if r.department_code
        }
        self._accounts: dict[str, Actor] = {}
        self._links: set[tuple[int, str]] = set()

    def clerk_for(self, play_index: int) -> Actor:
        """The window that takes this case (alternating: like two windows of one center)."""
        return self.clerks[play_index % len(self.clerks)]

    def reviewer(self, department: str) -> Actor:
        return self.reviewers[department]

    def account(self, session: Session, username: str) -> Actor | None:
        """A citizen's account, if it exists (looked up once, then remembered)."""
        actor = self._accounts.get(username) or access_service.actor_by_username(session, username)
        if actor is not None:
            self._accounts[username] = actor
        return actor

    def citizen(self, session: Session, citizen: Citizen) -> Actor:
        """The citizen's account: made at their first online application, with their
        identity from the register (实名 level 2) and their mobile number."""
        actor = self.account(session, citizen.username)
        if actor is None:
            person = citizen.person
            user = access_service.create_user(
                session,
                username=citizen.username,
                password=CITIZEN_PASSWORD,
                role=Role.APPLICANT.value,
                display_name=person.name,
                region_code=citizen.region_code,
                id_number=person.id_number,
                phone=person.phone,
            )
            actor = self._accounts[citizen.username] = access_service.actor_for(user)
        return actor

    def link(self, session: Session, actor: Actor, enterprise: Enterprise) -> None:
        """The representative links the enterprise (the enterprise register confirms it)."""
        if (actor.user_id, enterprise.credit_code) in self._links:
            return
        enterprises.link(
            session,
            actor=actor,
            credit_code=enterprise.credit_code,
            capacity="legal_representative",
        )
        self._links.add((actor.user_id, enterprise.credit_code))
