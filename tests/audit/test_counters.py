"""The counting query is skipped while remembered upper bounds show no rule can be crossed.

Alerts must come out exactly as if every append counted afresh: across committed
requests, when another process appended for the same account, and after a rollback.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import product

import pytest
from sqlalchemy import event, select

from tongban.access.rules import Actor, Role
from tongban.audit import alerts
from tongban.audit import service as audit_service
from tongban.audit.models import AuditAlert
from tongban.audit.rules import Counts, Thresholds, add_appended, window_findings, window_may_cross
from tongban.audit.service import Access
from tongban.db import get_engine, transaction
from tongban.kit.clock import SHANGHAI, frozen

FRIDAY_MORNING = datetime(2026, 11, 27, 10, 5, tzinfo=SHANGHAI).astimezone(UTC)
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


def counting_queries(url: str) -> list[str]:
    """Statements run from now on that count an account's activity (the query bounds spare)."""
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "count(distinct" in statement.lower() and "audit_entries" in statement:
            seen.append(statement)

    event.listen(get_engine(url), "before_cursor_execute", note)
    return seen


def test_bounds_never_fall_below_the_counts_and_cross_where_the_rules_do() -> None:
    rows = [
        {"action": "read", "person_ref": "a", "result": "ok", "related": False},
        {"action": "read", "person_ref": "a", "result": "ok", "related": True},
        {"action": "unmask", "person_ref": "b", "result": "refused", "related": None},
        {"action": "read", "person_ref": None, "result": "ok", "related": False},
    ]
    assert add_appended(Counts(1, 2, 3, 4), rows) == Counts(3, 3, 4, 6)
    limits = Thresholds(bulk_persons=5, unrelated_reads=3, unmask_count=2)
    for persons, unrelated, unmasks in product(range(8), range(5), range(4)):
        counts = Counts(persons, unrelated, unmasks, persons)
        findings = window_findings(counts, limits, FRIDAY_MORNING)
        assert window_may_cross(counts, limits) == bool(findings)


def test_committed_requests_skip_the_count_until_the_threshold_could_be_crossed(
    demo_db: str,
) -> None:
    append(demo_db, reads(0, 40))  # counted: nothing remembered yet
    queries = counting_queries(demo_db)
    for page in range(1, 5):
        append(demo_db, reads(page * 40, 40))  # 200 persons by the end: not over
    assert queries == [] and bulk_alerts(demo_db) == []
    append(demo_db, reads(200, 1))  # could be over: counted, and it is
    assert len(queries) == 1 and bulk_alerts(demo_db) == [201]


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
