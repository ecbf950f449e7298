"""API shapes of the audit domain: alerts, access histories, the log's status."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tongban.kit.text import MULTILINE, RequestModel


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rule: str
    rule_label: str = ""
    severity: str
    actor_user_id: int | None
    actor_username: str
    actor_name: str
    window_key: str
    summary: str
    details: dict[str, Any]
    status: str
    created_at: datetime
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution_note: str = ""


class AlertPage(BaseModel):
    items: list[AlertRead]
    total: int
    page: int
    size: int
    counts: dict[str, int] = Field(default_factory=dict, description="alerts by status")


class AlertStatusIn(RequestModel):
    status: Literal["acknowledged", "closed"]
    note: Annotated[str, MULTILINE] = Field(
        "", max_length=1000, description="required when closing"
    )


class AccessRead(BaseModel):
    """One audit entry as the security auditor sees it."""

    model_config = ConfigDict(from_attributes=True)

    seq: int | None  # None: queued, not yet integrated into the tree (docs/audit.md)
    at: datetime
    actor_username: str
    actor_name: str
    actor_role: str
    actor_department_code: str | None
    action: str
    subject_kind: str
    subject_ref: str
    fields: list[str]
    purpose_code: str
    purpose_text: str
    result: str
    related: bool | None
    client_addr: str | None


class AccessPage(BaseModel):
    items: list[AccessRead]
    total: int
    page: int
    size: int


class AccountHistory(AccessPage):
    """One account's entries, newest first."""

    username: str
    display_name: str = ""
    role: str = ""


class DataAccessRead(BaseModel):
    """One access to a citizen's data, as that citizen sees it (我的数据被谁用了)."""

    at: datetime
    actor_name: str | None = Field(description="masked per the privacy policy")
    actor_role: str
    role_label: str
    department_name: str
    action: str
    action_label: str
    purpose_code: str
    purpose_label: str
    purpose_text: str
    subject_kind: str
    subject_ref: str
    fields: list[str]
    field_labels: list[str] = Field(default_factory=list, description="what was seen, in words")


class DataAccessPage(BaseModel):
    items: list[DataAccessRead]
    total: int
    page: int
    size: int


class VerificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ran_at: datetime
    tree_size: int
    ok: bool
    problem: str
    first_bad_seq: int | None
    seconds: float


class CheckpointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tree_size: int
    root_hash: str
    signed_at: datetime
    algorithm: str
    key_id: str


class AuditStatusRead(BaseModel):
    tree_size: int
    last_checkpoint_size: int
    last_checkpoint_at: datetime | None
    verifications: list[VerificationRead]
    checkpoints: list[CheckpointRead]
    alerts: dict[str, int] = Field(default_factory=dict, description="alerts by status")
    queued: int = Field(0, description="entries queued, not yet integrated into the tree")
    max_merge_delay_seconds: float = Field(
        0.0, description="queued entries are in the tree within this many seconds"
    )
