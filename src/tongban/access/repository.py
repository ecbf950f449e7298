from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.access.models import (
    Delegation,
    EnterpriseLink,
    IdentityCheck,
    LoginThrottle,
    PhoneCode,
    User,
)
from tongban.privacy.crypto import person_ref


def by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def add(session: Session, user: User) -> User:
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def staff(session: Session, *, role: str, department_code: str | None = None) -> list[User]:
    query = select(User).where(User.role == role, User.active.is_(True))
    if department_code is not None:
        query = query.where(User.department_code == department_code)
    return list(session.scalars(query.order_by(User.id)))


def applicant_by_id_number(session: Session, id_number: str) -> User | None:
    return session.scalar(
        select(User)
        .where(User.id_number_index == person_ref(id_number), User.role == "applicant")
        .limit(1)
    )


def throttle(session: Session, username: str) -> LoginThrottle | None:
    return session.get(LoginThrottle, username)


def add_throttle(session: Session, username: str) -> LoginThrottle:
    row = LoginThrottle(username=username, failures=0)
    session.add(row)
    return row


def by_phone_index(session: Session, ref: str) -> User | None:
    return session.scalar(select(User).where(User.phone_index == ref))


def by_id_number_index(session: Session, ref: str) -> User | None:
    return session.scalar(select(User).where(User.id_number_index == ref))


def latest_phone_code(session: Session, ref: str, purpose: str) -> PhoneCode | None:
    return session.scalar(
        select(PhoneCode)
        .where(PhoneCode.phone_index == ref, PhoneCode.purpose == purpose)
        .order_by(PhoneCode.id.desc())
        .limit(1)
    )


def phone_code(session: Session, code_id: int) -> PhoneCode | None:
    return session.get(PhoneCode, code_id)


def identity_checks(session: Session, user_id: int) -> list[IdentityCheck]:
    query = select(IdentityCheck).where(IdentityCheck.user_id == user_id)
    return list(session.scalars(query.order_by(IdentityCheck.id)))


def enterprise_links(session: Session, user_id: int) -> list[EnterpriseLink]:
    query = select(EnterpriseLink).where(
        EnterpriseLink.user_id == user_id, EnterpriseLink.revoked_at.is_(None)
    )
    return list(session.scalars(query.order_by(EnterpriseLink.id)))


def enterprise_link(session: Session, user_id: int, credit_code: str) -> EnterpriseLink | None:
    return session.scalar(
        select(EnterpriseLink).where(
            EnterpriseLink.user_id == user_id, EnterpriseLink.credit_code == credit_code
        )
    )


def delegations_to(session: Session, agent_user_id: int) -> list[Delegation]:
    query = select(Delegation).where(Delegation.agent_user_id == agent_user_id)
    return list(session.scalars(query.order_by(Delegation.id.desc())))


def delegations_from(session: Session, principal_ref: str) -> list[Delegation]:
    query = select(Delegation).where(Delegation.principal_id_index == principal_ref)
    return list(session.scalars(query.order_by(Delegation.id.desc())))


def delegation(session: Session, delegation_id: int) -> Delegation | None:
    return session.get(Delegation, delegation_id)
