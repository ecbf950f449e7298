"""Misuse alerts: evaluated right after every append, in the same transaction.

``audit.service.record_many`` calls ``evaluate`` with the rows it just wrote, so an
alert exists the moment a threshold is crossed. The counts come from per-account
counters the append itself keeps (audit.counters), never from counting the log, so
a read costs the same whatever the account read before it that day. The baseline
history (a counter row per day) is read only once an account is past the floor,
and then once per account and day per process.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.audit import counters, repository
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
    baseline_finding,
    baseline_limit,
    day_start,
    export_finding,
    is_off_hours,
    is_personal_read,
    local_day,
    off_hours_finding,
    since,
    window_findings,
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

    The rows are added to the account's counters (audit.counters) and the rules read
    the counts from there: the same few statements for the 10,000th read of a day as
    for the first. ``log_id`` is accepted for the callers' sake and not needed.
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
    exact = counters.add(session, actor.user_id, rows, at=at, window_minutes=limits.window_minutes)
    findings = window_findings(exact, limits, at)
    if reads:
        findings.extend(_day_findings(session, actor.user_id, exact, limits, at))
    for finding in findings:
        raise_alert(session, actor=actor, finding=finding, at=at)


def _day_findings(
    session: Session, user_id: int, counts: Counts, limits: Thresholds, at: datetime
) -> list[Finding]:
    findings = []

    def is_workday(day: date) -> bool:  # asked only within working hours
        return workdays_service.calendar(session).is_workday(day)

    if is_off_hours(at, limits.working_hours, is_workday):
        findings.append(off_hours_finding(at, limits.working_hours))
    # The limit is never below the floor: under it there is nothing to compare.
    if counts.persons_today > limits.baseline_floor:
        limit, days = _baseline(session, user_id, limits, at)
        finding = baseline_finding(counts.persons_today, limit, days, at)
        if finding is not None:
            findings.append(finding)
    return findings


def _baseline(
    session: Session, user_id: int, limits: Thresholds, at: datetime
) -> tuple[float | None, int]:
    key = (_database(session), user_id, local_day(at))
    cached = _baselines.get(key)
    if cached is not None:
        return cached
    start = day_start(at)
    # The days' distinct persons, as counted on append (one counter row per day with reads).
    daily = counters.daily_persons(
        session, user_id, start - timedelta(days=limits.baseline_days), start
    )
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
    counters.forget()


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
