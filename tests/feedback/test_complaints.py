"""吐槽专区 on the real databases: filing, deadlines, lifecycle, scope, the worker."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from feedback.feedback_support import at, closed_case, complaint_about_item
from support import applicant, item_named, make_user, reviewer_for
from tongban.audit.models import AuditEntry
from tongban.db import transaction
from tongban.errors import DomainError, Invalid, NotFound
from tongban.feedback import jobs, service
from tongban.feedback.models import FeedbackAlarm
from tongban.feedback.schemas import ComplaintActionIn, SweepReport
from tongban.kit.clock import frozen

FRIDAY = date(2026, 6, 12)  # an ordinary weekend follows (2026-05-09 was a 调休 workday)


def test_anonymous_filing_needs_a_contact_and_gets_a_query_code(demo_session: Session) -> None:
    s = demo_session
    with pytest.raises(Invalid) as no_contact:
        service.file_complaint(s, actor=None, data=complaint_about_item(s, contact_phone=""))
    assert no_contact.value.code == "contact_required"
    with frozen(at(FRIDAY, 15)):
        filed = service.file_complaint(s, actor=None, data=complaint_about_item(s))
    assert filed.state == "assigned" and filed.anonymous and filed.query_code
    assert filed.department_code == item_named(s, "最低生活保障").department_code
    assert "13912345678" not in filed.text and filed.contact_phone != "13912345678"
    assert filed.response.due_at == at(FRIDAY + timedelta(days=1), 15)  # 24 clock hours
    assert filed.result.due_at == at(date(2026, 6, 18), 0)  # 3 working days: Mon–Wed
    assert [e.action for e in filed.events] == ["file", "assign"]
    with pytest.raises(NotFound):
        service.get_complaint(s, actor=None, complaint_no=filed.complaint_no, code="000000x")
    again = service.get_complaint(
        s, actor=None, complaint_no=filed.complaint_no, code=filed.query_code
    )
    assert again.actions == []  # nothing for the complainant until it is resolved


def test_the_department_responds_resolves_and_the_complainant_reopens(
    demo_session: Session,
) -> None:
    s = demo_session
    person = applicant(s)
    reviewer = reviewer_for(s, item_named(s, "最低生活保障").department_code)
    with frozen(at(FRIDAY, 15)):
        filed = service.file_complaint(s, actor=person, data=complaint_about_item(s))
    no = filed.complaint_no
    with pytest.raises(NotFound):  # another department does not even see it
        service.get_complaint(s, actor=reviewer_for(s, "11640425MB00002TBX"), complaint_no=no)
    with pytest.raises(Invalid):
        service.act(s, actor=reviewer, complaint_no=no, data=ComplaintActionIn(action="respond"))
    with frozen(at(FRIDAY, 16)):
        read = service.act(
            s,
            actor=reviewer,
            complaint_no=no,
            data=ComplaintActionIn(action="respond", note="已收到，正在核实"),
        )
    assert read.response.status == "met"
    with frozen(at(date(2026, 6, 15), 10)):
        read = service.act(
            s,
            actor=reviewer,
            complaint_no=no,
            data=ComplaintActionIn(action="resolve", note="已增开窗口"),
        )
        with pytest.raises(DomainError) as not_theirs:
            service.act(
                s, actor=reviewer, complaint_no=no, data=ComplaintActionIn(action="confirm")
            )
        assert not_theirs.value.status == 403
        read = service.act(
            s,
            actor=person,
            complaint_no=no,
            data=ComplaintActionIn(action="reopen", note="仍然排长队"),
        )
    assert (read.state, read.cycle, read.response.status) == ("assigned", 2, "open")
    assert read.result.due_at == at(date(2026, 6, 19), 0)  # a fresh 3 working days
    assert [e.action for e in read.events][-3:] == ["respond", "resolve", "reopen"]
    mine = service.list_complaints(s, actor=person)
    assert [c.complaint_no for c in mine.items] == [no]


def test_the_center_admin_reassigns_a_platform_complaint(demo_session: Session) -> None:
    s = demo_session
    admin = make_user(s, "admin", region_code="640425")
    platform = complaint_about_item(s, target_kind="platform", target_ref="", category="system")
    filed = service.file_complaint(s, actor=None, data=platform)
    assert filed.department_code == ""
    department = item_named(s, "最低生活保障").department_code
    moved = service.act(
        s,
        actor=admin,
        complaint_no=filed.complaint_no,
        data=ComplaintActionIn(action="assign", department_code=department),
    )
    assert moved.department_code == department
    entry = s.scalars(
        select(AuditEntry).where(AuditEntry.action == "feedback.complaint_assign")
    ).one()
    assert entry.actor_user_id == admin.user_id


def test_a_case_complaint_needs_the_complainants_own_case(demo_session: Session) -> None:
    s = demo_session
    case, person, _ = closed_case(s)
    body = complaint_about_item(s, target_kind="case", target_ref=case.case_no)
    filed = service.file_complaint(s, actor=person, data=body)
    assert filed.target_name == case.title
    for stranger in (None, applicant(s, 5)):
        with pytest.raises(NotFound):
            service.file_complaint(s, actor=stranger, data=body)


def _file_on_friday(db: str) -> str:
    with transaction(db) as s, frozen(at(FRIDAY, 15)):
        return service.file_complaint(s, actor=None, data=complaint_about_item(s)).complaint_no


def test_the_worker_warns_escalates_once_and_auto_confirms(demo_db: str) -> None:
    no = _file_on_friday(demo_db)
    assert jobs.run_once(demo_db, at=at(FRIDAY, 20)) == SweepReport()
    assert jobs.run_once(demo_db, at=at(date(2026, 6, 13), 12)).warnings == 1  # 3 h left
    saturday = jobs.run_once(demo_db, at=at(date(2026, 6, 13), 15, 1))
    assert (saturday.warnings, saturday.escalations) == (0, 1)  # to the department head
    assert jobs.run_once(demo_db, at=at(date(2026, 6, 13), 16)) == SweepReport()  # idempotent
    sunday = jobs.run_once(demo_db, at=at(date(2026, 6, 14), 15, 1))
    assert sunday.escalations == 1  # 24 h later: the center admin
    with transaction(demo_db) as s:
        admin = make_user(s, "admin", region_code="640425")
        read = service.get_complaint(s, actor=admin, complaint_no=no)
        assert read.escalation_level == 2 and read.response.status == "overdue"
        stats = service.stats(s, actor=admin)
        assert (stats.missed_response, stats.escalations_to_center) == (1, 1)
        service.act(
            s, actor=admin, complaint_no=no, data=ComplaintActionIn(action="resolve", note="已处理")
        )
    # resolved at the real "now"; auto-confirmation after 7 days
    later = jobs.run_once(demo_db, at=at(date(2030, 1, 1)))
    assert later.auto_confirmed == 1
    with transaction(demo_db) as s:
        assert service.get_complaint(s, actor=admin, complaint_no=no).state == "confirmed"


def test_two_workers_at_once_escalate_once(demo_db: str) -> None:
    numbers = [_file_on_friday(demo_db) for _ in range(3)]
    barrier = threading.Barrier(2)
    reports: list[SweepReport | BaseException] = []

    def sweep() -> None:
        barrier.wait()
        try:
            reports.append(jobs.run_once(demo_db, at=at(date(2026, 6, 30))))
        except BaseException as exc:  # asserted below
            reports.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(isinstance(r, SweepReport) for r in reports), reports
    total = sum(r.escalations for r in reports if isinstance(r, SweepReport))
    # each complaint: response and result deadlines, each to the department and the center
    assert total == len(numbers) * 4
    with transaction(demo_db) as s:
        alarms = s.scalar(select(func.count()).select_from(FeedbackAlarm))
        escalations = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action.like("feedback.escalate%"))
        )
    assert alarms == len(numbers) * 6  # + one warning per deadline
    assert escalations == total
