"""委托: a person authorizes an agent to apply on their behalf, for some items, until a date.

Given from the principal's own verified account, or recorded by staff at a window or
village service station with the principal present and consenting (the principal then
needs no account). Either party, or the window, can end it; an ended or expired
delegation lets nobody file any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tongban.access import repository
from tongban.access.accounts import parse_phone, phone_ref
from tongban.access.identity import parse_identity
from tongban.access.models import Delegation, User
from tongban.access.rules import LEVEL_REGISTER, Actor, Role, delegation_covers
from tongban.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.kit.clock import now
from tongban.kit.masking import mask_id_number, mask_phone
from tongban.privacy.crypto import person_ref

MAX_DAYS = 366


@dataclass(frozen=True)
class DelegationView:
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


def _agent(session: Session, phone: str) -> User:
    agent = repository.by_phone_index(session, phone_ref(parse_phone(phone)))
    if agent is None or not agent.active or agent.role != Role.APPLICANT:
        raise NotFound(
            "agent_not_found",
            "没有找到使用该手机号注册的个人账号，请受托人先注册并完成实名认证。",
            "No citizen account has this mobile number; the agent signs up first.",
            details={"field": "agent_phone"},
        )
    if (agent.assurance_level or 0) < LEVEL_REGISTER:
        raise Conflict(
            "agent_not_verified",
            "受托人尚未完成实名认证（二级），暂不能接受委托。",
            "The agent's identity is not verified yet (level 2).",
        )
    return agent


def _until(valid_until: datetime) -> datetime:
    moment = now()
    if valid_until.tzinfo is None or valid_until <= moment:
        raise Invalid(
            "delegation_expiry_invalid",
            "委托截止时间须晚于现在。",
            "The delegation must end in the future.",
            details={"field": "valid_until"},
        )
    if valid_until > moment + timedelta(days=MAX_DAYS):
        raise Invalid(
            "delegation_too_long",
            f"委托期限最长 {MAX_DAYS} 天。",
            f"A delegation lasts at most {MAX_DAYS} days.",
            details={"field": "valid_until"},
        )
    return valid_until


def _codes(item_codes: list[str]) -> list[str]:
    codes = list(dict.fromkeys(c.strip() for c in item_codes if c.strip()))
    if any(len(c) > 64 for c in codes) or len(codes) > 50:
        raise Invalid("delegation_items_invalid", "委托事项有误。", "Invalid delegated items.")
    return codes


def give(
    session: Session,
    *,
    principal: Actor,
    agent_phone: str,
    item_codes: list[str],
    valid_until: datetime,
    note: str = "",
) -> DelegationView:
    """From the principal's own account (level 2: their identity is known)."""
    user = repository.by_id(session, principal.user_id)
    if user is None or principal.role != Role.APPLICANT or not user.id_number:
        raise Forbidden(
            "identity_not_verified",
            "请先完成实名认证，再委托他人代办。",
            "Verify your identity before authorizing an agent.",
        )
    agent = _agent(session, agent_phone)
    if agent.id == user.id:
        raise Invalid("delegation_to_self", "不能委托本人。", "You cannot authorize yourself.")
    row = Delegation(
        principal_user_id=user.id,
        principal_name=user.display_name,
        principal_id_number=user.id_number,
        principal_id_index=person_ref(user.id_number),
        agent_user_id=agent.id,
        item_codes=_codes(item_codes),
        valid_from=now(),
        valid_until=_until(valid_until),
        given_via="account",
        note=note.strip()[:500],
    )
    session.add(row)
    session.flush()
    return view(session, row)


def record_at_window(
    session: Session,
    *,
    clerk: Actor,
    principal_name: str,
    principal_id_number: str,
    agent_phone: str,
    item_codes: list[str],
    valid_until: datetime,
    consent: str,
) -> DelegationView:
    """Recorded by window or service-station staff, the principal present and consenting."""
    if clerk.role != Role.CLERK:
        raise Forbidden("forbidden", "只有窗口人员可以登记委托。", "Only window staff record this.")
    name, number = parse_identity(principal_name, principal_id_number)
    if len(consent.strip()) < 8:
        raise Invalid(
            "consent_required",
            "须记录委托人本人到场并同意委托的情况。",
            "Record that the principal was present and consented.",
            details={"field": "consent"},
        )
    agent = _agent(session, agent_phone)
    principal = repository.by_id_number_index(session, person_ref(number))
    if principal is not None and principal.id == agent.id:
        raise Invalid("delegation_to_self", "不能委托本人。", "You cannot authorize yourself.")
    row = Delegation(
        principal_user_id=principal.id if principal else None,
        principal_name=name,
        principal_id_number=number,
        principal_id_index=person_ref(number),
        agent_user_id=agent.id,
        item_codes=_codes(item_codes),
        valid_from=now(),
        valid_until=_until(valid_until),
        given_via="window",
        recorded_by_user_id=clerk.user_id,
        note=consent.strip()[:500],
    )
    session.add(row)
    session.flush()
    return view(session, row)


def revoke(session: Session, *, actor: Actor, delegation_id: int) -> DelegationView:
    row = repository.delegation(session, delegation_id)
    user = repository.by_id(session, actor.user_id)
    own_ref = user.id_number_index if user is not None else None
    party = row is not None and (
        row.agent_user_id == actor.user_id
        or (own_ref is not None and row.principal_id_index == own_ref)
        or actor.role == Role.CLERK
    )
    if row is None or not party:
        raise NotFound(
            "delegation_not_found", "委托不存在。", "No such delegation.",
            details={"id": delegation_id},
        )  # fmt: skip
    if row.revoked_at is None:
        row.revoked_at = now()
        session.flush()
    return view(session, row)


def received(session: Session, *, actor: Actor) -> list[DelegationView]:
    return [view(session, row) for row in repository.delegations_to(session, actor.user_id)]


def given(session: Session, *, actor: Actor) -> list[DelegationView]:
    user = repository.by_id(session, actor.user_id)
    if user is None or not user.id_number_index:
        return []
    return [view(session, r) for r in repository.delegations_from(session, user.id_number_index)]


def is_active(row: Delegation) -> bool:
    moment = now()
    return row.revoked_at is None and row.valid_from <= moment < row.valid_until


def active_for(
    session: Session, *, agent_user_id: int, principal_id_number: str, item_codes: list[str]
) -> Delegation | None:
    """The agent's active delegation from this person that covers every one of the items."""
    ref = person_ref(principal_id_number)
    for row in repository.delegations_to(session, agent_user_id):
        covers = delegation_covers(list(row.item_codes or []), item_codes)
        if row.principal_id_index == ref and is_active(row) and covers:
            return row
    return None


def view(session: Session, row: Delegation) -> DelegationView:
    agent = repository.by_id(session, row.agent_user_id)
    return DelegationView(
        id=row.id,
        principal_name=row.principal_name,
        principal_id_masked=mask_id_number(row.principal_id_number),
        agent_name=agent.display_name if agent else "",
        agent_phone_masked=mask_phone(agent.phone) if agent and agent.phone else "",
        item_codes=list(row.item_codes or []),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        given_via=row.given_via,
        revoked_at=row.revoked_at,
        active=is_active(row),
    )


def principal_number(session: Session, delegation_id: int) -> str | None:
    """The principal's identity number (for the agent's application; never displayed)."""
    row = repository.delegation(session, delegation_id)
    return row.principal_id_number if row is not None else None
