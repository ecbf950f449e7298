"""Misuse alerts: evaluated right after every append, in the same transaction.

``audit.service.record_many`` calls ``evaluate`` with the rows it just wrote, so an
alert exists the moment a threshold is crossed. The counting query (an indexed range
scan of the reader's entries since the start of the day) runs only when the bounds
this process remembers say a rule could be crossed (see "Remembered bounds" below);
otherwise an append costs no query here but the calendar's revision check during
working hours. The baseline history is read only once an account is past the floor,
and then once per account and day.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from tongban.access.rules import Actor
from tongban.audit import repository
from tongban.audit.models import AuditAlert
from tongban.audit.rules import (
    BASELINE,
    BULK_READ,
    CLOSED,
    OFF_HOURS,
    READ_ACTIONS,
    UNMASK_ACTION,
    Counts,
    Finding,
    Thresholds,
    add_appended,
    baseline_finding,
    baseline_limit,
    daily_distinct_counts,
    day_start,
    export_finding,
    is_off_hours,
    is_personal_read,
    local_day,
    off_hours_finding,
    since,
    window_findings,
    window_may_cross,
)
from tongban.config import get_settings
from tongban.kit.clock import now
from tongban.workdays import service as workdays_service

_READS = tuple(sorted(READ_ACTIONS))
# Rules keyed by the day need no look-back: the unique key already says "once a day".
_DAY_RULES = frozenset({OFF_HOURS, BASELINE})

# (database, account, Beijing day) → (baseline limit, days of history). Earlier days'
# entries never change (the log is append-only and written at "now"), so a day's
# limit can be kept until the day is over.
_baselines: dict[tuple[str, int, date], tuple[float | None, int]] = {}
_baselines_lock = threading.Lock()
_BASELINE_CACHE_SIZE = 10_000


def thresholds() -> Thresholds:
    settings = get_settings()
    return Thresholds(
        window_minutes=settings.alert_window_minutes,
        bulk_persons=settings.alert_bulk_persons,
        unrelated_reads=settings.alert_unrelated_reads,
        unmask_count=settings.alert_unmask_count,
        baseline_days=settings.alert_baseline_days,
        baseline_min_days=settings.alert_baseline_min_days,
        baseline_sigmas=settings.alert_baseline_sigmas,
        baseline_floor=settings.alert_baseline_floor,
        working_hours=settings.working_hours,
    )


def evaluate(
    session: Session, actor: Actor | None, rows: list[dict[str, Any]], *, log_id: str = ""
) -> None:
    """Raise the alerts the rows just appended make due (none when nothing personal was read).

    ``log_id`` (the head's, from ``record_many``) lets the process remember upper bounds
    of the account's counts and skip the counting query while no rule can be crossed.
    """
    # Staff accounts are watched; applicants only ever reach records that name them.
    if actor is None or not actor.is_staff:
        return
    reads = [row for row in rows if is_personal_read(row)]
    unmasks = any(row.get("action") == UNMASK_ACTION for row in rows)
    if not reads and not unmasks:
        return
    limits = thresholds()
    at = max(row["at"] for row in rows)
    bounds = _quiet_bounds(session, actor.user_id, rows, limits, at, log_id)
    if bounds is None:
        exact = _counts(session, actor.user_id, limits, at)
        findings, remembered = window_findings(exact, limits, at), exact
    else:  # no count-based rule can fire: only the off-hours rule is left to check
        exact, findings, remembered = None, [], bounds
    if log_id:
        _remember(session, (log_id, actor.user_id), Tally(at, rows[-1]["seq"], remembered))
    if reads:
        findings.extend(_day_findings(session, actor.user_id, exact, limits, at))
    for finding in findings:
        raise_alert(session, actor=actor, finding=finding, at=at)


def _counts(session: Session, user_id: int, limits: Thresholds, at: datetime) -> Counts:
    persons, unrelated, unmasks, today = repository.activity_counts(
        session,
        user_id=user_id,
        read_actions=_READS,
        unmask_action=UNMASK_ACTION,
        window_start=since(at, limits.window_minutes),
        day_start=day_start(at),
    )
    return Counts(
        persons_in_window=persons,
        unrelated_in_window=unrelated,
        unmasks_in_window=unmasks,
        persons_today=today,
    )


def _day_findings(
    session: Session, user_id: int, counts: Counts | None, limits: Thresholds, at: datetime
) -> list[Finding]:
    """The day rules; ``counts`` None when bounds showed the baseline cannot be crossed."""
    findings = []

    def is_workday(day: date) -> bool:  # asked only within working hours
        return workdays_service.calendar(session).is_workday(day)

    if is_off_hours(at, limits.working_hours, is_workday):
        findings.append(off_hours_finding(at, limits.working_hours))
    # The limit is never below the floor: under it there is nothing to compare.
    if counts is not None and counts.persons_today > limits.baseline_floor:
        limit, days = _baseline(session, user_id, limits, at)
        finding = baseline_finding(counts.persons_today, limit, days, at)
        if finding is not None:
            findings.append(finding)
    return findings


# --- Remembered bounds: the counting query only when a rule could be crossed ----------
#
# After each append the process remembers, per (log, account), upper bounds of the
# account's counts as of that log size. The next append adds its own rows and the
# account's entries appended since by other processes (a primary-key range scan of
# the entries it has not seen) — each entry adds at most one to each count, and a
# sliding window only drops entries — so the bounds stay bounds. While they cannot
# cross any rule, the exact counts could not either and the query is skipped; else
# it runs and the exact counts are remembered. A tally made in a transaction is only
# used by that transaction until it commits (a rolled-back one is forgotten), so no
# other session ever builds on entries that were never committed.


@dataclass(frozen=True)
class Tally:
    at: datetime  # of the last entry counted
    log_size: int  # every entry up to this seq is counted
    counts: Counts  # upper bounds


_tallies: dict[tuple[str, int], Tally] = {}  # (log id, account) → tally of committed entries
_PENDING_TALLIES = "tongban.audit.pending_tallies"
_CATCH_UP_LIMIT = 2000  # unseen entries beyond which the counting query is as cheap


def _quiet_bounds(
    session: Session,
    user_id: int,
    rows: list[dict[str, Any]],
    limits: Thresholds,
    at: datetime,
    log_id: str,
) -> Counts | None:
    """Upper bounds of the account's counts if they show no rule can be crossed, else None."""
    if not log_id:
        return None
    key = (log_id, user_id)
    held = session.info.get(_PENDING_TALLIES, {}).get(key) or _tallies.get(key)
    size_before = rows[0]["seq"] - 1
    if (
        held is None
        or not held.log_size <= size_before <= held.log_size + _CATCH_UP_LIMIT
        or at < held.at
        or local_day(at) != local_day(held.at)  # a new day: count it afresh
    ):
        return None
    unseen: list[dict[str, Any]] = []
    if size_before > held.log_size:
        unseen = repository.account_entries_between(
            session, user_id=user_id, after=held.log_size, up_to=size_before
        )
    bounds = add_appended(held.counts, [*unseen, *rows])
    if window_may_cross(bounds, limits):
        return None
    return None if _baseline_may_cross(session, user_id, bounds, limits, at) else bounds


def _baseline_may_cross(
    session: Session, user_id: int, bounds: Counts, limits: Thresholds, at: datetime
) -> bool:
    if bounds.persons_today <= limits.baseline_floor:
        return False
    # Read once per account and day (as the rule itself would once past the floor).
    limit, _ = _baseline(session, user_id, limits, at)
    return limit is not None and bounds.persons_today > limit


def _remember(session: Session, key: tuple[str, int], tally: Tally) -> None:
    session.info.setdefault(_PENDING_TALLIES, {})[key] = tally


@event.listens_for(Session, "after_commit")
def _keep_tallies(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the outer one may still fail
        return
    pending = session.info.pop(_PENDING_TALLIES, None)
    if not pending:
        return
    with _baselines_lock:
        if len(_tallies) + len(pending) > _BASELINE_CACHE_SIZE:
            _tallies.clear()
        for key, tally in pending.items():
            known = _tallies.get(key)
            if known is None or known.log_size <= tally.log_size:
                _tallies[key] = tally


@event.listens_for(Session, "after_soft_rollback")
def _drop_tallies_on_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    # Any rollback, a savepoint's too, may have taken counted entries back.
    session.info.pop(_PENDING_TALLIES, None)


@event.listens_for(Session, "after_transaction_end")
def _drop_tallies_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # closed without a commit (kept above if committed)
        session.info.pop(_PENDING_TALLIES, None)


def _baseline(
    session: Session, user_id: int, limits: Thresholds, at: datetime
) -> tuple[float | None, int]:
    key = (_database(session), user_id, local_day(at))
    cached = _baselines.get(key)
    if cached is not None:
        return cached
    start = day_start(at)
    history = repository.reads_between(
        session,
        user_id=user_id,
        read_actions=_READS,
        start=start - timedelta(days=limits.baseline_days),
        end=start,
    )
    daily = daily_distinct_counts(history)
    result = (baseline_limit(daily, limits), len(daily))
    with _baselines_lock:
        if len(_baselines) >= _BASELINE_CACHE_SIZE:
            _baselines.clear()
        _baselines[key] = result
    return result


def _database(session: Session) -> str:
    bind = session.get_bind()
    return str(getattr(bind, "url", "") or getattr(getattr(bind, "engine", None), "url", ""))


def forget_baselines() -> None:
    """Drop the cached baselines (after a database is wiped or entries are replayed)."""
    with _baselines_lock:
        _baselines.clear()
        _known_alerts.clear()
        _tallies.clear()


# (database, rule, account, window) of day-rule alerts known to be stored: once an
# insert met the existing row, later crossings that day need no statement at all.
# Only a conflict (a committed or concurrent row) is remembered, never our own insert,
# which a rollback could still undo.
_known_alerts: set[tuple[str, str, int, str]] = set()


def raise_alert(session: Session, *, actor: Actor, finding: Finding, at: datetime) -> bool:
    """Record ``finding`` once per rule, account and window; True when a new alert was made.

    A window rule crossed again within the window of an earlier alert (even across
    a window boundary) updates that alert's figures instead of raising another one.
    """
    if finding.rule not in _DAY_RULES:
        earlier = repository.recent_alert(
            session,
            rule=finding.rule,
            user_id=actor.user_id,
            since=since(at, int(finding.details.get("window_minutes", 60))),
        )
        if earlier is not None:
            _refresh(session, earlier, finding)
            return False
    known = (_database(session), finding.rule, actor.user_id, finding.window_key)
    if finding.rule in _DAY_RULES and known in _known_alerts:
        return False
    inserted = repository.insert_alert(
        session,
        {
            "rule": finding.rule,
            "severity": finding.severity,
            "actor_user_id": actor.user_id,
            "actor_username": actor.username,
            "actor_name": actor.display_name or actor.username,
            "window_key": finding.window_key,
            "summary": finding.summary,
            "details": finding.details,
            "status": "open",
            "created_at": now(),
            "resolution_note": "",
        },
    )
    if not inserted and finding.rule in _DAY_RULES:
        with _baselines_lock:
            if len(_known_alerts) >= _BASELINE_CACHE_SIZE:
                _known_alerts.clear()
            _known_alerts.add(known)
    return inserted


def _refresh(session: Session, earlier: AuditAlert, latest: Finding) -> None:
    """Keep the highest count seen, so the auditor sees how far it went (until it is closed)."""
    if earlier.status == CLOSED:
        return
    if int(latest.details.get("count", 0)) > int(earlier.details.get("count", 0)):
        details = {
            **earlier.details,
            "count": latest.details["count"],
            "last_at": now().isoformat(),
        }
        repository.update_alert(session, earlier.id, summary=latest.summary, details=details)


def export_check(
    session: Session, *, actor: Actor, person_refs: set[str]
) -> tuple[bool, Finding | None]:
    """(a bulk-read alert is open or under review, the bulk-read finding the export would
    cause or None)."""
    limits = thresholds()
    at = now()
    already = repository.persons_read_since(
        session,
        user_id=actor.user_id,
        read_actions=_READS,
        since=since(at, limits.window_minutes),
    )
    new = person_refs - already
    open_alert = repository.has_unresolved_alert(session, rule=BULK_READ, user_id=actor.user_id)
    if len(already) + len(new) <= limits.bulk_persons:
        return open_alert, None
    return open_alert, export_finding(len(already), len(new), limits, at)
