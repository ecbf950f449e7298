"""好差评 on the real databases: once per closed case, 差评 follow-ups, appeals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback.feedback_support import at, closed_case
from support import applicant, item_named, make_user, person_id, reviewer_for, submit
from tongban.audit.models import AuditEntry
from tongban.errors import Conflict, DomainError, Forbidden, NotFound
from tongban.feedback import service
from tongban.feedback.schemas import (
    AppealDecisionIn,
    AppealIn,
    FollowUpActionIn,
    RatingCreate,
)
from tongban.kit.clock import frozen
from tongban.workdays import service as workdays_service


def test_the_applicant_rates_a_closed_case_once(demo_session: Session) -> None:
    s = demo_session
    case, person, _ = closed_case(s)
    good = RatingCreate(level=5, indicators={"overall": 5, "efficiency": 4}, comment="很快")
    rating = service.rate_case(s, actor=person, case_no=case.case_no, data=good)
    assert (rating.channel, rating.level_label, rating.follow_up) == ("online", "非常满意", None)
    with pytest.raises(Conflict) as twice:
        service.rate_case(s, actor=person, case_no=case.case_no, data=good)
    assert twice.value.code == "already_rated"
    assert service.get_rating(s, actor=person, case_no=case.case_no).id == rating.id


def test_an_open_case_cannot_be_rated_and_a_strangers_case_is_not_found(
    demo_session: Session,
) -> None:
    s = demo_session
    person = applicant(s)
    case = submit(s, person, item_code=item_named(s, "最低生活保障").code)
    with pytest.raises(Conflict) as open_case:
        service.rate_case(s, actor=person, case_no=case.case_no, data=RatingCreate(level=4))
    assert open_case.value.code == "case_not_closed"
    with pytest.raises(NotFound):
        service.rate_case(
            s, actor=applicant(s, 2), case_no=case.case_no, data=RatingCreate(level=4)
        )
    with pytest.raises(Forbidden):
        service.rate_case(
            s, actor=make_user(s, "auditor"), case_no=case.case_no, data=RatingCreate(level=4)
        )


def test_the_window_records_an_offline_rating_with_offline_indicators(
    demo_session: Session,
) -> None:
    s = demo_session
    case, person, window = closed_case(s)
    online_only = RatingCreate(level=4, indicators={"usability": 4})
    with pytest.raises(DomainError) as wrong:
        service.rate_case(s, actor=window, case_no=case.case_no, data=online_only)
    assert wrong.value.code == "invalid_rating"
    pad = RatingCreate(level=4, indicators={"service_attitude": 5, "service_level": 4})
    rating = service.rate_case(s, actor=window, case_no=case.case_no, data=pad)
    assert rating.channel == "offline"
    with pytest.raises(Conflict):  # the applicant's own rating is the same 一次一评
        service.rate_case(s, actor=person, case_no=case.case_no, data=RatingCreate(level=5))


def test_a_bad_rating_opens_a_follow_up_due_in_15_working_days(demo_session: Session) -> None:
    s = demo_session
    number = person_id(3)
    with frozen(at(date(2026, 9, 25))):  # 中秋 Friday: a holiday weekend, then 国庆
        case, person, _ = closed_case(s)
        comment = f"来回跑了三趟，身份证号{number}"
        bad = RatingCreate(level=1, indicators={"overall": 1}, comment=comment)
        rating = service.rate_case(s, actor=person, case_no=case.case_no, data=bad)
    assert number not in rating.comment  # numbers masked on display
    follow_up = rating.follow_up
    assert follow_up is not None and follow_up.state == "open"
    # 15 working days on the official calendar: the National Day week does not count.
    due_day = workdays_service.add_workdays(s, start=date(2026, 9, 25), n=15).date
    assert due_day > date(2026, 10, 16)  # 15 weekdays would end on 16 October
    assert follow_up.due_at == at(due_day + timedelta(days=1), 0)


def test_the_department_follows_up_and_reports_back(demo_session: Session) -> None:
    s = demo_session
    case, person, _ = closed_case(s)
    rating = service.rate_case(s, actor=person, case_no=case.case_no, data=RatingCreate(level=2))
    assert rating.follow_up is not None
    item = item_named(s, "最低生活保障")
    reviewer = reviewer_for(s, item.department_code)
    outsider = reviewer_for(s, "11640425MB00002TBX")
    fid = rating.follow_up.id
    with pytest.raises(NotFound):
        service.act_on_follow_up(
            s, actor=outsider, follow_up_id=fid, data=FollowUpActionIn(action="call_back", note="x")
        )
    for action, note in (
        ("call_back", "已电话回访"),
        ("explain", "政策规定须核查"),
        ("report", "已反馈"),
    ):
        rating = service.act_on_follow_up(
            s, actor=reviewer, follow_up_id=fid, data=FollowUpActionIn(action=action, note=note)
        )
    assert rating.follow_up is not None and rating.follow_up.state == "reported"
    assert service.follow_ups(s, actor=reviewer) == []  # nothing open any more
    with pytest.raises(DomainError) as done:
        service.act_on_follow_up(
            s, actor=reviewer, follow_up_id=fid, data=FollowUpActionIn(action="report", note="x")
        )
    assert done.value.status == 409


def test_an_appeal_is_decided_by_the_center_admin_with_its_reason(demo_session: Session) -> None:
    s = demo_session
    case, person, _ = closed_case(s)
    rating = service.rate_case(s, actor=person, case_no=case.case_no, data=RatingCreate(level=1))
    reviewer = reviewer_for(s, item_named(s, "最低生活保障").department_code)
    admin = make_user(s, "admin", region_code="640425")
    rating = service.appeal(
        s,
        actor=reviewer,
        rating_id=rating.id,
        data=AppealIn(reason_code="mistaken", reason="评价人误选"),
    )
    assert rating.appeal_state == "pending"
    assert [r.id for r in service.pending_appeals(s, actor=admin)] == [rating.id]
    with pytest.raises(Forbidden):
        service.decide_appeal(
            s, actor=reviewer, rating_id=rating.id, data=AppealDecisionIn(uphold=True, reason="x")
        )
    decision = AppealDecisionIn(uphold=True, reason="经核实，评价人来电确认误选")
    rating = service.decide_appeal(s, actor=admin, rating_id=rating.id, data=decision)
    assert rating.appeal_state == "upheld" and rating.appeal_decision == decision.reason
    assert rating.follow_up is not None and rating.follow_up.state == "voided"
    entry = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None
    assert (entry.action, entry.subject_ref, entry.actor_user_id) == (
        "feedback.appeal_upheld",
        case.case_no,
        admin.user_id,
    )
    with pytest.raises(Conflict):
        service.decide_appeal(s, actor=admin, rating_id=rating.id, data=decision)


def test_a_clerk_elsewhere_cannot_record_a_rating(demo_session: Session) -> None:
    s = demo_session
    case, _, _ = closed_case(s)
    far = make_user(s, "clerk", region_code="640402")
    with pytest.raises(NotFound):
        service.rate_case(s, actor=far, case_no=case.case_no, data=RatingCreate(level=3))
