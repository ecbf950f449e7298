"""Failed sign-in limits that hold under parallel attempts, and cannot be turned on the admin.

Three counters in ``login_throttles``, each taken by one atomic statement (INSERT … ON
CONFLICT DO UPDATE … RETURNING) *before* the password hash is checked: an attempt first
reserves its place, so 30 parallel wrong passwords cannot all reach argon2 — at most the
limit does, the rest are refused at once.

* ``addr:`` the client address, across all accounts (``ADDRESS_LIMIT`` per window);
* ``pair:`` one account from one address (``login_max_failures`` per window) — what locks
  an account for the address that guessed, not for everybody;
* the account itself, from every address (``ACCOUNT_LIMIT`` per window) — the last guard
  against guessing from many addresses; an admin unlock (audited) or a password reset by
  phone (the second factor) lifts it.

A success releases the address's reservation and clears the account's counters. Keys are
blind indexes: a mistyped identity number never stands in the table in plain.
docs/accounts.md explains the design.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tongban.access.models import LoginThrottle
from tongban.config import get_settings
from tongban.db import UTCDateTime
from tongban.errors import DomainError
from tongban.kit.clock import now
from tongban.privacy.crypto import blind_index

ADDRESS_LIMIT = 30  # failed sign-ins from one address per window, whatever the account
ACCOUNT_LIMIT = 100  # failed sign-ins of one account per window, from every address


@dataclass(frozen=True)
class Keys:
    account: str
    pair: str
    address: str


def keys(account: str, address: str) -> Keys:
    """``account``: a stable name of the account (its id when it exists, else the typed name)."""
    account_ref = blind_index(account, domain="login")
    address_ref = blind_index(address or "unknown", domain="login-address")
    return Keys(
        account=account_ref,
        pair=f"pair:{account_ref[:16]}{address_ref[:16]}",
        address=f"addr:{address_ref}",
    )


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(LoginThrottle)


def _reserve(session: Session, key: str, *, limit: int, moment: datetime) -> datetime | None:
    """Count one attempt atomically; returns when the key is locked until, or None to go on."""
    settings = get_settings()
    window_start = moment - timedelta(seconds=settings.login_window_seconds)
    table = LoginThrottle.__table__
    at = literal(moment, UTCDateTime())  # stored as UTC on both databases
    stale = or_(
        table.c.first_failed_at.is_(None),
        table.c.first_failed_at <= window_start,
        table.c.locked_until <= moment,
    )
    statement = _insert(session).values(
        username=key, failures=1, first_failed_at=moment, locked_until=None
    )
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.username],
        set_={
            "failures": case((stale, 1), else_=table.c.failures + 1),
            "first_failed_at": case((stale, at), else_=table.c.first_failed_at),
            "locked_until": case((stale, None), else_=table.c.locked_until),
        },
    ).returning(table.c.failures, table.c.locked_until)
    failures, locked_until = session.execute(statement).one()
    if locked_until is not None and locked_until > moment:
        return locked_until
    if failures <= limit:
        return None
    until = moment + timedelta(seconds=settings.login_lockout_seconds)
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.username == key, LoginThrottle.locked_until.is_(None))
        .values(locked_until=until)
    )
    return until


def reserve(session: Session, found: Keys) -> None:
    """Count the attempt against the address, the account from it, and the account; refuse
    (429) without checking the password when any is used up."""
    settings = get_settings()
    moment = now()
    if (until := _reserve(session, found.address, limit=ADDRESS_LIMIT, moment=moment)) is not None:
        raise _refusal("login_throttled", until, moment)
    for key, limit in ((found.pair, settings.login_max_failures), (found.account, ACCOUNT_LIMIT)):
        if (until := _reserve(session, key, limit=limit, moment=moment)) is not None:
            raise _refusal("account_locked", until, moment)


def succeeded(session: Session, found: Keys) -> None:
    """The password was right: the account's counters start again, the address gets its
    reservation back (a busy office behind one address is not throttled by its own users)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.username.in_([found.pair])))
    clear_account(session, found.account)
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.username == found.address, LoginThrottle.failures > 0)
        .values(failures=LoginThrottle.failures - 1)
    )


def clear_account(session: Session, account_ref: str) -> None:
    """Lift the account's lock, from every address (admin unlock, a new password)."""
    session.execute(
        delete(LoginThrottle).where(
            or_(
                LoginThrottle.username == account_ref,
                LoginThrottle.username.startswith(f"pair:{account_ref[:16]}", autoescape=True),
            )
        )
    )


def locked_until(session: Session, account_ref: str) -> datetime | None:
    """When the account's lock ends — from every address or from any one — or None."""
    moment = now()
    ends = session.scalars(
        select(LoginThrottle.locked_until).where(
            or_(
                LoginThrottle.username == account_ref,
                LoginThrottle.username.startswith(f"pair:{account_ref[:16]}", autoescape=True),
            ),
            LoginThrottle.locked_until > moment,
        )
    )
    return max((end for end in ends if end is not None), default=None)


def account_ref(account: str) -> str:
    return blind_index(account, domain="login")


def _refusal(code: str, until: datetime, moment: datetime) -> DomainError:
    seconds = max(1, math.ceil((until - moment).total_seconds()))
    minutes = math.ceil(seconds / 60)
    if code == "login_throttled":
        return DomainError(
            code,
            f"此网络地址登录失败次数过多，请 {minutes} 分钟后再试。",
            f"Too many failed sign-ins from this address; try again in {minutes} minutes.",
            status=429,
            details={"retry_after_seconds": seconds},
        )
    return DomainError(
        code,
        f"登录失败次数过多，账号已临时锁定，请 {minutes} 分钟后再试，"
        "或用手机验证码重置密码、请管理员解锁。",
        f"Too many failed sign-ins; try again in {minutes} minutes, reset the password by "
        "phone, or ask an administrator to unlock the account.",
        status=429,
        details={"retry_after_seconds": seconds},
    )
