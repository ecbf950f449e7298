"""The misuse rules' counters, kept on append: exact across committed requests, other
processes appending for the same account, rollbacks and savepoints; the log is never
read to evaluate a rule.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from tongban.access.rules import Actor, Role
from tongban.audit import alerts, counters
from tongban.audit import service as audit_service
from tongban.audit.models import AuditAlert
from tongban.audit.rules import day_start
from tongban.audit.service import Access
from tongban.db import get_engine, transaction
from tongban.kit.clock import SHANGHAI, frozen

FRIDAY_MORNING = datetime(2026, 11, 27, 10, 5, tzinfo=SHANGHAI).astimezone(UTC)


def beijing(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


CLERK = Actor(7101, "clerk_bounds", Role.CLERK, "限界窗口", region_code="640425")


@pytest.fixture(autouse=True)
def _fresh_memory() -> Iterator[None]:
    alerts.forget_baselines()
    yield
    alerts.forget_baselines()


def reads(first: int, count: int, *, person: bool = True) -> list[Access]:
    return [
        Access(
            action="read",
            subject_kind="case" if person else "item",
            subject_ref=f"C{n}",
            person_ref=f"person-{n:05d}" if person else None,
        )
        for n in range(first, first + count)
    ]


def append(url: str, accesses: list[Access]) -> None:
    with frozen(FRIDAY_MORNING), transaction(url) as session:
        audit_service.record_many(session, actor=CLERK, accesses=accesses)


def append_elsewhere(url: str, first: int, count: int) -> None:
    """The same clerk's reads appended by another process (which shares no memory with us)."""
    script = f"""
        from datetime import datetime
        from tongban.access.rules import Actor, Role
        from tongban.audit import service
        from tongban.db import transaction
        from tongban.kit.clock import frozen
        actor = Actor({CLERK.user_id}, {CLERK.username!r}, Role.CLERK, {CLERK.display_name!r})
        accesses = [
            service.Access(action="read", subject_kind="case", subject_ref=f"C{{n}}",
                           person_ref=f"person-{{n:05d}}")
            for n in range({first}, {first + count})
        ]
        with frozen(datetime.fromisoformat({FRIDAY_MORNING.isoformat()!r})):
            with transaction({url!r}) as session:
                service.record_many(session, actor=actor, accesses=accesses)
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(script)], check=True, timeout=120)


def bulk_alerts(url: str) -> list[int]:
    with transaction(url) as session:
        found = session.scalars(select(AuditAlert).where(AuditAlert.rule == "bulk_read"))
        return [int(alert.details["count"]) for alert in found]


def log_scans(url: str) -> list[str]:
    """Statements run from now on that read the log (the append itself only inserts)."""
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "audit_entries" in statement and not statement.lstrip().upper().startswith("INSERT"):
            seen.append(statement)

    event.listen(get_engine(url), "before_cursor_execute", note)
    return seen


def test_changes_count_distinct_persons_per_beijing_day() -> None:
    latest: dict[str, datetime] = {}
    totals: dict[tuple[str, datetime], int] = {}
    reads_at = [
        (beijing(2026, 11, 2, 9, 0), "a"),
        (beijing(2026, 11, 2, 9, 50), "a"),  # same person, same day: once
        (beijing(2026, 11, 2, 23, 30), "b"),
        (beijing(2026, 11, 3, 0, 30), "b"),  # past midnight in Beijing: the next day
        (beijing(2026, 11, 5, 9, 0), "c"),
    ]
    for at, person in reads_at:
        row = {"action": "read", "person_ref": person, "result": "ok", "related": True}
        delta, persons = counters.changes([row], latest, at=at, window_minutes=60)
        for key, n in delta.items():
            totals[key] = totals.get(key, 0) + n
        latest.update(dict.fromkeys(persons, at))
    per_day = [n for (name, _), n in sorted(totals.items()) if name == counters.PERSONS_DAY]
    assert per_day == [2, 1, 1]
    # "a", read again inside the window, left the 09:00 minute for 09:50: one person.
    assert totals[counters.PERSONS, counters.minute_start(beijing(2026, 11, 2, 9, 0))] == 0
    assert totals[counters.PERSONS, counters.minute_start(beijing(2026, 11, 2, 9, 50))] == 1


def test_counters_keep_only_what_the_rules_count() -> None:
    at = beijing(2026, 11, 27, 10, 5)
    rows: list[dict[str, Any]] = [
        {"action": "read", "person_ref": "a", "result": "ok", "related": False},
        {"action": "read", "person_ref": "a", "result": "ok", "related": True},
        {"action": "unmask", "person_ref": "b", "result": "refused", "related": None},
        {"action": "read", "person_ref": None, "result": "ok", "related": False},
    ]
    delta, persons = counters.changes(rows, {}, at=at, window_minutes=60)
    minute = counters.minute_start(at)
    assert persons == ["a"]  # a refused unmask handed nothing out; no person, no read
    assert delta == {
        (counters.PERSONS, minute): 1,
        (counters.UNRELATED, minute): 1,
        (counters.UNMASKS, minute): 1,
        (counters.PERSONS_DAY, day_start(at)): 1,
    }


def test_the_alert_fires_strictly_above_the_threshold_without_reading_the_log(
    demo_db: str,
) -> None:
    scans = log_scans(demo_db)
    for page in range(5):
        append(demo_db, reads(page * 40, 40))  # 200 persons: at the limit, not over
    append(demo_db, reads(0, 200))  # the same 200 again: still 200 distinct persons
    assert bulk_alerts(demo_db) == []
    append(demo_db, reads(200, 1))
    assert bulk_alerts(demo_db) == [201]
    assert scans == []


def test_persons_read_before_the_window_drop_out(demo_db: str) -> None:
    append(demo_db, reads(0, 150))
    with frozen(FRIDAY_MORNING + timedelta(minutes=62)), transaction(demo_db) as session:
        audit_service.record_many(session, actor=CLERK, accesses=reads(150, 100))
    assert bulk_alerts(demo_db) == []  # 100 persons in the window, 250 that day
    with frozen(FRIDAY_MORNING + timedelta(minutes=63)), transaction(demo_db) as session:
        audit_service.record_many(session, actor=CLERK, accesses=reads(0, 101))
    assert bulk_alerts(demo_db) == [201]  # read again within the window: counted again


def test_reads_appended_by_another_process_are_caught_up(demo_db: str) -> None:
    append(demo_db, reads(0, 150))
    append_elsewhere(demo_db, 150, 45)
    append(demo_db, reads(195, 10))  # 160 as far as this process saw itself, 205 in truth
    assert bulk_alerts(demo_db) == [205]


def test_a_rolled_back_transaction_leaves_nothing_remembered(demo_db: str) -> None:
    append(demo_db, reads(0, 150))
    with frozen(FRIDAY_MORNING), transaction(demo_db) as session:
        # Counted as at most 151 persons (one read again, 39 entries without a person) …
        rolled_back = reads(0, 1) + reads(500, 39, person=False)
        audit_service.record_many(session, actor=CLERK, accesses=rolled_back)
        session.rollback()
    # … but another process takes those sequence numbers with reads of 40 new persons.
    append_elsewhere(demo_db, 150, 40)
    append(demo_db, reads(190, 11))
    assert bulk_alerts(demo_db) == [201]


def test_a_savepoint_rolled_back_forgets_what_it_counted(demo_db: str) -> None:
    with frozen(FRIDAY_MORNING), transaction(demo_db) as session:
        audit_service.record_many(session, actor=CLERK, accesses=reads(0, 150))
        savepoint = session.begin_nested()
        audit_service.record_many(session, actor=CLERK, accesses=reads(500, 40, person=False))
        savepoint.rollback()
        audit_service.record_many(session, actor=CLERK, accesses=reads(150, 51))
    assert bulk_alerts(demo_db) == [201]


def test_the_migration_fills_the_counters_from_the_recent_log(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import func, insert, text

    from tongban.audit.models import AuditCounter, AuditEntry
    from tongban.db import alembic_config

    url = f"sqlite:///{tmp_path / 'before.db'}"
    command.upgrade(alembic_config(url), "0010")
    rows = [
        {  # hash and MAC do not matter to the counters
            "seq": seq,
            "at": at,
            "actor_user_id": user,
            "actor_role": role,
            "action": "read",
            "subject_kind": "case",
            "person_ref": person,
            "fields": [],
            "result": "ok",
            "related": seq != 3,
            "leaf_hash": "",
            "mac": "",
        }
        for seq, at, user, role, person in [
            (1, FRIDAY_MORNING - timedelta(days=40), 7, "clerk", "p1"),  # too old to matter
            (2, FRIDAY_MORNING - timedelta(days=1), 7, "clerk", "p1"),
            (3, FRIDAY_MORNING - timedelta(minutes=5), 7, "clerk", "p1"),
            (4, FRIDAY_MORNING - timedelta(minutes=4), 7, "clerk", "p2"),
            (5, FRIDAY_MORNING - timedelta(minutes=3), 9, "applicant", "p3"),  # not watched
        ]
    ]
    with get_engine(url).begin() as conn:
        conn.execute(insert(AuditEntry.__table__), rows)
    with frozen(FRIDAY_MORNING):
        command.upgrade(alembic_config(url), "head")
    with get_engine(url).connect() as conn:
        window = FRIDAY_MORNING - timedelta(minutes=61)
        found = conn.execute(
            select(AuditCounter.counter, func.sum(AuditCounter.count))
            .where(
                (AuditCounter.counter != counters.PERSONS) | (AuditCounter.bucket_start >= window)
            )
            .group_by(AuditCounter.counter)
        ).all()
        latest = conn.execute(text("SELECT count(*) FROM audit_reader_persons")).scalar_one()
    get_engine(url).dispose()
    # In the window p1 (moved to its latest read, not added) and p2; that day p1 and p2,
    # the day before p1; the applicant's read is not counted.
    assert dict(found) == {"persons": 2, "persons_day": 3, "unrelated": 1}
    assert latest == 2
