"""Misuse-rule counters, kept up to date on append in the appending transaction.

Counting an account's entries of the day on every read made the 10,000th read of a
day cost ten thousand times the first. Instead each append adds its rows to
per-account counters in time buckets, and the rules sum a bounded number of them:

- ``persons`` (minute buckets): the persons whose *latest* read by the account falls
  in that minute. A person read again moves from the old minute to the new one, so
  the persons read since a moment are the sum of the buckets from that moment on —
  distinct persons in a sliding window, at most window/1 min + 1 rows to add up;
- ``unrelated`` and ``unmasks`` (minute buckets): reads not tied to the reader's work,
  and unmask requests, in that minute;
- ``persons_day`` (Beijing days): distinct persons read that day, which is also the
  baseline rule's history (one row per day with reads).

``audit_reader_persons`` keeps each account's latest read of each person, which is
what makes "distinct" decidable on append. Windows start at the minute: the window of
a read at 10:05:40 begins at 09:05:00, up to a minute earlier than at 09:05:40, so a
rule can fire at most that much sooner, never later.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tongban.audit.models import AuditCounter, AuditReaderPerson
from tongban.audit.rules import UNMASK_ACTION, Counts, day_start, is_personal_read

PERSONS = "persons"
UNRELATED = "unrelated"
UNMASKS = "unmasks"
PERSONS_DAY = "persons_day"
WINDOW_COUNTERS = (PERSONS, UNRELATED, UNMASKS)

_COUNTERS = cast(Table, AuditCounter.__table__)
_PERSONS = cast(Table, AuditReaderPerson.__table__)
_DAY = timedelta(days=1)
# Minute buckets older than the window by this much are deleted (once a minute per
# account and process): far enough back that no clock skew between servers matters.
_PRUNE_MARGIN = timedelta(minutes=10)

Delta = dict[tuple[str, datetime], int]


def minute_start(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def changes(
    rows: Iterable[dict[str, Any]],
    previous: dict[str, datetime],
    *,
    at: datetime,
    window_minutes: int,
) -> tuple[Delta, list[str]]:
    """What appending ``rows`` (one account's, written at ``at``) adds to its counters.

    ``previous`` holds the account's latest earlier read of each person the rows read.
    Returns the counter increments by (counter, bucket) and the persons read, in order.
    """
    delta: Counter[tuple[str, datetime]] = Counter()
    minute = minute_start(at)
    today = day_start(at)
    horizon = minute_start(at - timedelta(minutes=window_minutes))
    persons: dict[str, None] = {}
    for row in rows:
        if is_personal_read(row):
            persons.setdefault(row["person_ref"])
            if row.get("related") is False:
                delta[UNRELATED, minute] += 1
        if row.get("action") == UNMASK_ACTION:
            delta[UNMASKS, minute] += 1
    for person in persons:
        before = previous.get(person)
        if before is None or not today <= before < today + _DAY:
            delta[PERSONS_DAY, today] += 1
        if before is not None and minute_start(before) >= horizon:
            delta[PERSONS, minute_start(before)] -= 1  # moves to this minute
        delta[PERSONS, minute] += 1
    return {key: value for key, value in delta.items() if value}, list(persons)


def _upserts(dialect: str) -> tuple[Any, Any]:
    """(latest read, counter increment) upserts for a dialect, built once: building them
    cost more than running them."""
    made = _UPSERTS.get(dialect)
    if made is None:
        upsert = pg_insert if dialect == "postgresql" else sqlite_insert
        persons, counts = upsert(_PERSONS), upsert(_COUNTERS)
        made = (
            persons.on_conflict_do_update(
                index_elements=[_PERSONS.c.actor_user_id, _PERSONS.c.person_ref],
                set_={"last_read_at": persons.excluded.last_read_at},
            ),
            counts.on_conflict_do_update(
                index_elements=[
                    _COUNTERS.c.actor_user_id,
                    _COUNTERS.c.counter,
                    _COUNTERS.c.bucket_start,
                ],
                set_={"count": _COUNTERS.c.count + counts.excluded["count"]},
            ),
        )
        _UPSERTS[dialect] = made
    return made


_UPSERTS: dict[str, tuple[Any, Any]] = {}


_PREVIOUS = (
    select(_PERSONS.c.person_ref, _PERSONS.c.last_read_at)
    .where(
        _PERSONS.c.actor_user_id == bindparam("user_id"),
        _PERSONS.c.person_ref.in_(bindparam("persons", expanding=True)),
    )
    # Rows that exist are locked: two appends of one account never both move a person.
    .with_for_update()
)

_SUMS = (
    select(_COUNTERS.c.counter, func.sum(_COUNTERS.c.count))
    .where(
        _COUNTERS.c.actor_user_id == bindparam("user_id"),
        or_(
            and_(
                _COUNTERS.c.counter.in_(WINDOW_COUNTERS),
                _COUNTERS.c.bucket_start >= bindparam("horizon"),
            ),
            and_(
                _COUNTERS.c.counter == PERSONS_DAY, _COUNTERS.c.bucket_start == bindparam("today")
            ),
        ),
    )
    .group_by(_COUNTERS.c.counter)
)


def add(
    session: Session,
    user_id: int,
    rows: Sequence[dict[str, Any]],
    *,
    at: datetime,
    window_minutes: int,
) -> Counts:
    """Add the account's appended ``rows`` to its counters; its counts as of ``at``.

    Statements per append, whatever the size of the account's day: the latest reads of
    the persons in the batch, two upserts, one sum over at most window + 1 minute rows.
    """
    wanted = sorted({row["person_ref"] for row in rows if is_personal_read(row)})
    previous: dict[str, datetime] = {}
    if wanted:
        found = session.execute(_PREVIOUS, {"user_id": user_id, "persons": wanted})
        previous = {person: last for person, last in found}
    delta, persons = changes(rows, previous, at=at, window_minutes=window_minutes)
    write(session, user_id, delta, {person: at for person in persons})
    _prune(session, user_id, at, window_minutes)
    sums = dict(
        session.execute(
            _SUMS,
            {
                "user_id": user_id,
                "horizon": minute_start(at - timedelta(minutes=window_minutes)),
                "today": day_start(at),
            },
        ).all()
    )
    return Counts(
        persons_in_window=int(sums.get(PERSONS) or 0),
        unrelated_in_window=int(sums.get(UNRELATED) or 0),
        unmasks_in_window=int(sums.get(UNMASKS) or 0),
        persons_today=int(sums.get(PERSONS_DAY) or 0),
    )


def write(session: Session, user_id: int, delta: Delta, latest_reads: dict[str, datetime]) -> None:
    """Apply counter increments and latest reads (ON CONFLICT DO UPDATE on both backends)."""
    upsert_persons, upsert_counters = _upserts(session.get_bind().dialect.name)
    if latest_reads:
        session.execute(
            upsert_persons,
            [
                {"actor_user_id": user_id, "person_ref": person, "last_read_at": moment}
                for person, moment in latest_reads.items()
            ],
        )
    if delta:
        session.execute(
            upsert_counters,
            [
                {"actor_user_id": user_id, "counter": name, "bucket_start": bucket, "count": n}
                for (name, bucket), n in sorted(delta.items())
            ],
        )


# (database, account) → the minute pruned last by this process.
_pruned: dict[tuple[str, int], datetime] = {}
_pruned_lock = threading.Lock()


def _prune(session: Session, user_id: int, at: datetime, window_minutes: int) -> None:
    """Drop the account's minute buckets and latest reads no rule can look at any more."""
    key = (str(session.get_bind().engine.url), user_id)
    minute = minute_start(at)
    if _pruned.get(key) == minute:
        return
    cutoff = minute - timedelta(minutes=window_minutes) - _PRUNE_MARGIN
    session.execute(
        delete(_COUNTERS).where(
            _COUNTERS.c.actor_user_id == user_id,
            _COUNTERS.c.counter.in_(WINDOW_COUNTERS),
            _COUNTERS.c.bucket_start < cutoff,
        )
    )
    # A person last read before both the window and the day counts as new either way.
    session.execute(
        delete(_PERSONS).where(
            _PERSONS.c.actor_user_id == user_id,
            _PERSONS.c.last_read_at < min(cutoff, day_start(at)) - _DAY,
        )
    )
    with _pruned_lock:
        if len(_pruned) > 10_000:
            _pruned.clear()
        _pruned[key] = minute


def daily_persons(session: Session, user_id: int, start: datetime, end: datetime) -> list[int]:
    """Distinct persons per Beijing day with any read, start <= day < end, oldest first."""
    return [
        int(count)
        for count in session.scalars(
            select(_COUNTERS.c.count)
            .where(
                _COUNTERS.c.actor_user_id == user_id,
                _COUNTERS.c.counter == PERSONS_DAY,
                _COUNTERS.c.bucket_start >= start,
                _COUNTERS.c.bucket_start < end,
                _COUNTERS.c.count > 0,
            )
            .order_by(_COUNTERS.c.bucket_start)
        )
    ]


def forget() -> None:
    with _pruned_lock:
        _pruned.clear()
