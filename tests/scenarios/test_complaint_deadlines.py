"""A citizen complains anonymously on a Friday afternoon and nobody answers.

Friday 25 September 2026 is 中秋节: the weekend that follows is a holiday too. The
first response is due 24 clock hours later, on Saturday; the result 3 working days
later, counted on the official calendar (Monday to Wednesday). The worker escalates
the missed response to the department head, a day later to the center admin; the
department answers on Monday, resolves on Wednesday, and the citizen confirms.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select

from support import item_named, make_user, reviewer_for
from tongban.audit.models import AuditEntry
from tongban.db import transaction
from tongban.feedback import jobs, service
from tongban.feedback.schemas import ComplaintActionIn, ComplaintCreate
from tongban.kit.clock import SHANGHAI, frozen


def beijing(day: int, month: int = 9, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(date(2026, month, day), time(hour, minute), tzinfo=SHANGHAI)


def test_an_anonymous_complaint_climbs_the_ladder_and_is_confirmed(demo_db: str) -> None:
    with transaction(demo_db) as s:
        item = item_named(s, "最低生活保障")
        head = reviewer_for(s, item.department_code)  # the department's reviewers lead it
        admin = make_user(s, "admin", region_code="640425")
        body = ComplaintCreate(
            category="efficiency",
            target_kind="item",
            target_ref=item.code,
            text="低保申请交了材料一个月没有消息，打电话也没人接。",
            contact_phone="13912345678",
        )
        with frozen(beijing(25, hour=16)):  # Friday afternoon, 中秋节
            filed = service.file_complaint(s, actor=None, data=body)
    number, code = filed.complaint_no, filed.query_code
    assert filed.response.due_at == beijing(26, hour=16)  # Saturday, 24 clock hours
    assert filed.result.due_at == beijing(1, month=10)  # end of Wednesday 30 September

    # Saturday noon: four hours left, the department is warned; nobody answers.
    assert jobs.run_once(demo_db, at=beijing(26, hour=12)).warnings == 1
    # Saturday 16:00 has passed: escalated to the department head, once however often it runs.
    assert jobs.run_once(demo_db, at=beijing(26, hour=16, minute=5)).escalations == 1
    assert jobs.run_once(demo_db, at=beijing(26, hour=17)).escalations == 0
    # Sunday 16:00, still silent: escalated to the center admin.
    assert jobs.run_once(demo_db, at=beijing(27, hour=16, minute=5)).escalations == 1

    with transaction(demo_db) as s:
        escalated = [a.level for a in service.alarms(s, actor=admin)]
        assert escalated == [2]
        with frozen(beijing(28, hour=9)):  # Monday morning: late, but an answer
            read = service.act(
                s,
                actor=head,
                complaint_no=number,
                data=ComplaintActionIn(action="respond", note="已联系申请人，正在核查办理进度"),
            )
        assert read.response.status == "late" and read.escalation_level == 2
        with frozen(beijing(30, hour=14)):  # Wednesday: resolved within the 3 working days
            read = service.act(
                s,
                actor=head,
                complaint_no=number,
                data=ComplaintActionIn(action="resolve", note="已督促审批，并电话告知结果"),
            )
        assert read.result.status == "met"

    # The result deadline passes on Thursday, a holiday: nothing more to escalate.
    assert jobs.run_once(demo_db, at=beijing(1, month=10, hour=9)).escalations == 0

    with transaction(demo_db) as s, frozen(beijing(2, month=10, hour=10)):
        confirmed = service.act(
            s, actor=None, complaint_no=number, code=code, data=ComplaintActionIn(action="confirm")
        )
        assert confirmed.state == "confirmed"
        assert [e.action for e in confirmed.events] == [
            "file",
            "assign",
            "warn",
            "escalate",
            "escalate",
            "respond",
            "resolve",
            "confirm",
        ]
        stats = service.stats(s, actor=admin)
        assert (stats.missed_response, stats.missed_result) == (1, 0)
        assert (stats.escalations_to_department, stats.escalations_to_center) == (1, 1)
        logged = s.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.subject_ref == number)
            .order_by(AuditEntry.seq)
        ).all()
        assert logged[:2] == ["feedback.escalate.response.1", "feedback.escalate.response.2"]
