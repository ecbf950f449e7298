"""Misuse alerts raised by the audit log itself, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from support import make_user, person_id
from tongban.access.rules import Actor
from tongban.audit import alerts
from tongban.audit import service as audit_service
from tongban.audit.models import AuditAlert, AuditEntry
from tongban.audit.service import Access
from tongban.errors import Conflict, Forbidden, Invalid
from tongban.kit.clock import SHANGHAI, frozen
from tongban.privacy.crypto import person_ref


def beijing(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]


FRIDAY_MORNING = beijing(2026, 11, 27, 10, 5)


@pytest.fixture
def session(demo_session: Session) -> Session:
    """The demo county (its regions and departments), for real staff accounts."""
    return demo_session


@pytest.fixture(autouse=True)
def _fresh_baselines() -> Iterator[None]:
    # Each test starts from an empty database; cached limits of an earlier one must go.
    alerts.forget_baselines()
    yield
    alerts.forget_baselines()


def persons(count: int, start: int = 0) -> list[str]:
    return [f"person-{i:05d}" for i in range(start, start + count)]


def read(session: Session, actor: Actor | None, refs: list[str], **changes: object) -> None:
    """One batch of case reads, one person each (as a list page records them)."""
    audit_service.record_many(
        session,
        actor=actor,
        accesses=[
            replace(
                Access(action="read", subject_kind="case", subject_ref=f"C{ref}", person_ref=ref),
                **changes,  # type: ignore[arg-type]
            )
            for ref in refs
        ],
    )


def all_alerts(session: Session, rule: str | None = None) -> list[AuditAlert]:
    query = select(AuditAlert).order_by(AuditAlert.id)
    if rule:
        query = query.where(AuditAlert.rule == rule)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def test_bulk_read_alert_names_the_clerk_the_moment_the_threshold_is_crossed(
    session: Session,
) -> None:
    clerk = make_user(session, "clerk", region_code="640425", display_name="王窗口")
    with frozen(FRIDAY_MORNING):
        for page in range(2):
            read(session, clerk, persons(100, page * 100))
        assert all_alerts(session) == []
        read(session, clerk, persons(100, 0))  # the same 200 again: still not over
        assert all_alerts(session) == []
    crossing = FRIDAY_MORNING + timedelta(seconds=40)
    with frozen(crossing):
        read(session, clerk, persons(1, 200))
    [alert] = all_alerts(session)
    assert (alert.rule, alert.severity, alert.status) == ("bulk_read", "high", "open")
    assert (alert.actor_user_id, alert.actor_username) == (clerk.user_id, clerk.username)
    assert alert.actor_name == "王窗口"
    assert alert.details["count"] == 201
    assert alert.created_at == crossing
    assert alert.window_key == "2026-11-27T10:00"


def test_crossing_again_in_the_window_updates_the_alert_instead_of_adding_one(
    session: Session,
) -> None:
    clerk = make_user(session, "clerk", region_code="640425")
    with frozen(beijing(2026, 11, 27, 10, 50)):
        read(session, clerk, persons(250))
    # past the fixed window's end, but within the sliding window of the first alert
    with frozen(beijing(2026, 11, 27, 11, 10)):
        read(session, clerk, persons(100, 250))
    [alert] = all_alerts(session)
    assert alert.details["count"] == 350
    # a whole window later it is a new incident
    with frozen(beijing(2026, 11, 27, 13, 0)):
        read(session, clerk, persons(201, 1000))
    assert [a.window_key for a in all_alerts(session)] == ["2026-11-27T10:00", "2026-11-27T13:00"]


def test_each_account_is_counted_on_its_own(session: Session) -> None:
    first = make_user(session, "clerk", region_code="640425")
    second = make_user(session, "reviewer", department_code="11640425MB00010TBR")
    with frozen(FRIDAY_MORNING):
        read(session, first, persons(150))
        read(session, second, persons(150, 150))
    assert all_alerts(session) == []


def test_refused_reads_and_reads_without_a_person_do_not_count(session: Session) -> None:
    clerk = make_user(session, "clerk", region_code="640425")
    with frozen(FRIDAY_MORNING):
        read(session, clerk, persons(300), result="refused")
        audit_service.record_many(
            session,
            actor=clerk,
            accesses=[Access(action="read", subject_kind="item") for _ in range(300)],
        )
    assert all_alerts(session) == []


def test_applicants_and_anonymous_readers_are_not_watched(session: Session) -> None:
    applicant = make_user(session, "applicant")
    with frozen(beijing(2026, 11, 28, 23, 0)):  # a Saturday night
        read(session, applicant, persons(300))
        read(session, None, persons(300))
    assert all_alerts(session) == []


def test_unrelated_reads_raise_a_medium_alert(session: Session) -> None:
    reviewer = make_user(session, "reviewer", department_code="11640425MB00010TBR")
    with frozen(FRIDAY_MORNING):
        read(session, reviewer, persons(20), related=False)  # at the limit: quiet
        read(session, reviewer, persons(30, 100), related=True)
        assert all_alerts(session) == []
        read(session, reviewer, persons(1, 500), related=False)
    [alert] = all_alerts(session)
    assert (alert.rule, alert.severity, alert.details["count"]) == ("unrelated_read", "medium", 21)


def test_repeated_unmask_requests_raise_an_alert_even_when_refused(session: Session) -> None:
    clerk = make_user(session, "clerk", region_code="640425")
    with frozen(FRIDAY_MORNING):
        for i in range(20):
            audit_service.record(
                session,
                actor=clerk,
                access=Access(
                    action="unmask",
                    subject_kind="case",
                    person_ref=f"p{i % 3}",
                    result="ok" if i % 2 else "denied",
                ),
            )
        assert all_alerts(session) == []
        audit_service.record(
            session, actor=clerk, access=Access(action="unmask", subject_kind="case")
        )
    [alert] = all_alerts(session)
    assert (alert.rule, alert.details["count"]) == ("repeated_unmask", 21)


def test_reads_outside_working_hours_raise_one_low_alert_a_day(session: Session) -> None:
    clerk = make_user(session, "clerk", region_code="640425")
    with frozen(beijing(2026, 11, 27, 18, 59)):
        read(session, clerk, persons(1))
    assert all_alerts(session) == []
    with frozen(beijing(2026, 11, 27, 21, 30)):
        read(session, clerk, persons(1))
    with frozen(beijing(2026, 11, 27, 23, 10)):
        read(session, clerk, persons(1, 5))
    [alert] = all_alerts(session)
    assert (alert.rule, alert.severity, alert.window_key) == ("off_hours", "low", "2026-11-27")
    assert "21:30" in alert.summary


def test_off_hours_follow_the_official_calendar(session: Session) -> None:
    clerk = make_user(session, "clerk", region_code="640425")
    with frozen(beijing(2026, 10, 10, 10, 0)):  # Saturday, a make-up working day (调休)
        read(session, clerk, persons(1))
    assert all_alerts(session) == []
    with frozen(beijing(2026, 10, 2, 10, 0)):  # Friday in the National Day holiday
        read(session, clerk, persons(1))
    [alert] = all_alerts(session)
    assert alert.window_key == "2026-10-02"


def _history(session: Session, actor: Actor, per_day: list[int]) -> None:
    """Readings on the working days before FRIDAY_MORNING, oldest first."""
    day = FRIDAY_MORNING
    days = []
    while len(days) < len(per_day):
        day -= timedelta(days=1)
        if day.astimezone(SHANGHAI).weekday() < 5:
            days.append(day)
    for moment, count in zip(reversed(days), per_day, strict=True):
        with frozen(moment):
            read(session, actor, persons(count, moment.day * 1000))


def test_a_sudden_rise_over_the_accounts_own_baseline_raises_an_alert(session: Session) -> None:
    reviewer = make_user(session, "reviewer", department_code="11640425MB00010TBR")
    _history(session, reviewer, [40, 50, 60, 45, 55, 50, 40, 60])
    assert all_alerts(session) == []  # the history itself stays under the floor
    with frozen(FRIDAY_MORNING):
        read(session, reviewer, persons(70))  # mean 50, σ ≈ 7.4 → limit ≈ 72
    assert all_alerts(session) == []
    with frozen(FRIDAY_MORNING + timedelta(minutes=30)):
        read(session, reviewer, persons(10, 70))
    [alert] = all_alerts(session)
    assert (alert.rule, alert.window_key) == ("baseline", "2026-11-27")
    assert alert.details["count"] == 80
    assert alert.details["history_days"] == 8
    assert alert.details["threshold"] == 72  # the limit (≈ 72.3) as a whole number of persons


def test_no_baseline_alert_without_enough_history(session: Session) -> None:
    reviewer = make_user(session, "reviewer", department_code="11640425MB00010TBR")
    _history(session, reviewer, [5, 5, 5, 5, 5, 5])  # six days: one short
    with frozen(FRIDAY_MORNING):
        read(session, reviewer, persons(150))
    assert all_alerts(session) == []


def test_the_same_alert_twice_is_one_row(session: Session) -> None:
    clerk = make_user(session, "clerk", region_code="640425")
    finding = alerts.off_hours_finding(beijing(2026, 11, 27, 22, 0), "08:00-19:00")
    at = beijing(2026, 11, 27, 22, 0)
    with frozen(at):
        assert alerts.raise_alert(session, actor=clerk, finding=finding, at=at)
        assert not alerts.raise_alert(session, actor=clerk, finding=finding, at=at)
    session.flush()
    assert len(all_alerts(session)) == 1


def test_export_under_the_threshold_is_allowed(session: Session) -> None:
    clerk = make_user(session, "clerk", region_code="640425")
    with frozen(FRIDAY_MORNING):
        read(session, clerk, persons(100))
        # 50 already read and 100 new: 200 in all, not over
        decision = audit_service.export_decision(session, actor=clerk, person_refs=persons(150, 50))
    assert decision is None
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "export")) is None


def test_export_crossing_the_threshold_is_refused_recorded_and_alerted(session: Session) -> None:
    clerk = make_user(session, "clerk", region_code="640425")
    with frozen(FRIDAY_MORNING):
        read(session, clerk, persons(150))
        decision = audit_service.export_decision(
            session, actor=clerk, person_refs=persons(60, 150), subject_ref="低保名单"
        )
    assert isinstance(decision, Forbidden)
    assert (decision.status, decision.code) == (403, "export_blocked")
    assert decision.details["reason"] == "bulk_threshold"
    assert "200" in decision.message_zh and "200" in decision.message_en
    refused = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
    assert (refused.result, refused.actor_username, refused.subject_ref) == (
        "refused",
        clerk.username,
        "低保名单",
    )
    [alert] = all_alerts(session)
    assert alert.rule == "bulk_read"
    assert alert.details["count"] == 210
    assert alert.details["export_refused"] is True


def test_an_open_bulk_alert_blocks_every_export_until_it_is_handled(session: Session) -> None:
    clerk = make_user(session, "clerk", region_code="640425")
    auditor = make_user(session, "auditor")
    with frozen(FRIDAY_MORNING):
        read(session, clerk, persons(201))
    later = FRIDAY_MORNING + timedelta(hours=3)
    with frozen(later):
        decision = audit_service.export_decision(session, actor=clerk, person_refs=persons(1))
        assert decision is not None
        assert decision.details["reason"] == "open_alert"
        [alert] = all_alerts(session)
        audit_service.set_alert_status(
            session, actor=auditor, alert_id=alert.id, status="acknowledged", note=""
        )
        under_review = audit_service.export_decision(session, actor=clerk, person_refs=persons(1))
        assert under_review is not None and under_review.details["reason"] == "open_alert"
        audit_service.set_alert_status(
            session, actor=auditor, alert_id=alert.id, status="closed", note="已核实为批量核对任务"
        )
        assert audit_service.export_decision(session, actor=clerk, person_refs=persons(1)) is None


def test_alert_status_changes_are_checked_and_audited(session: Session) -> None:
    clerk = make_user(session, "clerk", region_code="640425")
    auditor = make_user(session, "auditor")
    with frozen(FRIDAY_MORNING):
        read(session, clerk, persons(201))
    [alert] = all_alerts(session)
    with pytest.raises(Forbidden):
        audit_service.set_alert_status(
            session, actor=clerk, alert_id=alert.id, status="closed", note="自己关掉"
        )
    acknowledged = audit_service.set_alert_status(
        session, actor=auditor, alert_id=alert.id, status="acknowledged", note=""
    )
    assert (acknowledged.status, acknowledged.resolved_by) == ("acknowledged", auditor.username)
    with pytest.raises(Invalid) as no_note:
        audit_service.set_alert_status(
            session, actor=auditor, alert_id=alert.id, status="closed", note=" "
        )
    assert no_note.value.code == "alert_note_required"
    closed = audit_service.set_alert_status(
        session,
        actor=auditor,
        alert_id=alert.id,
        status="closed",
        note=f"约谈当事人，证件号 {person_id(3)} 已核实",
    )
    assert closed.status == "closed"
    assert person_id(3) not in closed.resolution_note  # free text is masked
    assert closed.resolution_note.startswith("约谈当事人")
    with pytest.raises(Conflict):
        audit_service.set_alert_status(
            session, actor=auditor, alert_id=alert.id, status="acknowledged", note=""
        )
    entries = session.scalars(
        select(AuditEntry.action).where(AuditEntry.actor_user_id == auditor.user_id)
    ).all()
    assert entries == ["alert_acknowledged", "alert_closed"]


def test_a_persons_accesses_leave_out_their_own_and_come_newest_first(session: Session) -> None:
    clerk = make_user(session, "clerk", region_code="640425")
    reviewer = make_user(session, "reviewer", department_code="11640425MB00010TBR")
    applicant = make_user(session, "applicant")
    me = person_ref(person_id(4))
    with frozen(FRIDAY_MORNING):
        read(session, clerk, [me])
    with frozen(FRIDAY_MORNING + timedelta(hours=1)):
        read(session, applicant, [me])
        read(session, None, [me])
    with frozen(FRIDAY_MORNING + timedelta(hours=2)):
        read(session, reviewer, [me, "someone-else"])
    found = audit_service.accesses_of_person(session, person_ref=me, page=1, size=10)
    assert [e.actor_username for e in found.items] == [reviewer.username, clerk.username]
    assert found.total == 2
    second = audit_service.accesses_of_person(session, person_ref=me, page=2, size=1)
    assert [e.actor_username for e in second.items] == [clerk.username]


def test_account_history_is_for_auditors_and_is_itself_recorded(session: Session) -> None:
    clerk = make_user(session, "clerk", region_code="640425")
    auditor = make_user(session, "auditor")
    with frozen(FRIDAY_MORNING):
        read(session, clerk, persons(3))
    with pytest.raises(Forbidden):
        audit_service.account_history(
            session, actor=clerk, username=clerk.username, page=1, size=10
        )
    history = audit_service.account_history(
        session, actor=auditor, username=clerk.username, page=1, size=2
    )
    assert (history.total, len(history.items), history.role) == (3, 2, "clerk")
    mine = audit_service.account_history(
        session, actor=auditor, username=auditor.username, page=1, size=10
    )
    assert [(e.action, e.subject_ref) for e in mine.items] == [
        ("read", clerk.username)
    ]  # the look at the clerk's history (this one is recorded after it is read)
