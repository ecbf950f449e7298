"""What a center administrator does to an account: see whether it is locked and how many
sessions are live, lift the lock, end every session. Each change is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tongban.access import login_limits, repository, sessions
from tongban.access.models import User
from tongban.access.rules import Actor
from tongban.errors import DomainError, Forbidden

MANAGE = "users.manage"


@dataclass(frozen=True)
class AccountStatus:
    """No personal data: the page that shows it needs none to decide."""

    username: str
    role: str
    active: bool
    live_sessions: int
    locked_until: datetime | None


def _user_named(session: Session, actor: Actor, username: str) -> User:
    if not actor.can(MANAGE):
        raise Forbidden(
            "forbidden", "只有管理员可以管理账号。", "Only an administrator may manage accounts."
        )
    user = repository.by_username(session, username)
    if user is None:
        raise DomainError(
            "user_not_found", f"用户不存在：{username}", f"No such user: {username}", status=404
        )
    return user


def _lock_key(user: User) -> str:
    return login_limits.account_ref(f"uid:{user.id}")


def account_status(session: Session, *, actor: Actor, username: str) -> AccountStatus:
    user = _user_named(session, actor, username)
    return AccountStatus(
        username=user.username,
        role=user.role,
        active=user.active,
        live_sessions=sessions.live_count(session, user_id=user.id),
        locked_until=login_limits.locked_until(session, _lock_key(user)),
    )


def unlock(session: Session, *, actor: Actor, username: str) -> None:
    """Lift the failed sign-in lock of an account, from every address (audited)."""
    user = _user_named(session, actor, username)
    login_limits.clear_account(session, _lock_key(user))
    _audit(session, actor, "users.unlock", username)


def end_sessions(session: Session, *, actor: Actor, username: str) -> int:
    """End every session and token of an account (audited); returns how many."""
    user = _user_named(session, actor, username)
    ended = sessions.revoke_all(session, user_id=user.id, reason="admin")
    _audit(session, actor, "users.end_sessions", username)
    return ended


def _audit(session: Session, actor: Actor, action: str, username: str) -> None:
    from tongban.audit import service as audit_service

    audit_service.record_action(
        session, actor=actor, action=action, subject_kind="user", subject_ref=username
    )
