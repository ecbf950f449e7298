"""企业开办一件事: a founder applies once; five departments review in parallel; one decision."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy.orm import Session

from support import act, applicant, bundle_named, clerk, reviewer_for, submit
from tongban.cases import service as case_service
from tongban.kit.clock import SHANGHAI, frozen
from tongban.workdays.rules import WorkCalendar


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def test_business_startup_bundle_end_to_end(demo_session: Session) -> None:
    s = demo_session
    bundle = bundle_named(s, "企业开办")
    departments = {item.department_code for item in bundle.items}
    assert len(bundle.items) == 5 and len(departments) == 5
    assert bundle.promised_limit_days == 1
    founder, window = applicant(s), clerk(s)
    reviewers = {code: reviewer_for(s, code) for code in departments}

    # Accepted the day before the National Day holiday: the 1-day promise runs past it.
    accept_day = date(2026, 9, 30)
    with frozen(at(accept_day, 9)):
        case = submit(s, founder, bundle_code=bundle.code)
        assert case.state == "submitted" and case.channel == "online"
        case = act(s, window, case, "accept")
    assert case.state == "in_review"
    assert len(case.tasks) == 5
    assert {t.department_code for t in case.tasks} == departments
    expected_deadline = WorkCalendar({}).add_workdays(accept_day, 1).date
    assert expected_deadline > date(2026, 10, 7)  # past 国庆
    assert case.clock.deadline_on == expected_deadline
    assert case.clock.accepted_on == accept_day

    # The five departments work in parallel, each seeing only its own task.
    with frozen(at(expected_deadline, 10)):
        for task in case.tasks:
            reviewer = reviewers[task.department_code]
            queue = case_service.task_queue(s, actor=reviewer)
            assert [e.task_id for e in queue.items] == [task.id]
            case = case_service.get_case(s, actor=reviewer, case_no=case.case_no)
            assert "decide" not in case.allowed_actions or reviewer.department_code == ""
            case = act(s, reviewer, case, "approve_task", task_id=task.id)
        case = case_service.get_case(s, actor=window, case_no=case.case_no)
        assert all(t.state == "approved" for t in case.tasks)
        assert "decide" in case.allowed_actions
        case = act(s, window, case, "decide", decision="approve")
        case = act(s, window, case, "close")
        case = act(s, window, case, "deliver", method="electronic")

    assert case.state == "delivered"
    assert case.clock.status == "stopped"
    actions = [e.action for e in case.events]
    assert actions == ["submit", "accept"] + ["approve_task"] * 5 + ["decide", "close", "deliver"]
    codes = {e.action: e.national_code for e in case.events}
    assert codes["submit"] == 1 and codes["accept"] == 3 and codes["close"] == 11

    # The founder follows every step, and the public lookup shows only a masked name.
    mine = case_service.get_case(s, actor=founder, case_no=case.case_no)
    assert len(mine.events) == len(case.events)
    public = case_service.progress(s, case_no=case.case_no, query_code=mine.query_code or "")
    assert public.applicant_name_masked == "王**"
    assert public.state == "delivered"
