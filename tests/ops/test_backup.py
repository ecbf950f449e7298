"""`tongban backup` / `tongban restore`: an online backup taken while a real server appends to
the audit log, restored into an empty database, where `tongban audit verify` passes and the
row counts are the manifest's — on SQLite and PostgreSQL, each command as a child process."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text

from conftest import BACKENDS
from ops_support import cli, fresh_database, serving
from tongban.cases.storage import LocalStorage

PASSWORD = "Demo@2026"


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one())
                for t in inspect(conn).get_table_names()
            }
    finally:
        engine.dispose()


def _audited_reads(base: str, stop: threading.Event, done: list[int]) -> None:
    """Clerk reads cases (each read appends to the audit log) until told to stop."""
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post("/api/v1/auth/token", json={"username": "clerk", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        queue = http.get("/api/v1/workbench/queue", headers=auth).json()["items"]
        numbers = [item["case_no"] for item in queue][:5]
        assert numbers, "the demo has cases waiting for the clerk"
        # Bounded, so that no checkpoint is signed after the backup (docs/operations.md).
        while not stop.is_set() and done[0] < 150:
            response = http.get(f"/api/v1/cases/{numbers[done[0] % len(numbers)]}", headers=auth)
            assert response.status_code == 200, response.text
            done[0] += 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_round_trip_while_the_server_writes(backend: str, tmp_path: Path) -> None:
    with (
        fresh_database(backend, tmp_path, "live") as live,
        fresh_database(backend, tmp_path, "restored") as target,
    ):
        env = {**os.environ, "TONGBAN_DATABASE_URL": live}
        loaded = cli("demo", "load", "--history-cases", "8", env=env)
        assert loaded.returncode == 0, loaded.stderr
        out = tmp_path / "backup"
        stop, done = threading.Event(), [0]
        with serving(env) as base:
            writer = threading.Thread(target=_audited_reads, args=(base, stop, done))
            writer.start()
            while done[0] < 10 and writer.is_alive():  # the server is writing
                threading.Event().wait(0.05)
            made = cli("backup", "--out", str(out), env=env)
            stop.set()
            writer.join()
        assert made.returncode == 0, made.stderr
        assert done[0] >= 10
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["database_kind"] == backend
        assert manifest["counts"]["audit_entries"] > 0
        # Never a key or the witness in the backup; the command says where they are.
        names = {p.name for p in out.rglob("*")}
        for key in ("keys.json", "secret.key", "audit-signing.key", "audit-checkpoints.jsonl"):
            assert key not in names
        assert "encryption_keyring:" in made.stdout and "audit_witness:" in made.stdout

        files = tmp_path / "restored-files"
        restored_env = {**env, "TONGBAN_DATABASE_URL": target, "TONGBAN_STORAGE_DIR": str(files)}
        restored = cli("restore", "--from", str(out), env=restored_env)
        assert restored.returncode == 0, restored.stderr
        assert _counts(target) == manifest["counts"]
        verified = cli("audit", "verify", env=restored_env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert f"{manifest['counts']['audit_entries']} entries" in verified.stdout
        # The uploaded files are back and open with the same keyring.
        stored = [entry for entry in manifest["files"] if entry["path"].startswith("files/")]
        assert stored and len(list(LocalStorage(files).hashes())) == len(stored)
        for name in LocalStorage(files).hashes():
            assert LocalStorage(files).get(name)

        again = cli("restore", "--from", str(out), env=restored_env)
        assert again.returncode == 2
        assert "restore_target_not_empty" in again.stderr
        assert len(again.stderr.strip().splitlines()) == 1


def test_restore_checks_every_hash_before_writing(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path, "live") as live:
        env = {**os.environ, "TONGBAN_DATABASE_URL": live}
        assert cli("db", "upgrade", env=env).returncode == 0
        out = tmp_path / "backup"
        assert cli("backup", "--out", str(out), env=env).returncode == 0
        dump = out / "database.sqlite3"
        dump.write_bytes(dump.read_bytes()[:-1] + b"\x01")  # one byte changed
        target = tmp_path / "restored.db"
        refused = cli(
            "restore",
            "--from",
            str(out),
            env={**env, "TONGBAN_DATABASE_URL": f"sqlite:///{target}"},
        )
        assert refused.returncode == 2
        assert "backup_invalid" in refused.stderr and "database.sqlite3" in refused.stderr
        assert not target.exists()  # nothing written

        (out / "manifest.json").unlink()
        assert (
            "manifest.json"
            in cli(
                "restore",
                "--from",
                str(out),
                env={**env, "TONGBAN_DATABASE_URL": f"sqlite:///{target}"},
            ).stderr
        )


def test_backup_refuses_a_directory_in_use(tmp_path: Path) -> None:
    env = {**os.environ, "TONGBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    assert cli("db", "upgrade", env=env).returncode == 0
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old").write_text("something")
    result = cli("backup", "--out", str(tmp_path / "out"), env=env)
    assert result.returncode == 2
    assert "backup_target_not_empty" in result.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_backup_of_a_never_migrated_database_says_so(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path, "never") as url:
        result = cli(
            "backup",
            "--out",
            str(tmp_path / "out"),
            env={**os.environ, "TONGBAN_DATABASE_URL": url},
        )
    assert result.returncode == 2
    assert "database_not_migrated" in result.stderr and "tongban db upgrade" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    if backend == "sqlite":
        assert not (tmp_path / "never.db").exists()
