from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tongban.kit.documented import CREDIT_CODE, ID_NUMBER, MOBILE, STRONG_PASSWORD, pattern
from tongban.kit.text import MULTILINE, VERBATIM, RequestModel
from tongban.openapi_text import text_pattern

NAME = pattern(text_pattern(min_length=1))  # 姓名: refused blank (invalid_name)

# Passwords are taken as typed (not trimmed), still without control characters.
Password = Annotated[str, VERBATIM, Field(max_length=128)]
# A new password: at least 8 characters, letters and digits (access.rules.password_problems).
NewPassword = Annotated[
    str,
    VERBATIM,
    Field(max_length=128, json_schema_extra=pattern(STRONG_PASSWORD, minLength=8)),
]
ItemCode = Annotated[str, Field(max_length=64)]


class TokenRequest(RequestModel):
    # Generous: an unknown or overlong name is a failed sign-in (401, counted), not a 422.
    username: str = Field(max_length=256)
    password: Password


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str


class SessionsEnded(BaseModel):
    username: str
    ended: int  # live sessions and tokens that were ended


class UserRead(BaseModel):
    id: int
    username: str
    role: str
    display_name: str
    region_code: str | None
    department_code: str | None
    assurance_level: int = 0


class PhoneCodeRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(
        max_length=32,
        description="11-digit mainland mobile number",
        json_schema_extra=pattern(MOBILE),
    )
    purpose: Literal["signup", "reset"] = "signup"
    email: str | None = Field(None, max_length=254, description="also send the code here")


class PhoneCodeSent(BaseModel):
    expires_in: int = Field(description="seconds the code stays valid")


class PhoneCodeConfirm(RequestModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(max_length=32, json_schema_extra=pattern(MOBILE))
    purpose: Literal["signup", "reset"] = "signup"
    code: str = Field(max_length=16)


class PhoneProof(BaseModel):
    phone_proof: str = Field(description="use once within 30 minutes: register or reset")


class RegisterRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    phone_proof: str = Field(max_length=512)
    password: NewPassword
    email: str | None = Field(None, max_length=254)


class PasswordReset(RequestModel):
    model_config = ConfigDict(extra="forbid")

    phone_proof: str = Field(max_length=512)
    password: NewPassword


class PasswordChange(RequestModel):
    model_config = ConfigDict(extra="forbid")

    old_password: Password
    new_password: NewPassword


class IdentityRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64, json_schema_extra=NAME)
    id_number: str = Field(max_length=32, json_schema_extra=pattern(ID_NUMBER))


class AccountRead(BaseModel):
    username: str
    display_name: str
    role: str
    assurance_level: int
    assurance_label: str
    phone_masked: str | None
    id_number_masked: str | None
    email_masked: str | None


class InPersonRegistration(RequestModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64, json_schema_extra=NAME)
    id_number: str = Field(max_length=32, json_schema_extra=pattern(ID_NUMBER))
    phone: str | None = Field(None, max_length=32, json_schema_extra=pattern(MOBILE))
    password: Annotated[str, VERBATIM] = Field(
        max_length=128,
        description="chosen by the citizen at the window",
        json_schema_extra=pattern(STRONG_PASSWORD, minLength=8),
    )
    place: str = Field("", max_length=128, description="window or service station")
    consent: Annotated[str, MULTILINE] = Field(
        max_length=1000, description="the citizen's consent, as recorded"
    )


class InPersonRead(BaseModel):
    username: str
    display_name: str
    assurance_level: int


class EnterpriseLinkRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    credit_code: str = Field(max_length=32, json_schema_extra=pattern(CREDIT_CODE))
    capacity: Literal["legal_representative", "agent"]


class EnterpriseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    credit_code: str
    name: str
    capacity: str
    capacity_label: str
    linked_at: datetime


class DelegationRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    agent_phone: str = Field(max_length=32, json_schema_extra=pattern(MOBILE))
    item_codes: list[ItemCode] = Field(default_factory=list, max_length=50)
    valid_until: datetime
    note: Annotated[str, MULTILINE] = Field("", max_length=500)


class WindowDelegationRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    principal_name: str = Field(max_length=64, json_schema_extra=NAME)
    principal_id_number: str = Field(max_length=32, json_schema_extra=pattern(ID_NUMBER))
    agent_phone: str = Field(max_length=32, json_schema_extra=pattern(MOBILE))
    item_codes: list[ItemCode] = Field(default_factory=list, max_length=50)
    valid_until: datetime
    consent: Annotated[str, MULTILINE] = Field(max_length=500)


class DelegationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    principal_name: str
    principal_id_masked: str
    agent_name: str
    agent_phone_masked: str
    item_codes: list[str]
    valid_from: datetime
    valid_until: datetime
    given_via: str
    revoked_at: datetime | None
    active: bool


class DelegationsRead(BaseModel):
    given: list[DelegationRead]
    received: list[DelegationRead]
