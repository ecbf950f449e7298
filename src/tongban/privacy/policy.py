"""The classification and masking policy, read from policy.toml (configuration, not code)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

POLICY_FILE = Path(__file__).with_name("policy.toml")

Visibility = Literal["plain", "masked", "hidden"]
Level = Literal["general", "important", "core"]
PersonalClass = Literal["none", "personal", "sensitive"]
MaskKind = Literal["name", "id_number", "phone", "bank_card", "address", "free_text", "none"]
AUDIENCES = ("applicant", "clerk", "reviewer", "admin", "auditor", "anonymous")

LEVEL_LABELS = {"general": "一般", "important": "重要", "core": "核心"}
PERSONAL_LABELS = {"none": "非个人信息", "personal": "个人信息", "sensitive": "敏感个人信息"}


class RoleRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: dict[str, Visibility]
    unmask: list[str] = []

    def visibility(self, audience: str) -> Visibility:
        return self.roles.get(audience, "hidden")  # unknown audience: nothing


class FieldPolicy(RoleRule):
    label: str
    category: str
    level: Level
    personal: PersonalClass
    mask: MaskKind
    stored: str
    encrypted: bool = False


class FormFieldDeclaration(BaseModel):
    """What a service item's form field declares under "x-privacy" (data minimization)."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1)
    level: Level
    personal: PersonalClass
    mask: MaskKind = "none"
    purpose: str = Field(min_length=2, description="why the item needs this field")


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[str, FieldPolicy]
    form_fields: dict[PersonalClass, RoleRule]
    unmask_reasons: dict[str, str]

    def field(self, name: str) -> FieldPolicy:
        return self.fields[name]

    def form_rule(self, declaration: FormFieldDeclaration) -> RoleRule:
        return self.form_fields[declaration.personal]


@lru_cache
def load_policy(path: Path = POLICY_FILE) -> Policy:
    with path.open("rb") as handle:
        return Policy.model_validate(tomllib.load(handle))
