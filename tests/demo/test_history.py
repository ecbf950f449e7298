"""The demo's year of history: mostly online, mostly in time, two dashboard periods, a
planted bottleneck, no alert, once only."""

from __future__ import annotations

from collections import Counter
from datetime import time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.access.models import User
from tongban.audit import service as audit_service
from tongban.audit.models import AuditAlert, AuditEntry
from tongban.cases.models import Case, CaseEvent, CaseVerification
from tongban.cases.rules import TERMINAL_STATES
from tongban.db import session_factory, transaction
from tongban.demo import history
from tongban.demo.exchange import load_exchange_demo
from tongban.demo.history import SLOW_ITEM, load_history
from tongban.feedback.models import Complaint, Rating
from tongban.insight import report as insight_report
from tongban.insight import service as insight_service
from tongban.kit.clock import local_today, to_local
from tongban.kit.ids import is_valid_id_number, is_valid_uscc
from tongban.workdays import service as workdays_service

CASES = 120  # enough for the shares to mean something, small enough for both databases


def _on_time(cases: list[Case]) -> float:
    """The share of the decided cases decided by their deadline (indicator E2)."""
    pairs = [(c.decided_at, c.deadline_at) for c in cases]
    decided = [(at, due) for at, due in pairs if at is not None and due is not None]
    return sum(at <= due for at, due in decided) / len(decided)


def test_a_year_of_history_mostly_online_and_in_time(demo_db: str) -> None:
    with transaction(demo_db) as s:
        load_exchange_demo(s)  # the registers: identities check, enterprises link to accounts
    report = load_history(demo_db, cases=CASES)
    assert report.cases == CASES and report.ratings > 0 and report.complaints > 0

    with session_factory(demo_db)() as s:
        cases = list(s.scalars(select(Case)))
        events = list(s.scalars(select(CaseEvent)))
        ratings = {r.case_no: r for r in s.scalars(select(Rating))}
        complaints = list(s.scalars(select(Complaint)))
        users = {u.id: u for u in s.scalars(select(User))}
        calendar = workdays_service.calendar(s)
        alerts = s.scalar(select(func.count()).select_from(AuditAlert))

    states = Counter(c.state for c in cases)
    assert len(cases) == CASES
    assert states["delivered"] >= CASES * 0.7  # most are closed and delivered
    assert states["refused"] + states["withdrawn"] >= 1
    assert sum(n for state, n in states.items() if state not in TERMINAL_STATES) >= 1  # today's
    actions = Counter(e.action for e in events)
    assert actions["request_supplement"] >= 3 and actions["supplement"] >= 3

    # A year on working days in office hours: this half-year and the one before.
    today = local_today()
    submitted = [to_local(c.submitted_at).date() for c in cases]
    assert min(submitted) >= today - timedelta(days=360) and max(submitted) < today
    assert max(submitted) - min(submitted) > timedelta(days=330)
    current = sum(day > today - timedelta(days=180) for day in submitted)
    assert 0.4 * CASES <= current <= 0.6 * CASES
    for moment in (to_local(e.at) for e in events):
        assert calendar.is_workday(moment.date()) and time(9) <= moment.time() < time(17)

    # Most online (网办), by the applicants themselves from verified accounts …
    online = [c for c in cases if c.channel == "online"]
    window = [c for c in cases if c.channel == "window"]
    assert len(online) >= 0.8 * CASES and len(window) >= 0.05 * CASES
    for case in online:
        account = users[case.submitted_by_user_id or 0]
        assert account.role == "applicant" and account.assurance_level >= 2
        assert case.applicant_user_id == account.id
        basis = "enterprise" if case.applicant_kind == "enterprise" else "self"
        assert case.filing_basis == basis
    assert any(c.applicant_kind == "enterprise" for c in online)  # linked through the register
    # … some in 长辈模式 (older people, online only) …
    elder = [c for c in cases if c.elder_mode]
    assert elder and all(c.channel == "online" for c in elder) and len(elder) < len(online) / 3
    # … the rest at the two general windows, for registered people and 存续 enterprises.
    assert {users[c.submitted_by_user_id or 0].username for c in window} == {"clerk", "clerk2"}
    assert all(c.filing_basis == "window" for c in window)
    people = [c for c in cases if c.applicant_kind == "person"]
    enterprises = [c for c in cases if c.applicant_kind == "enterprise"]
    assert all(is_valid_id_number(c.applicant_id_number) for c in people)
    assert enterprises and all(is_valid_uscc(c.applicant_id_number) for c in enterprises)

    # Results: online mostly electronic, at the window picked up or mailed.
    delivered_online = [c.delivery_method for c in online if c.state == "delivered"]
    assert delivered_online.count("electronic") >= 0.6 * len(delivered_online)
    assert {c.delivery_method for c in window if c.state == "delivered"} <= {"pickup", "mail"}
    # Rated online by the applicant, at the window on the rating pad; mostly satisfied.
    for case in cases:
        if case.case_no in ratings:
            assert ratings[case.case_no].channel == ("online" if case in online else "offline")
    channels = Counter(r.channel for r in ratings.values())
    assert channels["online"] > channels["offline"] > 0
    levels = Counter(r.level for r in ratings.values())
    assert levels[5] + levels[4] > len(ratings) / 2

    # Most decided within the promised working days; the slow department the exception,
    # though even there most are in time.
    slow = [c for c in cases if c.item_code == SLOW_ITEM]
    others = [c for c in cases if c.item_code != SLOW_ITEM]
    assert _on_time(cases) >= 0.85 and _on_time(others) >= 0.9
    assert 0.5 <= _on_time(slow) < _on_time(others)

    assert {c.state for c in complaints} <= {"resolved", "confirmed"}
    assert all(c.responded_at is not None for c in complaints)
    # Staff read only what they handle, in office hours: the audit log raises nothing.
    assert alerts == 0
    assert audit_service.verify_log(demo_db).ok


def test_the_dashboard_compares_this_half_year_with_the_last(demo_db: str) -> None:
    with transaction(demo_db) as s:
        load_exchange_demo(s)
    load_history(demo_db, cases=80)
    with session_factory(demo_db)() as s:
        admin = access_service.actor_by_username(s, "admin")
        assert admin is not None
        first, last = insight_service.period(None, None)  # the dashboard's default
        built = insight_report.build(s, actor=admin, date_from=first, date_to=last)
    assert built.cases >= 30 and built.previous_cases >= 30
    rows = {row.indicator.code: row for row in built.rows}
    for code in ("E1", "E2", "C1", "C2", "D2", "S1", "S4", "I1"):
        assert rows[code].value is not None and rows[code].previous is not None, code
    for code in ("C1", "E2"):  # 网上申请率, 按时办结率
        assert min(rows[code].value or 0, rows[code].previous or 0) >= 70, code


def test_the_slow_department_tops_the_bottlenecks(demo_db: str) -> None:
    load_history(demo_db, cases=80)
    with session_factory(demo_db)() as s:
        admin = access_service.actor_by_username(s, "admin")
        assert admin is not None
        today = local_today()
        report = insight_service.bottleneck_report(
            s, actor=admin, date_from=today - timedelta(days=359), date_to=today
        )
        cases = list(s.scalars(select(Case)))
    top, *others = report.bottlenecks
    assert (top.item, top.action, top.office) == (SLOW_ITEM, "approve_task", "11640425MB00008TB0")
    assert all(top.score > 2 * other.score for other in others)
    # Without the enterprise register no account can be linked to an enterprise: they file
    # at the window; people still apply online.
    assert all(c.channel == "window" for c in cases if c.applicant_kind == "enterprise")
    assert any(c.channel == "online" for c in cases)


def test_loading_twice_adds_nothing(demo_db: str) -> None:
    load_history(demo_db, cases=20)
    with session_factory(demo_db)() as s:
        tables = (Case, AuditEntry, User)
        before = [s.scalar(select(func.count()).select_from(t)) for t in tables]
    again = load_history(demo_db, cases=20)
    assert again.cases == again.steps == 0
    with session_factory(demo_db)() as s:
        after = [s.scalar(select(func.count()).select_from(t)) for t in tables]
    assert after == before
    assert load_history(demo_db, cases=0).cases == 0


def test_the_plan_is_seeded(demo_session: Session) -> None:
    def plan(seed: int) -> list[tuple[object, ...]]:
        planner = history.planner_for(demo_session, seed=seed)
        plays = [planner.plan(index, 40) for index in range(40)]
        return [
            (p.item_codes, p.person, p.citizen, p.delivery, [m for m, _ in p.steps]) for p in plays
        ]

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
