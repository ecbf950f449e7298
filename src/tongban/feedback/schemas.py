from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from tongban.kit.documented import enum_of
from tongban.kit.text import MULTILINE, RequestModel

Note = Annotated[str, MULTILINE]


class RatingCreate(RequestModel):
    level: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    indicators: dict[Annotated[str, Field(max_length=32)], int] = Field(
        default_factory=dict, max_length=20, description="indicator → 1–5"
    )
    comment: Note = Field(default="", max_length=500)


class FollowUpRead(BaseModel):
    id: int
    state: str
    state_label: str
    department_code: str
    opened_at: datetime
    due_at: datetime
    due_provisional: bool
    reported_at: datetime | None
    overdue: bool
    actions: list[str]


class RatingRead(BaseModel):
    id: int
    case_no: str
    title: str
    department_name: str
    channel: str
    level: int
    level_label: str
    indicators: dict[str, int]
    comment: str  # personal numbers masked
    rated_at: datetime
    appeal_state: str
    appeal_reason_code: str
    appeal_decision: str
    follow_up: FollowUpRead | None


class FollowUpActionIn(RequestModel):
    action: Literal["call_back", "rectify", "explain", "report"]
    note: Note = Field(min_length=1, max_length=2000)


class AppealIn(RequestModel):
    reason_code: Literal["mistaken", "malicious"]
    reason: Note = Field(min_length=1, max_length=1000)


class AppealDecisionIn(RequestModel):
    uphold: bool
    reason: Note = Field(min_length=1, max_length=1000)


def _categories() -> list[str]:
    from tongban.feedback.rules import CATEGORIES

    return list(CATEGORIES)


class ComplaintCreate(RequestModel):
    kind: Literal["complaint", "suggestion"] = "complaint"
    category: str = Field(max_length=16, json_schema_extra=enum_of(_categories))
    target_kind: Literal["item", "department", "case", "platform"]
    target_ref: str = Field(default="", max_length=64)
    text: Note = Field(min_length=5, max_length=2000)
    contact_name: str = Field(default="", max_length=64)
    contact_phone: str = Field(default="", max_length=20)


class ComplaintActionIn(RequestModel):
    action: Literal["assign", "respond", "resolve", "confirm", "reopen"]
    note: Note = Field(default="", max_length=2000)
    department_code: str | None = Field(default=None, max_length=18)


class EventRead(BaseModel):
    seq: int
    at: datetime
    actor_name: str
    actor_role: str
    action: str
    action_label: str
    from_state: str | None
    to_state: str
    note: str
    payload: dict[str, Any]


class Countdown(BaseModel):
    due_at: datetime
    status: str  # open / overdue / met / late
    seconds: int | None  # left (negative: overdue) while open


class ComplaintRead(BaseModel):
    complaint_no: str
    query_code: str | None  # only to the complainant
    kind: str
    category: str
    category_label: str
    target_kind: str
    target_ref: str
    target_name: str
    department_code: str
    department_name: str
    text: str  # personal numbers masked
    contact_name: str  # masked
    contact_phone: str  # masked
    anonymous: bool
    state: str
    state_label: str
    cycle: int
    filed_at: datetime
    response: Countdown
    result: Countdown
    result_due_provisional: bool
    response_text: str
    resolution_text: str
    escalation_level: int
    actions: list[str]
    events: list[EventRead]


class ComplaintSummary(BaseModel):
    complaint_no: str
    kind: str
    category_label: str
    target_name: str
    department_name: str
    state: str
    state_label: str
    filed_at: datetime
    response: Countdown
    result: Countdown
    escalation_level: int


class ComplaintPage(BaseModel):
    items: list[ComplaintSummary]
    total: int
    page: int
    size: int


class SweepReport(BaseModel):
    warnings: int = 0
    escalations: int = 0
    auto_confirmed: int = 0
    follow_ups_overdue: int = 0


class FeedbackStats(BaseModel):
    missed_response: int  # complaints escalated past the 24-hour response deadline
    missed_result: int  # … past the result deadline
    escalations_to_department: int
    escalations_to_center: int
    follow_ups_overdue: int
