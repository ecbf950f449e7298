"""`tongban audit verify | checkpoint | prove | public-key` against the test databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audit_support import append, audit_settings, update_row, witness_lines
from tongban.audit import merkle
from tongban.cli import app

runner = CliRunner()


@pytest.fixture
def log(clean_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", clean_db)
    with audit_settings(monkeypatch, tmp_path, audit_checkpoint_every=8):
        append(clean_db, batches=3, per_batch=4)  # checkpoints at 4 and 12
        yield clean_db


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", *args])
    return result.exit_code, result.output


def test_verify_prints_both_languages_and_exits_1_on_tampering(log: str) -> None:
    code, output = invoke("verify")
    assert code == 0, output
    assert "日志完整：12 条记录，4 个检查点" in output
    assert "log intact: 12 entries, 4 checkpoints" in output
    update_row(log, 3, purpose_text="篡改")
    code, output = invoke("verify")
    assert code == 1
    assert "日志被篡改：第 3 条记录被篡改" in output
    assert "log tampered: entry 3 altered" in output


def test_checkpoint_signs_new_entries_and_says_when_up_to_date(log: str, tmp_path: Path) -> None:
    code, output = invoke("checkpoint")
    assert code == 0 and "up to date: size 12" in output
    append(log, batches=1, per_batch=2)  # 14: not due yet (every 8)
    code, output = invoke("checkpoint")
    assert code == 0 and "signed: size 14" in output and "ed25519 key" in output
    assert len(witness_lines(tmp_path / "witness.jsonl")) == 3
    (tmp_path / "witness.jsonl").unlink()
    code, output = invoke("checkpoint")
    assert "wrote 3 missing line(s) to the witness file" in output


def _path(output: str) -> list[bytes]:
    return [bytes.fromhex(line.split()[-1]) for line in output.splitlines() if "path[" in line]


def test_prove_inclusion_against_the_latest_signed_root(log: str) -> None:
    code, output = invoke("prove", "--seq", "5")
    assert code == 0, output
    assert "proof valid against a signed root" in output and "signature valid" in output
    leaf = bytes.fromhex(output.split("\nleaf ", 1)[1].split()[0])
    root = bytes.fromhex(output.split("size 12: root ", 1)[1].split()[0])
    assert merkle.verify_inclusion(leaf, 4, 12, _path(output), root)  # checkable by anyone
    update_row(log, 5, purpose_text="篡改")
    code, output = invoke("prove", "--seq", "5")
    assert code == 1 and "proof INVALID" in output


def test_prove_consistency_between_two_checkpoints(log: str) -> None:
    code, output = invoke("prove", "--consistency", "4", "12")
    assert code == 0 and "proof valid against a signed root" in output
    code, output = invoke("prove", "--consistency", "5", "12")  # 5 was never signed
    assert code == 0 and "(computed; no signed checkpoint)" in output
    assert "proof valid, but the root is not signed" in output


def test_prove_refuses_what_does_not_exist(log: str) -> None:
    code, output = invoke("prove", "--seq", "99")
    assert code == 2 and "audit_entry_not_found" in output
    code, output = invoke("prove", "--seq", "3", "--size", "2")
    assert code == 2 and "audit_bad_tree_size" in output
    code, output = invoke("prove")
    assert code == 2


def test_public_key_prints_the_signing_key(log: str) -> None:
    code, output = invoke("public-key")
    assert code == 0 and output.startswith("current ed25519 ")
    _, _, key_id, public = output.split()[:4]
    assert len(key_id) == 16 and len(bytes.fromhex(public)) == 32


def test_integrate_and_verify_report_queued_entries(
    clean_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", clean_db)
    with audit_settings(monkeypatch, tmp_path, audit_append="queue"):
        append(clean_db, batches=2, per_batch=3)
        code, output = invoke("verify")
        assert code == 0 and "log intact: 0 entries" in output
        assert "6 queued entries awaiting integration" in output and "2 s" in output
        code, output = invoke("integrate")
        assert code == 0 and "integrated 6 queued entries" in output
        code, output = invoke("verify")
        assert code == 0 and "log intact: 6 entries" in output and "queued" not in output
