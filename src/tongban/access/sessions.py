"""Server-side session records behind the signed session cookie and the API tokens.

The cookie and the token carry only a random session id (signed with itsdangerous, as
before); whether it still stands is decided here, by one short read of the shared
database — so logout, a password change or an admin's "end sessions" holds on every
app server at the next request.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tongban.access.models import User, UserSession
from tongban.config import get_settings
from tongban.kit.clock import now

Kind = Literal["cookie", "token"]
# A cookie session's expiry slides with use; writing it on every request would turn
# every read into a write, so it moves at most once in this interval.
TOUCH_INTERVAL = timedelta(minutes=10)


def _lifetime(kind: Kind) -> timedelta:
    settings = get_settings()
    seconds = settings.session_ttl_seconds if kind == "cookie" else settings.token_ttl_seconds
    return timedelta(seconds=seconds)


def start(session: Session, *, user_id: int, kind: Kind) -> str:
    """A new session for the user; returns its id (256 random bits)."""
    moment = now()
    record = UserSession(
        id=secrets.token_urlsafe(32),
        user_id=user_id,
        kind=kind,
        created_at=moment,
        last_seen_at=moment,
        expires_at=moment + _lifetime(kind),
    )
    session.add(record)
    session.flush()
    return record.id


def live_user(session: Session, session_id: str, *, kind: Kind) -> User | None:
    """The active account behind a session that is neither revoked nor expired."""
    if not session_id or len(session_id) > 64:
        return None
    row = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == session_id)
    ).first()
    if row is None:
        return None
    record, user = row
    moment = now()
    if record.kind != kind or record.revoked_at is not None or record.expires_at <= moment:
        return None
    if not user.active:
        return None
    if kind == "cookie" and moment - record.last_seen_at >= TOUCH_INTERVAL:
        record.last_seen_at = moment
        record.expires_at = moment + _lifetime(kind)
    return user


def revoke(session: Session, session_id: str, *, reason: str) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now(), revoked_reason=reason)
    )


def revoke_all(session: Session, *, user_id: int, reason: str) -> int:
    """End every live session and token of the account; returns how many there were."""
    moment = now()
    result = session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > moment,
        )
        .values(revoked_at=moment, revoked_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def live_count(session: Session, *, user_id: int) -> int:
    moment = now()
    rows = session.scalars(
        select(UserSession.id).where(
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > moment,
        )
    )
    return len(list(rows))
