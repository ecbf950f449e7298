"""Attempt counters in fixed windows: codes sent per phone, identity checks per identity.

Keys are blind indexes (a phone or identity number never stands in the table in plain).
A refusal that follows counted attempts is a ``CountedRefusal``: the endpoints answer it
without rolling back, so the attempts it counted stay counted.
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy.orm import Session

from tongban.access.models import AttemptCounter
from tongban.access.rules import THROTTLES
from tongban.errors import DomainError
from tongban.kit.clock import now


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
