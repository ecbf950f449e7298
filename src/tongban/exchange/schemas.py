"""API shapes of the exchange domain: registry, authorizations, consents, checks, statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tongban.kit.text import MULTILINE, RequestModel

SERVICE_CODE = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"
CODE = r"^[a-z][a-z0-9_]*$"
ELEMENT = r"^DE\d{4}$"
Short = Annotated[str, Field(max_length=64)]
Value = Annotated[str, Field(max_length=500)]
Note = Annotated[str, MULTILINE]


class ClaimDef(RequestModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=128)
    # elements whose values the asker gives
    equals: list[Short] = Field(default_factory=list, max_length=100)
    # elements with a value set here
    fixed: dict[Short, Value] = Field(default_factory=dict, max_length=100)
    # date elements: valid while not past
    until: list[Short] = Field(default_factory=list, max_length=100)


class ServiceCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=SERVICE_CODE, max_length=64)
    name: str = Field(min_length=1, max_length=128)
    elements: list[Short] = Field(default_factory=list, max_length=200)
    claims: dict[Short, ClaimDef] = Field(default_factory=dict, max_length=100)
    description: Note = Field("", max_length=2000)


class ProviderCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE, max_length=64)
    name: str = Field(min_length=1, max_length=128)
    department_code: str = Field(min_length=18, max_length=18)
    kind: Literal["sql", "file", "rest", "node"]
    location: str = Field(min_length=1, max_length=1000)
    mapping: str = Field(min_length=1, max_length=64)  # mapping name; node: the peer's node id
    timeout_seconds: float | None = Field(default=None, gt=0, le=60)
    retries: int | None = Field(default=None, ge=0, le=5)
    breaker_failures: int | None = Field(default=None, ge=1, le=100)
    breaker_cooldown_seconds: float | None = Field(default=None, gt=0, le=3600)
    services: list[ServiceCreate] = Field(min_length=1, max_length=100)


class ServiceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    elements: list[str]
    claims: dict[str, ClaimDef]
    description: str


class ProviderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    department_code: str
    kind: str
    location: str = Field(description="where it lives; passwords are never shown")
    mapping: str
    status: str
    status_label: str = ""
    timeout_seconds: float
    retries: int
    breaker_failures: int
    breaker_cooldown_seconds: float
    breaker: str = "closed"
    registered_by: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    status_changed_by: str | None
    status_changed_at: datetime | None
    services: list[ServiceRead]


class DecisionIn(RequestModel):
    decision: Literal["approve", "reject"]
    note: Note = Field(default="", max_length=500)


class StatusIn(RequestModel):
    status: Literal["enabled", "disabled"]
    note: Note = Field(default="", max_length=500)


class AuthorizationCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")

    consumer_node: str = Field(default="", max_length=64)
    consumer_kind: Literal["item", "role", "platform"]
    consumer: str = Field(min_length=1, max_length=64)
    service_code: str = Field(pattern=SERVICE_CODE, max_length=64)
    elements: list[Short] = Field(default_factory=list, max_length=200)
    claims: list[Short] = Field(default_factory=list, max_length=100)
    purpose: str = Field(pattern=CODE, max_length=32)
    purpose_label: str = Field(default="", max_length=128)
    legal_basis: Literal["law", "consent"]
    legal_reference: Note = Field(default="", max_length=500)
    valid_until: datetime | None = None


class AuthorizationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    consumer_node: str
    consumer_kind: str
    consumer: str
    service_code: str
    elements: list[str]
    claims: list[str]
    purpose: str
    purpose_label: str
    legal_basis: str
    legal_reference: str
    valid_until: datetime | None
    status: str
    created_by: str
    created_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None


class NoteIn(RequestModel):
    note: Note = Field(min_length=2, max_length=500)


class ConsentCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")

    consumer: str = Field(pattern=r"^(item|role):\S+$", max_length=64)
    service_code: str = Field(pattern=SERVICE_CODE, max_length=64)
    purpose: str = Field(pattern=CODE, max_length=32)
    days: int = Field(default=365, ge=1, le=5 * 365)


class ConsentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    consumer: str
    service_code: str
    purpose: str
    given_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    channel: str


class CheckIn(RequestModel):
    """A check by a staff role (the role is the consumer): a claim, or elements compared."""

    model_config = ConfigDict(extra="forbid")

    service_code: str = Field(pattern=SERVICE_CODE, max_length=64)
    subject: str = Field(min_length=1, max_length=64)
    purpose: str = Field(pattern=CODE, max_length=32)
    claim: str | None = Field(None, max_length=64)
    claim_values: dict[Short, Value] = Field(default_factory=dict, max_length=100)
    expected: dict[Short, Value] = Field(default_factory=dict, max_length=100)
    case_no: str = Field(default="", max_length=32)


class FieldCheckRead(BaseModel):
    element: str
    name: str
    matches: bool
    declared: str
    registered: str


class VerificationRead(BaseModel):
    outcome: Literal["verified", "mismatch", "unavailable", "denied"]
    code: str
    message: str
    message_en: str
    service_code: str
    provider_code: str
    source: str
    at: datetime
    request_id: str
    claim: str | None
    fields: list[FieldCheckRead]


class ServiceStats(BaseModel):
    provider_code: str
    service_code: str
    requests: int
    answered: int
    denied: int
    unavailable: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: dict[str, int]
    breaker: str


class StatsRead(BaseModel):
    since: datetime
    until: datetime
    minutes: int
    services: list[ServiceStats]


class NodeRead(BaseModel):
    node_id: str
    algorithm: str
    key_id: str
    public_key: str
