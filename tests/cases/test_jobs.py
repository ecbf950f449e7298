"""Deadline warnings go to the staff who owe the next step, once per case, status and day."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from support import act, clerk, item_named, reviewer_for, submit
from tongban import events
from tongban.cases import jobs
from tongban.kit.clock import SHANGHAI, frozen
from tongban.notify import service as notify_service


def test_an_overdue_case_warns_the_department_that_owes_it(demo_session: Session) -> None:
    s = demo_session
    events.register_handlers()
    item = item_named(s, "最低生活保障申请")
    window, department = clerk(s), reviewer_for(s, item.department_code)
    other = reviewer_for(s, "11640425MB00002TBX")
    with frozen(datetime.now(SHANGHAI) - timedelta(days=60)):
        case = act(s, window, submit(s, window, item_code=item.code), "accept")
    fresh = act(s, window, submit(s, window, item_code=item.code), "accept")  # not near
    assert jobs.sweep_deadlines(s) == 1
    assert jobs.sweep_deadlines(s) == 1  # published again, but the message is not repeated
    inbox = notify_service.my_messages(s, actor=department, page=1, size=20)
    texts = [m.text for m in inbox.items]
    assert len(texts) == 1 and case.case_no in texts[0] and "超过承诺时限" in texts[0]
    assert fresh.case_no not in texts[0]
    assert notify_service.my_messages(s, actor=other, page=1, size=20).total == 0
    # Approved: now the lead department owes the decision, and it is the one warned.
    act(s, department, case, "approve_task", task_id=case.tasks[0].id)
    assert jobs.sweep_deadlines(s) == 1
