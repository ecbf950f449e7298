from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.access.models import LoginThrottle, User
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
