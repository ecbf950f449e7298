"""Masking by role at the API and web boundary: every personal value shown passes here.

Callers say which policy field a value is, who is looking and whether the looker is
the data subject; the policy (policy.toml) decides plain, masked or hidden. Unmasking
is a separate, explicit and audited request (cases.service.unmask).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from tongban.access.rules import Actor
from tongban.errors import Forbidden, Invalid
from tongban.kit.masking import mask_id_number, mask_name, mask_phone
from tongban.privacy.policy import (
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
    return actor.role.value


def mask_value(kind: MaskKind, value: Any) -> Any:
    if value is None or value == "" or not isinstance(value, str):
        return value if kind == "none" else ("" if value in (None, "") else "***")
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
        case "free_text":
            return mask_text(value)
        case _:
            return value


def mask_bank_card(value: str) -> str:
    """Last 4 only: **** **** **** 1234."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


_COUNTY_SUFFIXES = ("县", "旗", "区", "市")


def mask_address(value: str) -> str:
    """Keep the address down to county level: 宁夏回族自治区固原市彭阳县****."""
    start = 0
    for marker in ("自治区", "省", "市"):  # skip province and city before looking for the county
        index = value.find(marker, start)
        if index != -1 and index < 12:
            start = index + len(marker)
    cut = -1
    for offset, ch in enumerate(value[start:], start=start):
        if ch in _COUNTY_SUFFIXES:
            cut = offset + 1
            break
    if cut == -1:
        return "*" * min(len(value), 8)
    return value[:cut] + "*" * min(len(value) - cut, 8)


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
) -> Visibility:
    rule, _ = _rule(field, declaration)
    return rule.visibility(audience(actor, own=own))


def present(
    field: str,
    value: Any,
    actor: Actor | None,
    *,
    own: bool = False,
    declaration: FormFieldDeclaration | None = None,
    unmasked: Collection[str] = (),
) -> tuple[Visibility, Any]:
    """What ``actor`` may see of ``value``: (visibility, the value as shown or None)."""
    rule, kind = _rule(field, declaration)
    seen = rule.visibility(audience(actor, own=own))
    if seen == "masked" and field in unmasked:
        seen = "plain"
    if seen == "hidden":
        return seen, None
    if seen == "masked":
        return seen, mask_value(kind, value)
    return seen, value


def may_unmask(
    field: str, actor: Actor, *, declaration: FormFieldDeclaration | None = None
) -> bool:
    """The role may ask for this field plain (the caller checks the record is tied to its work)."""
    rule, _ = _rule(field, declaration)
    return rule.visibility(actor.role.value) == "masked" and actor.role.value in rule.unmask


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
