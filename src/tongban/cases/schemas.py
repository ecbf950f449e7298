"""Cases contract: what the API, the web pages and later domains read about cases."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tongban.kit.documented import CREDIT_CODE, ID_NUMBER, MOBILE, enum_of, pattern
from tongban.kit.text import MULTILINE, RequestModel
from tongban.openapi_text import text_pattern

ApplicantKind = Literal["person", "enterprise"]
Channel = Literal["online", "window"]
Delivery = Literal["pickup", "mail", "electronic"]  # 窗口领取 / 邮寄 / 电子送达
ClockStatus = Literal["not_started", "normal", "warning", "overdue", "paused", "stopped"]
# How a personal value is shown to this reader (privacy/policy.toml): a masked value is
# already masked here, a hidden one is None (or left out of the form).
Visibility = Literal["plain", "masked", "hidden"]


def _actions() -> list[str]:
    from tongban.cases.rules import Action

    return [action.value for action in Action]


def _unmask_reasons() -> list[str]:
    from tongban.privacy.policy import load_policy

    return list(load_policy().unmask_reasons)


class ApplicantIn(RequestModel):
    """Who the application is for. A citizen applying for themselves may leave it out (the
    verified account says who they are); for a linked enterprise give its credit code; for
    another person (委托) that person's identity number. Window staff give name and number."""

    kind: ApplicantKind = "person"
    name: str = Field("", max_length=64, description="required when staff file at a window")
    id_number: str | None = Field(
        None,
        max_length=32,
        description="居民身份证号 (person)",
        json_schema_extra=pattern(ID_NUMBER),
    )
    credit_code: str | None = Field(
        None,
        max_length=32,
        description="统一社会信用代码 (enterprise)",
        json_schema_extra=pattern(CREDIT_CODE),
    )
    phone: str | None = Field(None, max_length=20, json_schema_extra=pattern(MOBILE))
    contact_name: str | None = Field(None, max_length=64)


class MaterialIn(RequestModel):
    requirement_id: int = Field(ge=1, le=2**31 - 1)
    upload_id: str = Field(max_length=64)


class CaseCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")

    item_code: str | None = Field(None, max_length=64)
    bundle_code: str | None = Field(None, max_length=64)
    applicant: ApplicantIn = Field(default_factory=ApplicantIn)
    form: Annotated[dict[str, Any], MULTILINE] = Field(
        {}, description="the answers (checked against the item's form schema)"
    )
    materials: list[MaterialIn] = Field([], max_length=200)
    channel: Channel = "online"
    elder_mode: bool = False  # filed with the portal's 长辈模式 on (indicator I2)
    delivery: Delivery | None = Field(
        None, description="送达方式; default electronic online, pickup at the window"
    )

    @model_validator(mode="after")
    def _one_target(self) -> CaseCreate:
        if bool(self.item_code) == bool(self.bundle_code):
            raise ValueError("give exactly one of item_code or bundle_code")
        return self


class ActionIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(max_length=32, json_schema_extra=enum_of(_actions))
    version: int | None = Field(
        None, ge=0, le=2**31 - 1, description="the case version you saw (optimistic locking)"
    )
    note: Annotated[str, MULTILINE] = Field("", max_length=2000)
    payload: Annotated[dict[str, Any], MULTILINE] = Field(default_factory=dict)


class UploadRead(BaseModel):
    upload_id: str
    filename: str
    content_type: str
    size: int
    sha256: str


class TaskRead(BaseModel):
    id: int
    item_code: str
    item_name: str
    department_code: str
    department_name: str
    state: str
    state_label: str
    note: str | None
    decided_at: datetime | None


class MaterialRead(BaseModel):
    id: int
    requirement_id: int
    requirement_name: str
    item_code: str
    filename: str | None
    filename_visibility: Visibility
    content_type: str
    size: int
    status: str
    status_label: str


class EventRead(BaseModel):
    seq: int
    at: datetime
    actor_name: str
    actor_role: str
    action: str
    action_label: str
    from_state: str | None
    to_state: str
    national_code: int | None
    note: str | None
    payload: dict[str, Any]


class ClockRead(BaseModel):
    status: ClockStatus
    status_label: str
    accepted_on: date | None
    deadline_on: date | None
    statutory_deadline_on: date | None
    remaining_workdays: int | None
    paused_workdays: int
    provisional: bool
    limit_days: int


class CaseSummary(BaseModel):
    case_no: str
    title: str
    state: str
    state_label: str
    applicant_name: str | None
    applicant_name_visibility: Visibility
    channel: Channel
    submitted_at: datetime
    department_name: str
    clock: ClockRead
    version: int


class FieldCheckRead(BaseModel):
    """One compared element; both values masked as the element's classification says."""

    element: str
    name: str
    matches: bool
    declared: str
    registered: str


class VerificationRead(BaseModel):
    """A shared-data check made instead of a material (免提交)."""

    id: int
    requirement_id: int
    requirement_name: str
    service_code: str
    source: str = Field(description="the department source that answered, e.g. 公安人口库")
    claim: str | None
    outcome: Literal["verified", "mismatch", "unavailable", "denied"]
    outcome_label: str
    code: str = Field(description="why it did not pass (exchange_values_differ …); empty if it did")
    message: str
    message_en: str
    at: datetime
    request_id: str
    fields: list[FieldCheckRead]
    fields_visibility: Visibility
    ask_for_paper: str | None = Field(description="what the clerk does when it did not pass")
    paper_checked: bool
    paper_checked_by: str | None
    paper_checked_at: datetime | None


class CaseDetail(CaseSummary):
    query_code: str | None
    item_code: str | None
    bundle_code: str | None
    applicant_kind: ApplicantKind
    applicant_id_number: str | None
    applicant_id_visibility: Visibility
    applicant_phone: str | None
    applicant_phone_visibility: Visibility
    form: dict[str, Any] = Field(description="the answers; fields hidden from this reader left out")
    form_visibility: dict[str, Visibility]
    notes_visibility: Visibility = Field(description="decision, task, event and material notes")
    unmaskable_fields: list[str] = Field(
        description="masked fields this reader may ask to see plain (POST …/unmask)"
    )
    tasks: list[TaskRead]
    materials: list[MaterialRead]
    events: list[EventRead]
    verifications: list[VerificationRead] = Field(
        default_factory=list, description="shared-data checks that replace materials (免提交)"
    )
    allowed_actions: list[str]
    decision: str | None
    decision_note: str | None
    delivery_method: str | None
    delivery_preference: str = "pickup"
    decided_by: str = "department"
    decision_document: bool = Field(
        False, description="a decision document (决定书) can be downloaded"
    )


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    size: int


class TaskQueueEntry(BaseModel):
    task_id: int
    case_no: str
    title: str
    item_name: str
    department_name: str
    task_state: str
    case_state: str
    applicant_name: str | None
    applicant_name_visibility: Visibility
    clock: ClockRead
    version: int


class TaskPage(BaseModel):
    items: list[TaskQueueEntry]
    total: int
    page: int
    size: int


class ProgressRead(BaseModel):
    """Public progress: no personal data beyond the masked name."""

    case_no: str
    title: str
    state: str
    state_label: str
    applicant_name_masked: str | None
    submitted_at: datetime
    clock: ClockRead
    timeline: list[EventRead]


class UnmaskIn(RequestModel):
    """A request to see masked fields plain, with its purpose (查看明文的事由)."""

    model_config = ConfigDict(extra="forbid")

    fields: list[Annotated[str, Field(max_length=128)]] = Field(
        min_length=1,
        max_length=32,
        description='policy field names (case.applicant_id_number, form.<name> …); "*" = all',
    )
    reason_code: str = Field(max_length=32, json_schema_extra=enum_of(_unmask_reasons))
    reason_text: Annotated[str, MULTILINE] = Field(
        max_length=500,  # a few words at least (privacy.service.check_unmask_request)
        json_schema_extra=pattern(text_pattern(multiline=True, min_length=4)),
    )


class UnmaskRead(BaseModel):
    """The plain values, for this response only."""

    case_no: str
    values: dict[str, str]


class QueueCount(BaseModel):
    """One of the reader's work queues and how many cases wait in it."""

    kind: str
    label: str
    hint: str
    count: int
    by_channel: dict[str, int] = Field(
        default_factory=dict, description="the deliver queue by chosen channel"
    )


class QueueOverview(BaseModel):
    role: str
    queues: list[QueueCount]
