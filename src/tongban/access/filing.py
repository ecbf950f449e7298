"""On whose behalf an application may be filed, decided before anything is stored.

A citizen applies for themselves (the identity comes from their verified account, never
from what they type), for an enterprise they are linked to, or for another person as
that person's agent under an active delegation (委托) covering the items. Window and
service-station staff file for the person standing in front of them. Anything else is
refused with a specific error.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tongban.access import delegations, enterprises, repository
from tongban.access.rules import LEVEL_LABELS, Actor, Role
from tongban.errors import DomainError, Forbidden, Invalid
from tongban.kit.ids import is_valid_id_number, normalize_id_number
from tongban.privacy.crypto import person_ref

SELF, ENTERPRISE, DELEGATION, WINDOW = "self", "enterprise", "delegation", "window"


@dataclass(frozen=True)
class Filing:
    basis: str  # self | enterprise | delegation | window
    kind: str  # person | enterprise
    name: str
    identity: str  # 居民身份证号 or 统一社会信用代码
    applicant_user_id: int | None
    delegation_id: int | None = None
    phone: str | None = None  # the account's number, the default contact


@dataclass(frozen=True)
class Declared:
    """What the application says about its applicant (may be empty for oneself)."""

    kind: str = "person"
    name: str = ""
    id_number: str | None = None
    credit_code: str | None = None


def filing_for(
    session: Session,
    *,
    actor: Actor,
    declared: Declared,
    item_codes: list[str],
    required_level: int,
) -> Filing:
    if actor.role == Role.CLERK:
        return _at_window(session, declared)
    if actor.role != Role.APPLICANT:
        raise Forbidden("forbidden", "您的角色不能提交申请。", "Your role may not apply.")
    user = repository.by_id(session, actor.user_id)
    if user is None:
        raise DomainError("unauthenticated", "请先登录。", "Please sign in.", status=401)
    level = user.assurance_level or 0
    if level < required_level:
        raise Forbidden(
            "assurance_level_too_low",
            f"网上申请该事项须达到实名认证{LEVEL_LABELS[required_level]}，"
            f"您目前为{LEVEL_LABELS[level]}。请先完成实名认证，或到窗口办理。",
            f"This item needs identity assurance level {required_level} online; "
            f"your account is at level {level}.",
            details={"required": required_level, "current": level},
        )
    if declared.kind == "enterprise":
        return _for_enterprise(session, actor, declared)
    number = normalize_id_number(declared.id_number or "")
    if not number or (user.id_number and number == user.id_number):
        if not user.id_number:
            raise Forbidden(
                "identity_not_verified",
                "请先完成实名认证，再网上申请。",
                "Verify your identity before applying online.",
            )
        return Filing(SELF, "person", user.display_name, user.id_number, user.id, phone=user.phone)
    return _as_agent(session, actor, number, item_codes)


def _at_window(session: Session, declared: Declared) -> Filing:
    if declared.kind == "enterprise":
        code = enterprises.parse_credit_code(declared.credit_code or "")
        return Filing(WINDOW, "enterprise", _name(declared.name), code, None)
    number = normalize_id_number(declared.id_number or "")
    if not is_valid_id_number(number):
        raise Invalid(
            "invalid_id_number",
            "身份证号码无效：请核对 18 位号码及最后一位校验码。",
            "Invalid identity number: check the 18 digits and the final check character.",
            details={"field": "applicant.id_number"},
        )
    holder = repository.by_id_number_index(session, person_ref(number))
    return Filing(WINDOW, "person", _name(declared.name), number, holder.id if holder else None)


def _name(name: str) -> str:
    clean = " ".join((name or "").split())
    if not clean:
        raise Invalid(
            "applicant_name_required", "请填写申请人姓名或名称。", "Enter the applicant's name.",
            details={"field": "applicant.name"},
        )  # fmt: skip
    return clean[:64]


def _for_enterprise(session: Session, actor: Actor, declared: Declared) -> Filing:
    code = enterprises.parse_credit_code(declared.credit_code or "")
    link = enterprises.active_link(session, user_id=actor.user_id, credit_code=code)
    if link is None:
        raise Forbidden(
            "enterprise_not_linked",
            "您尚未关联该企业（须经企业登记信息核验为法定代表人或授权经办人），不能以其名义申请。",
            "You are not linked to this enterprise; link it first (legal representative "
            "or authorized agent, confirmed by the register).",
            details={"field": "applicant.credit_code"},
        )
    return Filing(ENTERPRISE, "enterprise", link.enterprise_name, code, actor.user_id)


def _as_agent(session: Session, actor: Actor, number: str, item_codes: list[str]) -> Filing:
    if not is_valid_id_number(number):
        raise Invalid(
            "invalid_id_number",
            "身份证号码无效：请核对 18 位号码及最后一位校验码。",
            "Invalid identity number: check the 18 digits and the final check character.",
            details={"field": "applicant.id_number"},
        )
    row = delegations.active_for(
        session, agent_user_id=actor.user_id, principal_id_number=number, item_codes=item_codes
    )
    if row is None:
        raise Forbidden(
            "applicant_not_authorized",
            "您只能为本人申请；为他人代办，须先取得其委托授权（本人在账号中委托，或到窗口登记），"
            "且委托在有效期内、包含该事项。",
            "You may apply only for yourself; applying for another person needs their "
            "delegation (given in their account or at a window), valid and covering the item.",
            details={"field": "applicant.id_number"},
        )
    principal = row.principal_user_id
    if principal is None:
        holder = repository.by_id_number_index(session, row.principal_id_index)
        principal = holder.id if holder else None
    return Filing(DELEGATION, "person", row.principal_name, number, principal, row.id)
