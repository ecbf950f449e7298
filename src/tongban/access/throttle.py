"""Attempt counters in fixed windows: codes sent per phone, identity checks per identity.

Keys are blind indexes (a phone or identity number never stands in the table in plain).
A refusal that follows counted attempts is a ``CountedRefusal``: the endpoints answer it
without rolling back, so the attempts it counted stay counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import case, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tongban import db
from tongban.access.models import AttemptCounter
from tongban.access.rules import THROTTLES
from tongban.db import UTCDateTime
from tongban.errors import DomainError
from tongban.kit.clock import now
from tongban.privacy.crypto import blind_index


class CountedRefusal(DomainError):
    """A refusal whose transaction must still commit (it counted an attempt)."""


def _row(session: Session, scope: str, key: str) -> AttemptCounter:
    row = session.get(AttemptCounter, (scope, key))
    limit_window = THROTTLES[scope][1]
    moment = now()
    if row is None:
        row = AttemptCounter(scope=scope, key=key, count=0, window_started_at=moment)
        session.add(row)
    elif (moment - row.window_started_at).total_seconds() >= limit_window:
        row.count, row.window_started_at = 0, moment
    return row


def check(session: Session, scope: str, key: str) -> None:
    """Refuse (429) when the window's attempts are used up; counts nothing."""
    limit, window = THROTTLES[scope]
    row = _row(session, scope, key)
    if row.count < limit:
        return
    retry = row.window_started_at + timedelta(seconds=window) - now()
    seconds = max(1, math.ceil(retry.total_seconds()))
    raise DomainError(
        "too_many_attempts",
        f"尝试次数过多，请 {math.ceil(seconds / 60)} 分钟后再试，或到政务服务窗口办理。",
        f"Too many attempts; try again in {math.ceil(seconds / 60)} minutes, or at a window.",
        status=429,
        details={"retry_after_seconds": seconds, "scope": scope},
    )


def hit(session: Session, scope: str, key: str) -> None:
    row = _row(session, scope, key)
    row.count += 1
    session.flush()


# --- query-code lookups -----------------------------------------------------------------
# Failed lookups of a case's progress or a complaint by its query code: per client
# address, and per case or complaint (whoever asks). docs/cases.md gives the arithmetic.
LOOKUP_LIMITS: dict[str, tuple[int, int]] = {
    "lookup_address": (30, 3600),  # failed lookups from one address per hour
    "lookup_subject": (10, 3600),  # failed lookups of one case or complaint per hour
}


@contextmanager
def own_transaction(session: Session) -> Iterator[Session]:
    """A short transaction of its own for counters, committed at once — so a count holds
    whatever the caller's transaction does, and parallel requests see each other's; a
    refusal raised inside the block is committed too (the attempt was counted).

    On PostgreSQL the connection comes from the small side pool of ``db.own_transaction``,
    never from the main pool the caller already holds one of (a burst would otherwise wait
    for itself). On SQLite, a second connection would wait on the caller's own write lock
    when the caller's transaction is already open; there every writer is serialized by the
    database anyway, so the counters go into the caller's transaction.
    """
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        yield from _sqlite_counter(session)
        return
    failure: BaseException | None = None
    with db.own_transaction(session) as connection:
        own = Session(bind=connection)
        try:
            yield own
        except BaseException as error:  # counted all the same: commit, then raise
            failure = error
        own.flush()
        own.close()
    if failure is not None:
        raise failure


def _sqlite_counter(session: Session) -> Iterator[Session]:
    if session.in_transaction():
        yield session
        session.flush()
        return
    own = Session(bind=session.get_bind())
    try:
        yield own
        own.commit()
    except BaseException:
        own.commit()
        raise
    finally:
        own.close()


def _reserve(session: Session, scope: str, key: str, window: int) -> tuple[int, datetime]:
    """Count one attempt atomically (INSERT … ON CONFLICT DO UPDATE … RETURNING)."""
    moment = now()
    table = AttemptCounter.__table__
    at = literal(moment, UTCDateTime())
    stale = table.c.window_started_at <= moment - timedelta(seconds=window)
    dialect = session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(AttemptCounter)
    statement = (
        insert.values(scope=scope, key=key, count=1, window_started_at=moment)
        .on_conflict_do_update(
            index_elements=[table.c.scope, table.c.key],
            set_={
                "count": case((stale, 1), else_=table.c.count + 1),
                "window_started_at": case((stale, at), else_=table.c.window_started_at),
            },
        )
        .returning(table.c.count, table.c.window_started_at)
    )
    count, started = session.execute(statement).one()
    return int(count), started


def reserve_lookup(session: Session, *, subject: str) -> Callable[[], None]:
    """Count a query-code lookup against the client's address and the subject before the
    code is compared; refuse (429, ``lookup_throttled``) when either is used up. Returns
    what to call when the code was right: that attempt is given back."""
    from tongban.audit.context import client_addr

    address = client_addr.get() or ""
    keys = {
        "lookup_address": blind_index(address or "unknown", domain="lookup-address"),
        "lookup_subject": blind_index(subject, domain="lookup-subject"),
    }
    with own_transaction(session) as counter:
        for scope, key in keys.items():
            limit, window = LOOKUP_LIMITS[scope]
            count, started = _reserve(counter, scope, key, window)
            if count > limit:
                retry = started + timedelta(seconds=window) - now()
                seconds = max(1, math.ceil(retry.total_seconds()))
                raise DomainError(
                    "lookup_throttled",
                    f"查询次数过多，请 {math.ceil(seconds / 60)} 分钟后再试，或登录后查看。",
                    f"Too many lookups; try again in {math.ceil(seconds / 60)} minutes, "
                    "or sign in to see your own.",
                    status=429,
                    details={"retry_after_seconds": seconds, "scope": scope},
                )

    def found() -> None:
        with own_transaction(session) as counter:
            for scope, key in keys.items():
                counter.execute(
                    update(AttemptCounter)
                    .where(
                        AttemptCounter.scope == scope,
                        AttemptCounter.key == key,
                        AttemptCounter.count > 0,
                    )
                    .values(count=AttemptCounter.count - 1)
                )

    return found
