"""The classification and masking policy, read from policy.toml (configuration, not code)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

POLICY_FILE = Path(__file__).with_name("policy.toml")

Visibility = Literal["plain", "masked", "hidden"]
Level = Literal["general", "important", "core"]
PersonalClass = Literal["none", "personal", "sensitive"]
MaskKind = Literal[
    "name", "id_number", "phone", "bank_card", "address", "free_text", "full", "none"
]
AUDIENCES = ("applicant", "clerk", "reviewer", "admin", "auditor", "anonymous")
STAFF_AUDIENCES = frozenset({"clerk", "reviewer", "admin", "auditor"})
# Masks that keep part of a text value; "full" hides any value, "none" shows it as is.
TEXT_MASKS = frozenset({"name", "id_number", "phone", "bank_card", "address", "free_text"})

LEVEL_LABELS = {"general": "一般", "important": "重要", "core": "核心"}
PERSONAL_LABELS = {"none": "非个人信息", "personal": "个人信息", "sensitive": "敏感个人信息"}
AUDIENCE_LABELS = {
    "applicant": "本人",
    "clerk": "窗口人员",
    "reviewer": "审批人员",
    "admin": "管理员",
    "auditor": "审计员",
    "anonymous": "公众查询",
}


class RoleRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: dict[str, Visibility]
    unmask: list[str] = []

    @model_validator(mode="after")
    def _complete_and_consistent(self) -> RoleRule:
        # A gap would silently mean "hidden" and a typo would grant nothing: both are
        # mistakes in the file, so loading it fails instead.
        missing = [a for a in AUDIENCES if a not in self.roles]
        unknown = sorted(set(self.roles) - set(AUDIENCES))
        if missing or unknown:
            raise ValueError(
                f"roles must name each of {AUDIENCES}: missing {missing}, unknown {unknown}"
            )
        for role in self.unmask:
            if role not in STAFF_AUDIENCES:
                raise ValueError(f"unmask: {role!r} is not a staff role")
            if self.roles[role] != "masked":
                raise ValueError(f"unmask: {role!r} sees this field {self.roles[role]}, not masked")
        return self

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

    @model_validator(mode="after")
    def _masked_needs_a_mask(self) -> FieldPolicy:
        if self.mask == "none" and "masked" in self.roles.values():
            raise ValueError("an audience sees this field masked, so its mask cannot be none")
        return self


class FormFieldDeclaration(BaseModel):
    """What a service item's form field declares under "x-privacy" (data minimization)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: str = Field(min_length=1)
    level: Level
    personal: PersonalClass
    mask: MaskKind = "none"
    purpose: str = Field(min_length=2, description="why the item needs this field")
    basis: bool = Field(
        False, description="the decision rests on it: the handling reviewers see it plain"
    )


# Masks of values that stay masked even as a basis of the decision (unmask with a reason).
NEVER_BASIS_MASKS = frozenset({"id_number", "phone", "bank_card"})


class DecisionBasis(BaseModel):
    """How the handling department's reviewers see the form fields a decision rests on."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(min_length=2)
    reviewer: Visibility


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[str, FieldPolicy]
    form_fields: dict[PersonalClass, RoleRule]
    decision_basis: DecisionBasis
    unmask_reasons: dict[str, str]

    @model_validator(mode="after")
    def _every_form_class(self) -> Policy:
        missing = [c for c in ("none", "personal", "sensitive") if c not in self.form_fields]
        if missing:
            raise ValueError(f"form_fields needs a rule for each personal class; missing {missing}")
        # Non-personal form fields declare mask "none": "masked" would show them as is.
        if "masked" in self.form_fields["none"].roles.values():
            raise ValueError("form_fields.none cannot mask: non-personal fields have no mask")
        return self

    def field(self, name: str) -> FieldPolicy:
        return self.fields[name]

    def form_rule(self, declaration: FormFieldDeclaration) -> RoleRule:
        return self.form_fields[declaration.personal]


@lru_cache
def load_policy(path: Path = POLICY_FILE) -> Policy:
    with path.open("rb") as handle:
        return Policy.model_validate(tomllib.load(handle))
