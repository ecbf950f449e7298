"""企业开办一件事: a founder with no company yet applies once, to delivery.

The bundle asks for each material once and never for what it produces itself (营业执照
comes out of 企业设立登记); the founder types no 统一社会信用代码 — 市场监管局 issues it
when it approves the registration, and only then do 公安 (印章), 税务 (发票), 人社 (社保)
and 公积金 start, in parallel, with the new code in their form. 行政审批服务局 leads the
bundle without handling any of its items: it finds the case in its 待决定 queue and
decides. The founder downloads the decision, which records the delivery.
"""

from __future__ import annotations

from datetime import date, datetime, time

import pypdfium2
from sqlalchemy.orm import Session

from support import act, applicant, bundle_named, clerk, reviewer_for, submit
from tongban.cases import service as case_service
from tongban.cases.schemas import CaseDetail, CasePage
from tongban.kit.clock import SHANGHAI, frozen
from tongban.kit.ids import make_uscc
from tongban.workdays.rules import WorkCalendar

REGISTRATION = "11640425MB00002TBX011000200100001"  # 企业设立登记 (市场监管局)
NEW_COMPANY = make_uscc("91640425MA76QY001")  # the code 市场监管局 issues (fictional)


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
    lead = reviewer_for(s, bundle.lead_department_code)
    assert bundle.lead_department_code not in departments  # 行政审批服务局 handles none

    # One form, each material once, nothing the bundle makes itself.
    schema = case_service.application_schema(list(bundle.items))
    assert "uscc" not in schema["properties"]
    asked = [m.name for _, m in case_service.application_plan(s, bundle_code=bundle.code).asked]
    assert len(asked) == len(set(asked))
    assert "营业执照" not in asked
    assert asked.count("经办人居民身份证") <= 1

    # Accepted the day before the National Day holiday: the 1-day promise runs past it.
    accept_day = date(2026, 9, 30)
    with frozen(at(accept_day, 9)):
        case = submit(s, founder, bundle_code=bundle.code)
        assert case.state == "submitted" and case.channel == "online"
        assert case.applicant_kind == "person"  # the founder, not a company that is not yet
        case = act(s, window, case, "accept")
    assert case.state == "in_review"
    assert len(case.tasks) == 5
    expected_deadline = WorkCalendar({}).add_workdays(accept_day, 1).date
    assert expected_deadline > date(2026, 10, 7)  # past 国庆
    assert case.clock.deadline_on == expected_deadline

    # Only the registration is worked on first; the other four wait for its code.
    states = {t.item_code: t.state for t in case.tasks}
    assert states.pop(REGISTRATION) == "pending"
    assert set(states.values()) == {"waiting"}
    with frozen(at(expected_deadline, 10)):
        registration = next(t for t in case.tasks if t.item_code == REGISTRATION)
        market = reviewers[registration.department_code]
        case = act(
            s, market, case, "approve_task", task_id=registration.id, issued={"uscc": NEW_COMPANY}
        )
        assert {t.state for t in case.tasks if t.item_code != REGISTRATION} == {"pending"}

        # The four departments work in parallel, each seeing its task and the new code.
        for task in [t for t in case.tasks if t.state == "pending"]:
            reviewer = reviewers[task.department_code]
            queue = case_service.task_queue(s, actor=reviewer)
            assert [e.task_id for e in queue.items] == [task.id]
            seen = case_service.get_case(s, actor=reviewer, case_no=case.case_no)
            assert seen.form["uscc"] == NEW_COMPANY
            assert "decide" not in seen.allowed_actions
            case = act(s, reviewer, seen, "approve_task", task_id=task.id)
        assert all(t.state == "approved" for t in case.tasks)

        # The lead department finds it waiting for its decision, and decides.
        window_view = case_service.get_case(s, actor=window, case_no=case.case_no)
        assert "decide" not in window_view.allowed_actions
        waiting = case_service.work_queue(s, actor=lead, kind="decide")
        assert isinstance(waiting, CasePage)
        assert [c.case_no for c in waiting.items] == [case.case_no]
        case = case_service.get_case(s, actor=lead, case_no=case.case_no)
        case = act(s, lead, case, "decide", decision="approve")
        case = act(s, window, case, "close")

    # Electronic delivery: the founder's first download is the 送达回证.
    filename, pdf = case_service.decision_document(s, actor=founder, case_no=case.case_no)
    text = pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert "准予" in text and NEW_COMPANY in text and "彭阳县行政审批服务局" in text
    delivered: CaseDetail = case_service.get_case(s, actor=founder, case_no=case.case_no)
    assert delivered.state == "delivered"
    actions = [e.action for e in delivered.events]
    assert actions == [
        "submit",
        *["verify"] * actions.count("verify"),
        "accept",
        *["approve_task"] * 5,
        "decide",
        "close",
        "receive_electronic",
    ]
    decide = next(e for e in delivered.events if e.action == "decide")
    assert decide.actor_role == "reviewer" and filename.endswith(".pdf")
    codes = {e.action: e.national_code for e in delivered.events}
    assert codes["submit"] == 1 and codes["accept"] == 3 and codes["close"] == 11

    public = case_service.progress(s, case_no=case.case_no, query_code=delivered.query_code or "")
    assert public.applicant_name_masked == "王**"
    assert public.state == "delivered"
