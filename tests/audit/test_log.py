"""Appending to the audit log: leaves, MACs, the head's compact range, rollbacks, concurrency."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from audit_support import READER, access, append, audit_settings, leaf_of, rows
from tongban.audit import merkle, repository, service
from tongban.audit.verify import verify
from tongban.db import transaction
from tongban.kit.clock import SHANGHAI, frozen


@pytest.fixture
def url(clean_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    with audit_settings(monkeypatch, tmp_path, audit_checkpoint_every=50):
        yield clean_db


def test_entries_are_numbered_hashed_and_keyed(url: str) -> None:
    assert append(url, batches=3, per_batch=5) == list(range(1, 16))
    stored = rows(url)
    key = service.mac_key()
    for row in stored:
        assert row["leaf_hash"] == leaf_of(row)
        assert row["mac"] == service.entry_mac(row["leaf_hash"], key)
    first = stored[0]
    assert (first["actor_username"], first["actor_role"], first["fields"]) == (
        READER.username,
        "applicant",
        ["applicant_name", "applicant_id_number"],
    )
    with transaction(url) as session:
        head = repository.head(session)
        assert head is not None and head.tree_size == 15
        leaves = [bytes.fromhex(row["leaf_hash"]) for row in stored]
        frontier = [bytes.fromhex(node) for node in head.frontier]
        assert merkle.root_from_frontier(frontier) == merkle.root(leaves)


def test_numbers_typed_in_a_purpose_are_masked_before_hashing(url: str) -> None:
    from support import person_id

    number = person_id(3)
    with transaction(url) as session:
        service.record(session, actor=READER, access=access(1, purpose_text=f"核对 {number}"))
    (row,) = rows(url)
    assert number not in row["purpose_text"] and row["leaf_hash"] == leaf_of(row)


def test_a_rolled_back_read_leaves_no_entry(url: str) -> None:
    append(url, batches=1, per_batch=2)
    with pytest.raises(RuntimeError), transaction(url) as session:
        service.record(session, actor=READER, access=access(9))
        raise RuntimeError("the read failed after it was recorded")
    assert len(rows(url)) == 2
    assert append(url, batches=1, per_batch=1) == [3]
    assert verify(url).ok


def test_the_hash_does_not_depend_on_the_clock_zone(url: str) -> None:
    # Stored as UTC; a clock giving Beijing time must still hash what is read back.
    with frozen(datetime(2026, 11, 27, 9, 30, 0, 123456, tzinfo=SHANGHAI)):
        append(url, batches=1, per_batch=2)
    report = verify(url)
    assert report.ok, report.problem
    assert rows(url)[0]["at"].isoformat() == "2026-11-27T01:30:00.123456+00:00"


def test_concurrent_appenders_leave_a_gap_free_log(url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def appender(offset: int) -> None:
        try:
            barrier.wait()
            for batch in range(15):
                with transaction(url) as session:
                    accesses = [access(offset + batch * 3 + i) for i in range(3)]
                    service.record_many(session, actor=READER, accesses=accesses)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=appender, args=(n * 1000,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    # A writer that found the head locked queued its batch: merge what the integrator
    # thread of a server would merge within the delay.
    service.integrate_pending(url)
    stored = rows(url)
    assert [row["seq"] for row in stored] == list(range(1, 91))
    # Every batch of both appenders is there, each one contiguous (appended under the lock).
    numbers = [int(row["subject_ref"][-6:]) for row in stored]
    assert sorted(numbers) == sorted(n * 1000 + i for n in range(2) for i in range(45))
    for start in range(0, 90, 3):
        batch = numbers[start : start + 3]
        assert batch == list(range(batch[0], batch[0] + 3)) and batch[0] % 1000 % 3 == 0
    report = verify(url)
    assert report.ok and report.tree_size == 90, report.problem
