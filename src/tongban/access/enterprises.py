"""Enterprises reached through a person: its legal representative (法定代表人) or an
authorized agent (授权经办人), each confirmed against the market-regulation register.

The register is asked through the data-exchange layer as the platform function
``enterprise_link``: yes/no claims (is this person the legal representative / a
registered agent, is the enterprise 存续) and the enterprise's name. Only a verified
person (level 2 or higher) links an enterprise, and only for themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tongban.access import repository, throttle
from tongban.access.models import EnterpriseLink
from tongban.access.rules import LEVEL_REGISTER, Actor, Role
from tongban.access.throttle import CountedRefusal
from tongban.errors import Forbidden, Invalid
from tongban.kit.clock import now
from tongban.kit.ids import is_valid_uscc, normalize_uscc

PURPOSE = "enterprise_link"
REGISTRATION = "enterprise.registration"
AGENTS = "enterprise.agents"
NAME_ELEMENT = "DE0023"  # 企业名称
# capacity → (service, claim, the element the person's identity number is compared with)
CAPACITIES = {
    "legal_representative": (REGISTRATION, "legal_representative", "DE0026"),
    "agent": (AGENTS, "authorized_agent", "DE0031"),
}
CAPACITY_LABELS = {"legal_representative": "法定代表人", "agent": "授权经办人"}


@dataclass(frozen=True)
class EnterpriseView:
    credit_code: str
    name: str
    capacity: str
    capacity_label: str
    linked_at: datetime


def parse_credit_code(text: str) -> str:
    code = normalize_uscc(text or "")
    if not is_valid_uscc(code):
        raise Invalid(
            "invalid_credit_code",
            "统一社会信用代码无效：请核对 18 位代码及校验位。",
            "Invalid unified social credit code.",
            details={"field": "credit_code"},
        )
    return code


def link(session: Session, *, actor: Actor, credit_code: str, capacity: str) -> EnterpriseView:
    """Link an enterprise to the signed-in, verified person after the register confirms it."""
    from tongban.exchange import service as exchange_service

    if capacity not in CAPACITIES:
        raise Invalid(
            "unknown_capacity", "身份须为法定代表人或授权经办人。",
            "The capacity is legal_representative or agent.",
            details={"allowed": list(CAPACITIES)},
        )  # fmt: skip
    user = repository.by_id(session, actor.user_id)
    if (
        user is None
        or actor.role != Role.APPLICANT
        or (user.assurance_level or 0) < LEVEL_REGISTER
        or not user.id_number
    ):
        raise Forbidden(
            "identity_not_verified",
            "请先完成实名认证（二级），再关联企业。",
            "Verify your identity (level 2) before linking an enterprise.",
        )
    code = parse_credit_code(credit_code)
    existing = repository.enterprise_link(session, user.id, code)
    if existing is not None and existing.revoked_at is None and existing.capacity == capacity:
        return _view(existing)
    throttle.check(session, "verify_account", str(user.id))
    throttle.hit(session, "verify_account", str(user.id))
    service, claim, element = CAPACITIES[capacity]

    def ask(service_code: str, claim_name: str, values: dict[str, str]) -> str:
        result = exchange_service.verify(
            session, actor=actor, consumer_platform=PURPOSE, service_code=service_code,
            subject=code, purpose=PURPOSE, claim=claim_name, claim_values=values, related=True,
        )  # fmt: skip
        if result.outcome not in ("verified", "mismatch"):
            raise CountedRefusal(
                "enterprise_register_unavailable",
                "企业登记库暂时无法核验，请稍后再试或到窗口办理。",
                "The enterprise register cannot be asked now; try later.",
                status=503,
            )
        return result.outcome

    if ask(service, claim, {element: user.id_number}) != "verified":
        raise CountedRefusal(
            "enterprise_link_refused",
            f"企业登记信息中您不是该企业的{CAPACITY_LABELS[capacity]}，无法关联。",
            f"The register does not show you as this enterprise's {capacity}.",
            status=422,
        )
    if ask(REGISTRATION, "registered", {}) != "verified":
        raise CountedRefusal(
            "enterprise_not_active",
            "该企业登记状态不是“存续”，无法关联。",
            "The enterprise is not active (存续) in the register.",
            status=422,
        )
    name = _name(session, actor, code)
    row = existing or EnterpriseLink(user_id=user.id, credit_code=code)
    row.enterprise_name, row.capacity, row.linked_at, row.revoked_at = name, capacity, now(), None
    session.add(row)
    session.flush()
    return _view(row)


def _name(session: Session, actor: Actor, code: str) -> str:
    from tongban.exchange import service as exchange_service

    result = exchange_service.verify(
        session, actor=actor, consumer_platform=PURPOSE, service_code=REGISTRATION,
        subject=code, purpose=PURPOSE, elements=[NAME_ELEMENT], related=True,
    )  # fmt: skip
    for record in result.records:
        if record.get(NAME_ELEMENT):
            return str(record[NAME_ELEMENT])[:128]
    return code


def unlink(session: Session, *, actor: Actor, credit_code: str) -> None:
    row = repository.enterprise_link(session, actor.user_id, normalize_uscc(credit_code))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now()
        session.flush()


def linked(session: Session, *, actor: Actor) -> list[EnterpriseView]:
    return [_view(row) for row in repository.enterprise_links(session, actor.user_id)]


def active_link(session: Session, *, user_id: int, credit_code: str) -> EnterpriseLink | None:
    row = repository.enterprise_link(session, user_id, credit_code)
    return row if row is not None and row.revoked_at is None else None


def _view(row: EnterpriseLink) -> EnterpriseView:
    return EnterpriseView(
        credit_code=row.credit_code,
        name=row.enterprise_name,
        capacity=row.capacity,
        capacity_label=CAPACITY_LABELS.get(row.capacity, row.capacity),
        linked_at=row.linked_at,
    )
