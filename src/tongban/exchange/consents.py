"""Consents (本人同意): a person allows a consumer to ask a service for a purpose, until a date.

Applicants give and revoke their own consents online; a window clerk records one
given on paper at the window. Only the blind index of the identity number is kept.
Giving and revoking are audited against the person, so they show up in
我的数据被谁用了 as well.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.access.rules import Actor, Role
from tongban.audit import service as audit_service
from tongban.errors import Forbidden, Invalid, NotFound
from tongban.exchange import repository
from tongban.exchange.models import ExchangeConsent
from tongban.exchange.schemas import ConsentCreate, ConsentRead
from tongban.kit.clock import now
from tongban.kit.ids import is_valid_id_number, normalize_id_number
from tongban.privacy.crypto import person_ref


def give_consent(
    session: Session, *, actor: Actor, data: ConsentCreate, id_number: str | None = None
) -> ConsentRead:
    """The applicant's own consent, or (a clerk at the window) one for ``id_number``."""
    if actor.role is Role.APPLICANT:
        identity, channel = _own_identity(session, actor), "online"
    elif actor.role is Role.CLERK and id_number:
        identity, channel = normalize_id_number(id_number), "window"
        if not is_valid_id_number(identity):
            raise Invalid(
                "invalid_id_number", "身份证号码无效。", "The identity number is not valid."
            )
    else:
        raise Forbidden(
            "exchange_consent_forbidden",
            "只有申请人本人（或窗口人员代为登记）可以给出同意。",
            "Only applicants themselves (or a window clerk on their behalf) give consent.",
        )
    if repository.service(session, data.service_code) is None:
        raise NotFound(
            "exchange_service_not_found",
            f"共享服务不存在：{data.service_code}",
            f"No such exchange service: {data.service_code}",
        )
    at = now()
    row = ExchangeConsent(
        person_ref=person_ref(identity),
        consumer=data.consumer,
        service_code=data.service_code,
        purpose=data.purpose,
        given_at=at,
        expires_at=at + timedelta(days=data.days),
        channel=channel,
        recorded_by=actor.username,
    )
    repository.add(session, row)
    _audit(session, actor, row, "exchange.consent.give")
    return ConsentRead.model_validate(row)


def revoke_consent(session: Session, *, actor: Actor, consent_id: int) -> ConsentRead:
    """Withdraw one's own consent (PIPL §15); later requests resting on it are refused."""
    row = repository.consent(session, consent_id)
    if (
        row is None
        or actor.role is not Role.APPLICANT
        or row.person_ref != _own_ref(session, actor)
    ):
        raise NotFound(
            "exchange_consent_not_found",
            f"同意记录不存在：{consent_id}",
            f"No such consent: {consent_id}",
        )
    if row.revoked_at is None:
        row.revoked_at = now()
        session.flush()
        _audit(session, actor, row, "exchange.consent.revoke")
    return ConsentRead.model_validate(row)


def my_consents(session: Session, *, actor: Actor) -> list[ConsentRead]:
    if actor.role is not Role.APPLICANT:
        raise Forbidden(
            "applicants_only",
            "只有申请人本人可以查看自己的同意记录。",
            "Only applicants can see their own consents.",
        )
    rows = repository.consents(session, person_ref=_own_ref(session, actor))
    return [ConsentRead.model_validate(row) for row in rows]


def _own_identity(session: Session, actor: Actor) -> str:
    identity = access_service.applicant_id_number(session, actor.user_id)
    if not identity:
        raise Invalid(
            "exchange_no_identity",
            "您的账号未登记身份证号码，无法给出同意。",
            "Your account has no identity number, so it cannot give consent.",
        )
    return identity


def _own_ref(session: Session, actor: Actor) -> str:
    identity = access_service.applicant_id_number(session, actor.user_id)
    return person_ref(identity) if identity else ""


def _audit(session: Session, actor: Actor, row: ExchangeConsent, action: str) -> None:
    audit_service.record(
        session,
        actor=actor,
        access=audit_service.Access(
            action=action,
            subject_kind="consent",
            subject_ref=str(row.id),
            person_ref=row.person_ref,
            purpose_code="consent",
            purpose_text=f"{row.consumer} → {row.service_code}；目的 {row.purpose}；"
            f"渠道 {row.channel}",
        ),
    )
