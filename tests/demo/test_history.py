"""The demo's six months of history: a realistic spread, a planted bottleneck, once only."""

from __future__ import annotations

from collections import Counter
from datetime import time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.audit import service as audit_service
from tongban.audit.models import AuditAlert, AuditEntry
from tongban.cases.models import Case, CaseEvent, CaseVerification
from tongban.db import session_factory, transaction
from tongban.demo import history
from tongban.demo.exchange import load_exchange_demo
from tongban.demo.history import SLOW_ITEM, load_history
from tongban.feedback.models import Complaint, Rating
from tongban.insight import service as insight_service
from tongban.kit.clock import local_today, to_local
from tongban.kit.ids import is_valid_id_number, is_valid_uscc
from tongban.workdays import service as workdays_service

CASES = 80


def test_history_spreads_cases_ratings_and_complaints_over_six_months(demo_db: str) -> None:
    report = load_history(demo_db, cases=CASES)
    assert report.cases == CASES and report.ratings > 0 and report.complaints > 0

    with session_factory(demo_db)() as s:
        cases = list(s.scalars(select(Case)))
        events = list(s.scalars(select(CaseEvent)))
        ratings = list(s.scalars(select(Rating)))
        complaints = list(s.scalars(select(Complaint)))
        calendar = workdays_service.calendar(s)
        alerts = s.scalar(select(func.count()).select_from(AuditAlert))

    states = Counter(c.state for c in cases)
    assert len(cases) == CASES
    assert states["delivered"] >= CASES * 0.7  # most are closed and delivered
    assert states["refused"] + states["withdrawn"] >= 1
    assert sum(states[s] for s in ("submitted", "prereview", "in_review", "supplement")) >= 1
    actions = Counter(e.action for e in events)
    assert actions["request_supplement"] >= 3 and actions["supplement"] >= 3
    # Everything happened on working days in office hours, over the last six months.
    submitted = [to_local(c.submitted_at) for c in cases]
    assert min(submitted).date() >= local_today() - timedelta(days=180)
    assert max(submitted).date() < local_today()
    assert max(submitted) - min(submitted) > timedelta(days=150)
    for moment in (to_local(e.at) for e in events):
        assert calendar.is_workday(moment.date()) and time(9) <= moment.time() < time(17)
    # Fictional applicants with valid identity numbers (enterprises: credit codes), at the window.
    people = [c for c in cases if c.applicant_kind == "person"]
    enterprises = [c for c in cases if c.applicant_kind == "enterprise"]
    assert all(is_valid_id_number(c.applicant_id_number) for c in people)
    assert enterprises and all(is_valid_uscc(c.applicant_id_number) for c in enterprises)
    assert {c.channel for c in cases} == {"window"}

    levels = Counter(r.level for r in ratings)
    assert levels[5] + levels[4] > len(ratings) / 2  # mostly satisfied
    assert all(r.channel == "offline" for r in ratings)
    assert {c.state for c in complaints} <= {"resolved", "confirmed"}
    assert all(c.responded_at is not None for c in complaints)
    # Staff read only what they handle, in office hours: the audit log raises nothing.
    assert alerts == 0
    assert audit_service.verify_log(demo_db).ok


def test_the_slow_department_tops_the_bottlenecks(demo_db: str) -> None:
    load_history(demo_db, cases=CASES)
    with session_factory(demo_db)() as s:
        admin = access_service.actor_by_username(s, "admin")
        assert admin is not None
        report = insight_service.bottleneck_report(s, actor=admin)
    top, *others = report.bottlenecks
    assert (top.item, top.action, top.office) == (SLOW_ITEM, "approve_task", "11640425MB00008TB0")
    assert all(top.score > 3 * other.score for other in others)


def test_loading_twice_adds_nothing(demo_db: str) -> None:
    load_history(demo_db, cases=20)
    with session_factory(demo_db)() as s:
        before = [s.scalar(select(func.count()).select_from(t)) for t in (Case, AuditEntry)]
    again = load_history(demo_db, cases=20)
    assert again.cases == again.steps == 0
    with session_factory(demo_db)() as s:
        after = [s.scalar(select(func.count()).select_from(t)) for t in (Case, AuditEntry)]
    assert after == before
    assert load_history(demo_db, cases=0).cases == 0


def test_the_plan_is_seeded(demo_session: Session) -> None:
    def plan(seed: int) -> list[tuple[object, ...]]:
        planner = history.planner_for(demo_session, seed=seed)
        plays = [planner.plan(index, 40) for index in range(40)]
        return [(p.item_codes, p.person, [m for m, _ in p.steps]) for p in plays]

    assert plan(7) == plan(7)
    assert plan(7) != plan(8)


def test_with_the_exchange_the_applicants_pass_the_checks_of_their_registers(
    demo_db: str,
) -> None:
    with transaction(demo_db) as s:
        load_exchange_demo(s)  # the legacy sources in the settings' directory
    load_history(demo_db, cases=40)
    with session_factory(demo_db)() as s:
        checks = list(s.scalars(select(CaseVerification)))
        accepted = list(s.scalars(select(Case).where(Case.accepted_at.is_not(None))))
    outcomes = Counter((c.service_code, c.outcome) for c in checks)
    # Registered people and 存续 enterprises: their identity and licence checks pass.
    identity = [c for c in checks if c.service_code == "population.person_basic"]
    assert identity and all(c.outcome == "verified" for c in identity), outcomes
    licences = [c for c in checks if c.service_code == "enterprise.registration"]
    assert all(c.outcome == "verified" for c in licences), outcomes
    # What still did not pass (a certificate number the demo form makes up) was checked on
    # paper by the clerk before acceptance.
    by_case = {c.id for c in accepted}
    assert all(c.paper_checked_at is not None for c in checks
               if c.outcome != "verified" and c.case_id in by_case)  # fmt: skip
