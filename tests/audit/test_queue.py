"""Queued appends (docs/audit.md, "Queued appends"): entries recorded without the head
lock, integrated later into the same tree, with nothing lost, reordered or forged."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from audit_support import READER, access, append, audit_settings, execute, rows
from tongban.access.rules import Actor, Role
from tongban.audit import integrator, service
from tongban.audit.models import AuditQueued
from tongban.audit.verify import verify
from tongban.db import session_factory, transaction
from tongban.errors import Conflict

AUDITOR = Actor(user_id=900002, username="auditor_q", role=Role.AUDITOR, display_name="审计员")


@pytest.fixture
def queued(clean_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """Every append queued (audit_append=queue), as a writer that finds the head locked."""
    with audit_settings(monkeypatch, tmp_path, audit_append="queue", audit_checkpoint_every=5):
        yield clean_db


def queue_size(url: str) -> int:
    with transaction(url) as session:
        return session.scalar(select(func.count()).select_from(AuditQueued)) or 0


def test_queued_entries_are_seen_at_once_and_integrate_in_order(queued: str) -> None:
    seqs = append(queued, batches=3, per_batch=4)
    assert seqs == [None] * 12 and rows(queued) == [] and queue_size(queued) == 12
    with transaction(queued) as session:  # the auditor sees them before integration
        history = service.account_history(
            session, actor=AUDITOR, username=READER.username, page=1, size=50
        )
    assert history.total == 12 and all(item.seq is None for item in history.items)
    assert [item.subject_ref for item in history.items[:2]] == ["TB2026000011", "TB2026000010"]

    assert service.integrate_pending(queued) == 13  # and the auditor's look, queued too
    stored = rows(queued)
    assert [row["seq"] for row in stored] == list(range(1, 14))
    assert [row["subject_ref"] for row in stored[:12]] == [f"TB2026{i:06d}" for i in range(12)]
    assert queue_size(queued) == 0
    report = verify(queued)
    assert report.ok, report.problem
    assert (report.tree_size, report.queued) == (13, 0)
    with transaction(queued) as session:
        history = service.account_history(
            session, actor=AUDITOR, username=READER.username, page=1, size=50
        )
    assert [item.seq for item in history.items] == list(range(12, 0, -1))


def test_a_direct_append_next_to_queued_entries(
    clean_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """On PostgreSQL (where writers queue) a writer holding the head integrates the queue
    first; on SQLite (nothing queues there unless told to) the integrator takes it later.
    Either way every entry is in the tree once and the log verifies."""
    with audit_settings(monkeypatch, tmp_path, audit_append="queue"):
        append(clean_db, batches=2, per_batch=3)
    with audit_settings(monkeypatch, tmp_path):
        seqs = append(clean_db, batches=1, per_batch=2)
        if clean_db.startswith("postgresql"):
            assert seqs == [7, 8] and queue_size(clean_db) == 0
            expected = "01234501"
        else:
            assert seqs == [1, 2] and queue_size(clean_db) == 6
            assert service.integrate_pending(clean_db) == 6
            expected = "01012345"
        assert [row["subject_ref"][-1] for row in rows(clean_db)] == list(expected)
        assert verify(clean_db).ok


def test_a_rolled_back_writer_leaves_no_queued_entry(queued: str) -> None:
    session = session_factory(queued)()
    try:
        service.record(session, actor=READER, access=access(1))
        session.flush()
    finally:
        session.rollback()
        session.close()
    assert queue_size(queued) == 0 and service.integrate_pending(queued) == 0


def test_entries_left_queued_by_a_crash_are_integrated_later(queued: str) -> None:
    """The process that queued them is gone (nothing of it is used again): the queue is
    durable, and any later integrator — a restarted server, the CLI, the job — takes it."""
    append(queued, batches=2, per_batch=5)
    assert queue_size(queued) == 10
    assert integrator.integrate_pending(queued) == 10
    assert [row["seq"] for row in rows(queued)] == list(range(1, 11))
    assert verify(queued).ok


def test_a_tampered_queued_entry_is_reported_and_never_integrated(queued: str) -> None:
    append(queued, batches=1, per_batch=3)
    first = execute(queued, "SELECT min(id) AS id FROM audit_queue").one().id
    execute(queued, "UPDATE audit_queue SET purpose_text = '随便看看' WHERE id = :id", id=first + 1)
    report = verify(queued)
    assert not report.ok and report.queued == 3
    assert f"queued entry {first + 1} altered" in report.problem
    assert "排队待并入" in report.problem_zh
    assert service.integrate_pending(queued) == 3  # looked at, the bad one left queued
    assert [row["subject_ref"] for row in rows(queued)] == ["TB2026000000", "TB2026000002"]
    assert queue_size(queued) == 1
    later = verify(queued)
    assert not later.ok and f"queued entry {first + 1}" in later.problem


def test_a_forged_queued_entry_is_reported(queued: str) -> None:
    append(queued, batches=1, per_batch=1)
    execute(
        queued,
        "INSERT INTO audit_queue (at, actor_user_id, actor_username, actor_name, actor_role,"
        " action, subject_kind, subject_ref, fields, purpose_code, purpose_text, result, mac)"
        " SELECT at, actor_user_id, actor_username, actor_name, actor_role, action,"
        " subject_kind, 'TB2026999999', fields, purpose_code, purpose_text, result, mac"
        " FROM audit_queue",
    )
    report = verify(queued)
    assert not report.ok and "altered or forged" in report.problem


def test_an_entry_not_yet_integrated_has_no_proof_yet(queued: str) -> None:
    append(queued, batches=1, per_batch=2)
    with transaction(queued) as session, pytest.raises(Conflict) as caught:
        service.inclusion_proof(session, seq=1, size=1)
    assert caught.value.code == "audit_entry_queued"
    service.integrate_pending(queued)
    with transaction(queued) as session:
        assert service.inclusion_proof(session, seq=2, size=2).valid


def test_parallel_writers_queue_and_integrate_into_one_contiguous_log(queued: str) -> None:
    """Writers in separate transactions on separate connections, at the same time."""
    writers, per_writer = 8, 5
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(number: int) -> None:
        try:
            start.wait(timeout=30)
            for batch in range(per_writer):
                with transaction(queued) as session:
                    mine = access(number * 100 + batch, subject_ref=f"W{number}-{batch}")
                    service.record(session, actor=READER, access=mine)
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert service.integrate_pending(queued) == writers * per_writer
    stored = rows(queued)
    assert [row["seq"] for row in stored] == list(range(1, writers * per_writer + 1))
    written = sorted(row["subject_ref"] for row in stored)
    assert written == sorted(f"W{n}-{b}" for n in range(writers) for b in range(per_writer))
    for number in range(writers):  # each writer's entries keep their order
        own = [row["subject_ref"] for row in stored if row["subject_ref"].startswith(f"W{number}-")]
        assert own == [f"W{number}-{b}" for b in range(per_writer)]
    report = verify(queued)
    assert report.ok, report.problem


def test_a_writer_never_waits_for_the_head_on_postgresql(
    clean_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """While one transaction holds the head (its append not yet committed), others queue
    instead of waiting; every entry ends up in the tree once."""
    if not clean_db.startswith("postgresql"):
        pytest.skip("SQLite writers are serial: the head is always free there")
    with audit_settings(monkeypatch, tmp_path):
        append(clean_db, batches=1, per_batch=1)  # the head row exists (the log has begun)
        holder = session_factory(clean_db)()
        try:
            assert service.record(holder, actor=READER, access=access(0)) == 2
            others = []
            for number in range(1, 4):
                with transaction(clean_db) as session:  # would block on the head lock
                    others.append(service.record(session, actor=READER, access=access(number)))
            assert others == [None, None, None] and queue_size(clean_db) == 3
            holder.commit()
        finally:
            holder.close()
        assert service.integrate_pending(clean_db) == 3
        assert [row["seq"] for row in rows(clean_db)] == [1, 2, 3, 4, 5]
        assert verify(clean_db).ok


def test_the_server_thread_integrates_within_the_merge_delay(queued: str) -> None:
    """The app's integrator thread (started by the lifespan) drains the queue by itself."""
    append(queued, batches=2, per_batch=3)
    worker = integrator.Integrator(queued, interval=0.05)
    worker.start()
    try:
        done = threading.Event()
        for _ in range(600):  # a generous bound for a loaded machine, not a speed check
            if queue_size(queued) == 0:
                done.set()
                break
            done.wait(0.05)
        assert done.is_set()
    finally:
        worker.stop()
    assert [row["seq"] for row in rows(queued)] == [1, 2, 3, 4, 5, 6]
    assert verify(queued).ok


def test_the_status_says_what_is_queued_and_the_merge_delay(queued: str) -> None:
    append(queued, batches=1, per_batch=4)
    with transaction(queued) as session:
        status = service.audit_status(session)
    assert (status.tree_size, status.queued, status.max_merge_delay_seconds) == (0, 4, 2.0)
    service.integrate_pending(queued)
    with transaction(queued) as session:
        status = service.audit_status(session)
    assert (status.tree_size, status.queued) == (4, 0)
