"""A December case gets a provisional deadline; loading the official 2027 calendar fixes it."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy.orm import Session

import tongban.demo
from support import act, applicant, clerk, item_named, submit
from tongban import events
from tongban.cases import service as case_service
from tongban.kit.clock import SHANGHAI, frozen
from tongban.workdays import service as workdays_service

CALENDAR_2027 = Path(tongban.demo.__file__).parent / "calendar-2027.toml"


def test_official_calendar_recomputes_provisional_deadlines(demo_session: Session) -> None:
    events.register_handlers()
    s = demo_session
    item = item_named(s, "最低生活保障")  # promised 20 working days: runs into February 2027
    person, window = applicant(s), clerk(s)
    with frozen(datetime.combine(date(2026, 12, 28), time(10), tzinfo=SHANGHAI)):
        case = submit(s, person, item_code=item.code)
        case = act(s, window, case, "accept")
        assert case.clock.provisional
        provisional_deadline = case.clock.deadline_on

        workdays_service.load_file(s, path=CALENDAR_2027)
        after = case_service.get_case(s, actor=window, case_no=case.case_no)

    assert not after.clock.provisional
    official = workdays_service.calendar(s).add_workdays(date(2026, 12, 28), 20)
    assert not official.provisional
    assert after.clock.deadline_on == official.date
    assert provisional_deadline is not None and after.clock.deadline_on is not None
    # The example 2027 arrangement has make-up workdays and a longer Spring Festival than
    # the provisional rule, so the stored deadline moved — and it is stored, not just shown.
    from tongban.cases.models import Case

    stored = s.query(Case).filter_by(case_no=case.case_no).one()
    assert stored.deadline_provisional is False
    assert stored.deadline_at is not None
    assert stored.deadline_at.astimezone(SHANGHAI).date() == date.fromordinal(
        official.date.toordinal() + 1
    )
