"""Helpers for the feedback tests: a closed case, Beijing times, complaint bodies."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy.orm import Session

from support import act, applicant, clerk, item_named, reviewer_for, submit
from tongban.access.rules import Actor
from tongban.cases.schemas import CaseDetail
from tongban.feedback.schemas import ComplaintCreate
from tongban.kit.clock import SHANGHAI

ITEM = "最低生活保障"


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def closed_case(s: Session, person: Actor | None = None) -> tuple[CaseDetail, Actor, Actor]:
    """A 最低生活保障 case taken through to 办结: (case, applicant, window clerk)."""
    item = item_named(s, ITEM)
    person = person or applicant(s)
    window = clerk(s)
    reviewer = reviewer_for(s, item.department_code)
    case = submit(s, person, item_code=item.code)
    case = act(s, window, case, "accept")
    for task in case.tasks:
        case = act(s, reviewer, case, "approve_task", task_id=task.id)
    case = act(s, reviewer, case, "decide", decision="approve")  # the department decides
    case = act(s, window, case, "close")
    return case, person, window


def complaint_about_item(s: Session, **changes: str) -> ComplaintCreate:
    item = item_named(s, ITEM)
    body = {
        "kind": "complaint",
        "category": "efficiency",
        "target_kind": "item",
        "target_ref": item.code,
        "text": "窗口排队两个小时没人管，电话13912345678也打不通。",
        "contact_name": "张先生",
        "contact_phone": "13912345678",
        **changes,
    }
    return ComplaintCreate.model_validate(body)
