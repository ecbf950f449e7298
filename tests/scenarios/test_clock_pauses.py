"""补正 pauses the clock; a special procedure (特别程序) shifts the deadline."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy.orm import Session

from support import act, applicant, clerk, item_named, reviewer_for, submit
from tongban.kit.clock import SHANGHAI, frozen
from tongban.workdays.rules import WorkCalendar

CAL = WorkCalendar({})


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def test_supplement_before_acceptance_does_not_start_the_clock(demo_session: Session) -> None:
    s = demo_session
    item = item_named(s, "最低生活保障")
    person, window = applicant(s), clerk(s)
    with frozen(at(date(2026, 3, 2))):
        case = submit(s, person, item_code=item.code)
        case = act(s, window, case, "request_supplement", missing=["家庭成员收入证明（补充）"])
    assert case.state == "supplement"
    assert case.clock.status == "not_started"
    with frozen(at(date(2026, 3, 9))):
        case = act(s, person, case, "supplement")
        case = act(s, window, case, "accept")
    # The clock starts on the day the materials are complete and accepted.
    assert case.clock.accepted_on == date(2026, 3, 9)
    assert (
        case.clock.deadline_on == CAL.add_workdays(date(2026, 3, 9), item.promised_limit_days).date
    )


def test_review_supplement_and_special_procedure_shift_the_deadline(demo_session: Session) -> None:
    s = demo_session
    item = item_named(s, "食品经营许可")  # promised 5 working days
    person, window = applicant(s), clerk(s)
    reviewer = reviewer_for(s, item.department_code)
    accepted = date(2026, 4, 13)  # Monday
    with frozen(at(accepted)):
        case = submit(s, person, item_code=item.code)
        case = act(s, window, case, "accept")
    original = case.clock.deadline_on
    assert original == CAL.add_workdays(accepted, item.promised_limit_days).date

    with frozen(at(date(2026, 4, 14))):
        case = act(s, reviewer, case, "request_supplement", missing=["经营场所证明"])
    assert case.clock.status == "paused"
    with frozen(at(date(2026, 4, 16))):
        case = act(s, person, case, "supplement")  # paused Wed, Thu → 2 working days
    assert case.clock.paused_workdays == 2
    assert case.clock.deadline_on == CAL.add_workdays(accepted, item.promised_limit_days + 2).date

    with frozen(at(date(2026, 4, 16), 15)):
        case = act(s, reviewer, case, "start_special", kind="勘察")
    assert case.state == "suspended"
    with frozen(at(date(2026, 4, 23))):  # Thu → next Thu: 5 working days of inspection
        case = act(s, reviewer, case, "finish_special")
    assert case.clock.paused_workdays == 7
    assert case.clock.deadline_on == CAL.add_workdays(accepted, item.promised_limit_days + 7).date
    assert case.clock.deadline_on > original  # type: ignore[operator]
    kinds = [e.payload.get("kind") for e in case.events if e.action == "start_special"]
    assert kinds == ["勘察"]
    assert [e.national_code for e in case.events if e.action.endswith("_special")] == [9, 10]
