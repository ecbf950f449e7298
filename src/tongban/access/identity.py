"""实名认证: an account's identity confirmed against the population register (level 2) or
checked in person at a window or village service station (level 3).

The register is asked through the data-exchange layer like every other source: a
signed, audited yes/no claim (姓名与户籍登记一致) by the platform function
``real_name_verification`` under its legal basis — the register's data never reaches
the platform, only "yes" or "no". One account per identity number.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tongban import events
from tongban.access import repository, throttle
from tongban.access.models import IdentityCheck, User
from tongban.access.rules import (
    LEVEL_IN_PERSON,
    LEVEL_NONE,
    LEVEL_PHONE,
    LEVEL_REGISTER,
    Actor,
    Role,
)
from tongban.access.throttle import CountedRefusal
from tongban.errors import Conflict, DomainError, Forbidden, Invalid
from tongban.kit.ids import is_valid_id_number, normalize_id_number
from tongban.privacy.crypto import person_ref

REGISTER_SERVICE = "population.person_basic"
NAME_CLAIM = "name_matches"
NAME_ELEMENT = "DE0002"
PURPOSE = "real_name_verification"


@dataclass(frozen=True)
class IdentityResult:
    level: int
    name: str
    request_id: str


def parse_identity(name: str, id_number: str) -> tuple[str, str]:
    clean_name = " ".join(name.split())
    if not clean_name or len(clean_name) > 64 or any(ord(ch) < 32 for ch in clean_name):
        raise Invalid(
            "invalid_name", "请填写与身份证一致的姓名。", "Enter the name as on the identity card.",
            details={"field": "name"},
        )  # fmt: skip
    number = normalize_id_number(id_number or "")
    if not is_valid_id_number(number):
        raise Invalid(
            "invalid_id_number",
            "身份证号码无效：请核对 18 位号码及最后一位校验码。",
            "Invalid identity number: check the 18 digits and the final check character.",
            details={"field": "id_number"},
        )
    return clean_name, number


def _check_unique(session: Session, number: str, user_id: int | None) -> None:
    holder = repository.by_id_number_index(session, person_ref(number))
    if holder is not None and holder.id != user_id:
        raise Conflict(
            "identity_registered",
            "该身份证号已有账号（一人一号）。如是本人账号，请用手机验证码找回密码，或到窗口办理。",
            "This identity already has an account (one per person).",
        )


def verify_identity(session: Session, *, actor: Actor, name: str, id_number: str) -> IdentityResult:
    """Confirm the signed-in citizen's name and identity number against the population
    register; raises the account to level 2. Attempts are counted per identity and
    per account, and kept even when the check fails."""
    from tongban.exchange import service as exchange_service  # exchange reads the catalog

    if actor.role != Role.APPLICANT:
        raise Forbidden("forbidden", "仅个人账号需要实名认证。", "Only citizen accounts verify.")
    user = _user(session, actor.user_id)
    clean_name, number = parse_identity(name, id_number)
    if user.id_number and user.id_number != number:
        raise Conflict(
            "identity_already_verified",
            "账号已绑定其他身份证号，如需更正请到窗口办理。",
            "The account is bound to another identity; corrections are made at a window.",
        )
    _check_unique(session, number, user.id)
    ref = person_ref(number)
    throttle.check(session, "verify_identity", ref)
    throttle.check(session, "verify_account", str(user.id))
    throttle.hit(session, "verify_identity", ref)
    throttle.hit(session, "verify_account", str(user.id))
    result = exchange_service.verify(
        session,
        actor=actor,
        consumer_platform=PURPOSE,
        service_code=REGISTER_SERVICE,
        subject=number,
        purpose=PURPOSE,
        claim=NAME_CLAIM,
        claim_values={NAME_ELEMENT: clean_name},
        related=True,
    )
    check = IdentityCheck(
        user_id=user.id,
        level=LEVEL_REGISTER,
        method="population_register",
        outcome=result.outcome,
        request_id=result.request_id,
    )
    session.add(check)
    session.flush()
    if result.outcome == "mismatch":
        raise CountedRefusal(
            "identity_mismatch",
            "姓名与身份证号经人口库核验不一致，请核对后重试，或携带身份证到窗口办理。",
            "The name and identity number do not match the population register.",
            status=422,
        )
    if result.outcome != "verified":
        raise CountedRefusal(
            "identity_check_unavailable",
            "人口库暂时无法核验，请稍后再试，或携带身份证到窗口或村（社区）服务站办理。",
            "The population register cannot be asked now; try later or visit a window.",
            status=503,
            details={"code": result.code},
        )
    _bind(session, user, clean_name, number, LEVEL_REGISTER)
    session.flush()
    return IdentityResult(user.assurance_level, clean_name, result.request_id)


def _bind(session: Session, user: User, name: str, number: str, level: int) -> None:
    user.id_number = number
    user.id_number_index = person_ref(number)
    user.display_name = name
    user.assurance_level = max(user.assurance_level or LEVEL_NONE, level)
    session.flush()
    events.publish(
        session, events.IdentityVerified(user.id, user.id_number_index, user.assurance_level)
    )


def _user(session: Session, user_id: int) -> User:
    user = repository.by_id(session, user_id)
    if user is None or not user.active:
        raise DomainError("unauthenticated", "请先登录。", "Please sign in.", status=401)
    return user


@dataclass(frozen=True)
class InPerson:
    """What staff record when they check a citizen's identity card in person."""

    name: str
    id_number: str
    place: str  # the window or service station
    consent: str  # the citizen's consent as read to them and confirmed


CONSENT_MIN_LENGTH = 8


def register_in_person(
    session: Session,
    *,
    clerk: Actor,
    person: InPerson,
    password: str,
    phone: str | None = None,
) -> tuple[User, IdentityCheck]:
    """A citizen registered by staff with the person present (level 3), or an existing
    account raised to level 3. The citizen's consent is recorded with the check."""
    from tongban.access import accounts, service

    if clerk.role != Role.CLERK:
        raise Forbidden(
            "forbidden", "只有窗口或服务站人员可以当面核验。", "Only window staff check in person."
        )
    clean_name, number = parse_identity(person.name, person.id_number)
    if len(person.consent.strip()) < CONSENT_MIN_LENGTH:
        raise Invalid(
            "consent_required",
            "须记录本人同意注册并核验身份的意思表示。",
            "Record the citizen's consent to register and to the identity check.",
            details={"field": "consent"},
        )
    place = " ".join(person.place.split())[:128] or (clerk.display_name or clerk.username)
    user = repository.by_id_number_index(session, person_ref(number))
    if user is None:
        accounts.check_password(password)
        number_phone = accounts.parse_phone(phone) if phone else None
        user = service.create_user(
            session,
            username=accounts.new_username(session),
            password=password,
            role=Role.APPLICANT.value,
            display_name=clean_name,
            region_code=clerk.region_code,
            id_number=number,
            phone=number_phone,
            assurance_level=LEVEL_IN_PERSON,
        )
    elif user.role != Role.APPLICANT or (user.display_name and user.display_name != clean_name):
        raise Conflict(
            "identity_registered",
            "该身份证号已有账号，但姓名不一致，请核对身份证。",
            "This identity has an account under another name: check the card.",
        )
    _bind(session, user, clean_name, number, LEVEL_IN_PERSON)
    check = IdentityCheck(
        user_id=user.id,
        level=LEVEL_IN_PERSON,
        method="in_person",
        outcome="verified",
        checked_by_user_id=clerk.user_id,
        place=place,
        consent=person.consent.strip()[:1000],
    )
    session.add(check)
    session.flush()
    return user, check


def level_of(session: Session, user_id: int) -> int:
    user = repository.by_id(session, user_id)
    return (user.assurance_level or LEVEL_NONE) if user else LEVEL_NONE


__all__ = ["LEVEL_PHONE", "IdentityResult", "InPerson", "register_in_person", "verify_identity"]
