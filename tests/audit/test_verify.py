"""Tampering with the audit log directly in the database is caught, and pointed at.

Each test appends 20 entries through ``service.record_many`` (5 transactions of 4;
checkpoints at sizes 4, 12 and 20), changes the tables with plain SQL as someone
with database access but without the key files would, and runs ``verify``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from audit_support import (
    append,
    audit_settings,
    execute,
    insert_row,
    leaf_of,
    rehash_head,
    rows,
    update_row,
)
from tongban.audit import service
from tongban.audit.models import AuditVerification
from tongban.audit.verify import VerifyReport, verify
from tongban.db import transaction

CHECKPOINT_SIZES = [4, 12, 20]


@pytest.fixture
def log(clean_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    with audit_settings(monkeypatch, tmp_path, audit_checkpoint_every=5):
        append(clean_db, batches=5, per_batch=4)
        yield clean_db


def run(url: str) -> VerifyReport:
    return verify(url)


def sizes(url: str) -> list[int]:
    return [row.tree_size for row in execute(url, "SELECT tree_size FROM audit_checkpoints")]


def test_an_untouched_log_verifies_and_the_run_is_kept(log: str) -> None:
    assert sorted(sizes(log)) == CHECKPOINT_SIZES
    report = run(log)
    assert report.ok, report.problem
    assert (report.tree_size, report.checked_checkpoints) == (20, 6)  # 3 in the db, 3 in the file
    assert report.first_bad_seq is None and report.warnings == []
    with transaction(log) as session:
        kept = session.scalars(select(AuditVerification)).all()
        assert [(v.ok, v.tree_size, v.problem) for v in kept] == [(True, 20, "")]


def test_a_changed_field_names_the_entry(log: str) -> None:
    update_row(log, 7, purpose_text="例行检查")
    report = run(log)
    assert not report.ok and report.first_bad_seq == 7
    assert report.problem == "entry 7 altered (its content does not match its hash)"
    assert report.problem_zh.startswith("第 7 条记录被篡改")
    with transaction(log) as session:
        kept = session.scalars(select(AuditVerification)).one()
        assert (kept.ok, kept.first_bad_seq) == (False, 7)
        assert kept.problem == f"{report.problem_zh}\n{report.problem}"


def test_content_and_its_recomputed_hash_still_name_the_entry(log: str) -> None:
    row = rows(log)[6]
    row["actor_username"] = "someone_else"
    update_row(log, 7, actor_username="someone_else", leaf_hash=leaf_of(row))
    report = run(log)
    assert report.first_bad_seq == 7
    assert "MAC" in report.problem


def test_a_deleted_row_is_reported_missing(log: str) -> None:
    execute(log, "DELETE FROM audit_entries WHERE seq = 9")
    report = run(log)
    assert report.first_bad_seq == 9
    assert report.problem == "entry 9 missing (deleted)"


def test_two_swapped_rows_name_the_first(log: str) -> None:
    five, six = rows(log)[4:6]
    content = [name for name in five if name != "seq"]
    update_row(log, 5, **{name: six[name] for name in content})
    update_row(log, 6, **{name: five[name] for name in content})
    report = run(log)
    assert report.first_bad_seq == 5 and "altered" in report.problem


def _forged(seq: int, like: dict[str, Any]) -> dict[str, Any]:
    row = {**like, "seq": seq, "subject_ref": "TB2026999999", "purpose_text": "伪造"}
    row["leaf_hash"] = leaf_of(row)
    row["mac"] = "0" * 64  # the MAC key is in the key file, not in the database
    return row


def test_a_row_inserted_in_the_middle_is_pointed_at(log: str) -> None:
    # Make room at 10 (two steps: PostgreSQL checks the key row by row), forge, fix the head.
    execute(log, "UPDATE audit_entries SET seq = seq + 1000 WHERE seq >= 10")
    execute(log, "UPDATE audit_entries SET seq = seq - 999 WHERE seq >= 1000")
    insert_row(log, _forged(10, rows(log)[0]))
    rehash_head(log)
    report = run(log)
    assert report.first_bad_seq == 10 and "altered" in report.problem


def test_a_row_appended_beyond_the_head_is_pointed_at(log: str) -> None:
    insert_row(log, _forged(21, rows(log)[0]))
    report = run(log)
    assert report.first_bad_seq == 21
    assert report.problem == "entry 21 inserted (beyond the log head)"
    rehash_head(log)  # and when the head is made to cover it, the MAC still gives it away
    assert run(log).first_bad_seq == 21


def test_a_cut_tail_is_caught_by_the_witness_file_alone(log: str) -> None:
    # Remove the last 6 entries and every checkpoint row; make the head fit what is left.
    execute(log, "DELETE FROM audit_entries WHERE seq > 14")
    execute(log, "DELETE FROM audit_checkpoints")
    rehash_head(log)
    report = run(log)
    assert not report.ok and report.first_bad_seq == 15
    assert report.problem == (
        "log truncated: the witness file has 20 entries, the database holds 14"
    )


def test_a_cut_and_regrown_tail_no_longer_matches_the_signed_root(log: str) -> None:
    execute(log, "DELETE FROM audit_entries WHERE seq > 14")
    execute(log, "DELETE FROM audit_checkpoints WHERE tree_size > 14")
    rehash_head(log)
    append(log, batches=3, per_batch=4)  # honest appends after the cut: 26 entries again
    report = run(log)
    assert not report.ok
    assert "first 20 entries no longer match the signed witness file checkpoint" in report.problem


def test_the_first_problem_is_reported(log: str) -> None:
    update_row(log, 12, purpose_text="改")
    execute(log, "DELETE FROM audit_entries WHERE seq = 5")
    assert run(log).first_bad_seq == 5


def test_a_rewritten_checkpoint_fails_its_signature(log: str) -> None:
    execute(log, "UPDATE audit_checkpoints SET root_hash = :h WHERE tree_size = 12", h="ab" * 32)
    report = run(log)
    assert not report.ok
    assert report.problem == "the database checkpoint at size 12 has an invalid signature"


def test_a_removed_checkpoint_row_is_reported(log: str) -> None:
    execute(log, "DELETE FROM audit_checkpoints WHERE tree_size = 12")
    report = run(log)
    assert not report.ok and "checkpoint at size 12 was removed" in report.problem


def test_a_wiped_log_is_caught_by_the_witness_file(log: str) -> None:
    for table in ("audit_entries", "audit_checkpoints", "audit_head"):
        execute(log, f"DELETE FROM {table}")
    report = run(log)
    assert not report.ok and "the log is empty but the witness file" in report.problem


def test_a_lost_witness_file_is_a_warning_and_can_be_rewritten(log: str, tmp_path: Path) -> None:
    from tongban.audit import checkpoints

    (tmp_path / "witness.jsonl").unlink()
    report = run(log)
    assert report.ok and "3 checkpoint(s) missing from the witness file" in report.warnings[0].en
    with transaction(log) as session:
        assert checkpoints.publish_missing(session) == 3
    assert run(log).warnings == []


def test_verify_in_a_session_stores_with_the_session(log: str) -> None:
    with transaction(log) as session:
        report = service.verify_log(session)
        assert report.ok
    with transaction(log) as session:
        assert session.scalar(select(func.count()).select_from(AuditVerification)) == 1


def test_verify_reads_a_snapshot_while_an_append_is_under_way(log: str) -> None:
    from tongban.db import session_factory

    appender = session_factory(log)()
    try:
        service.record_many(appender, actor=None, accesses=[service.Access("read", "case")] * 3)
        # The appender holds the head lock and has not committed; the check reads around it
        # (keeping the outcome would wait for the lock, as any writer does).
        report = verify(log, keep=False)
        assert report.ok and report.tree_size == 20, report.problem
        appender.commit()
    finally:
        appender.close()
    report = run(log)
    assert report.ok and report.tree_size == 23, report.problem
