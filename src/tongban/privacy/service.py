"""Masking by role at the API and web boundary: every personal value shown passes here.

Callers say which policy field a value is, who is looking and whether the looker is
the data subject; the policy (policy.toml) decides plain, masked or hidden. Unmasking
is a separate, explicit and audited request (cases.service.unmask).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from tongban.access.rules import Actor, Role
from tongban.errors import Forbidden, Invalid
from tongban.kit.masking import mask_id_number, mask_name, mask_phone
from tongban.privacy.policy import (
    NEVER_BASIS_MASKS,
    FormFieldDeclaration,
    MaskKind,
    RoleRule,
    Visibility,
    load_policy,
)
from tongban.privacy.scanner import mask_text

FORM_PREFIX = "form."


def audience(actor: Actor | None, *, own: bool) -> str:
    """The policy's audience: the data subject, a staff role, or the anonymous public."""
    if actor is None:
        return "anonymous"
    if own:
        return "applicant"
    if actor.role is Role.APPLICANT:
        return "anonymous"  # a citizen reading someone else's data is just the public
    return actor.role.value


FULL_MASK = "***"


def mask_value(kind: MaskKind, value: Any) -> Any:
    if kind == "none":
        return value
    if value is None or value == "":
        return ""
    if kind == "full" or not isinstance(value, str):
        return FULL_MASK  # numbers, dates, choices: no part of them is safe to show
    match kind:
        case "name":
            return mask_name(value)
        case "id_number":
            return mask_id_number(value)
        case "phone":
            return mask_phone(value)
        case "bank_card":
            return mask_bank_card(value)
        case "address":
            return mask_address(value)
        case _:
            return mask_text(value)


def mask_bank_card(value: str) -> str:
    """Last 4 digits only, grouping kept: **** **** **** 1234."""
    digits = sum(ch.isdigit() for ch in value)
    if digits == 0:
        return "*" * min(len(value), 8)  # not a number at all: nothing to keep
    keep = 4 if digits > 4 else 0
    shown: list[str] = []
    for ch in reversed(value):
        if ch.isdigit():
            shown.append(ch if keep > 0 else "*")
            keep -= 1
        else:
            shown.append(ch)
    return "".join(reversed(shown))


# GB/T 2260 names: province (or a municipality), an optional prefecture, then the county
# (区/县/旗/county-level 市). A name part may not run into street words or numbers, so
# "那大镇人民路某小区" is never taken for a county; the first character is free
# because county names may start with 镇/乡/道 (镇原县, 乡宁县, 道县).
_NAME = r"[^\s\d省市区县旗镇乡街路道巷弄号村组楼栋室]"
_START = r"[^\s\d]"
_COUNTY_PREFIX = re.compile(
    rf"(?:{_START}{_NAME}{{1,6}}?(?:省|自治区|特别行政区)|北京市|天津市|上海市|重庆市)?\s*"
    rf"(?:{_START}{_NAME}{{0,8}}?(?:自治州|地区|盟|市)\s*)?"
    rf"{_START}{_NAME}{{0,12}}?(?:自治县|自治旗|林区|特区|县|旗|区|市)"
)


def mask_address(value: str) -> str:
    """Keep the address down to county level: 宁夏回族自治区固原市彭阳县********."""
    found = _COUNTY_PREFIX.match(value)
    if found is None:
        return "*" * min(len(value), 8)  # no county recognised: show nothing
    rest = value[found.end() :].strip()
    return found.group() + "*" * min(len(rest), 8)


def _rule(field: str, declaration: FormFieldDeclaration | None) -> tuple[RoleRule, MaskKind]:
    policy = load_policy()
    if declaration is not None:
        return policy.form_rule(declaration), declaration.mask
    spec = policy.field(field)
    return spec, spec.mask


def visibility(
    field: str,
    actor: Actor | None,
    *,
    own: bool = False,
    declaration: FormFieldDeclaration | None = None,
    handling: bool = False,
) -> Visibility:
    """``handling``: the reader is a reviewer of a department that handles the record, who
    sees the fields its decision rests on as the policy's decision_basis says."""
    rule, _ = _rule(field, declaration)
    seen = rule.visibility(audience(actor, own=own))
    if (
        handling
        and declaration is not None
        and declaration.basis
        and declaration.mask not in NEVER_BASIS_MASKS
        and audience(actor, own=own) == "reviewer"
    ):
        return load_policy().decision_basis.reviewer
    return seen


def present(
    field: str,
    value: Any,
    actor: Actor | None,
    *,
    own: bool = False,
    declaration: FormFieldDeclaration | None = None,
    unmasked: Collection[str] = (),
    handling: bool = False,
) -> tuple[Visibility, Any]:
    """What ``actor`` may see of ``value``: (visibility, the value as shown or None)."""
    _, kind = _rule(field, declaration)
    seen = visibility(field, actor, own=own, declaration=declaration, handling=handling)
    if seen == "masked" and field in unmasked:
        seen = "plain"
    if seen == "hidden":
        return seen, None
    if seen == "masked":
        return seen, mask_value(kind, value)
    return seen, value


def may_unmask(
    field: str,
    actor: Actor,
    *,
    declaration: FormFieldDeclaration | None = None,
    handling: bool = False,
) -> bool:
    """The role may ask for this field plain (the caller checks the record is tied to its work)."""
    rule, _ = _rule(field, declaration)
    seen = visibility(field, actor, declaration=declaration, handling=handling)
    return seen == "masked" and actor.role.value in rule.unmask


def check_unmask_request(reason_code: str, reason_text: str) -> None:
    """An unmask needs a known reason code and a few words of explanation."""
    reasons = load_policy().unmask_reasons
    if reason_code not in reasons:
        raise Invalid(
            "unknown_unmask_reason",
            "请选择查看明文的事由。",
            "Choose a reason for seeing the plain value.",
            details={"allowed": sorted(reasons)},
        )
    if len(reason_text.strip()) < 4:
        raise Invalid(
            "unmask_reason_too_short",
            "请写明查看明文的具体原因（至少 4 个字）。",
            "Explain why you need the plain value (at least 4 characters).",
        )


def unmask_forbidden(field: str) -> Forbidden:
    return Forbidden(
        "unmask_not_allowed",
        f"您无权查看该字段（{field}）的明文。",
        f"You may not see the plain value of {field}.",
    )


def unmask_reasons() -> dict[str, str]:
    return dict(load_policy().unmask_reasons)


def form_declaration(schema: dict[str, Any], name: str) -> FormFieldDeclaration | None:
    prop = schema.get("properties", {}).get(name)
    if not isinstance(prop, dict) or "x-privacy" not in prop:
        return None
    return FormFieldDeclaration.model_validate(prop["x-privacy"])
