"""Consistent online copies of the database, and their restore into an empty database.

SQLite: the online backup API copies the live file page by page inside one read
transaction, so writers (WAL) go on and the copy is one consistent moment. PostgreSQL:
``pg_dump`` in the custom format, bound to a snapshot this module exports from a
REPEATABLE READ transaction — the row counts written to the manifest are read in that same
snapshot, so they are the dump's own. Restore goes into an empty database only: merging a
backup into live data would mix two histories of the audit log.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import make_url

from tongban.errors import DomainError

SQLITE_DUMP = "database.sqlite3"
PG_DUMP = "database.pgdump"


@dataclass(frozen=True)
class Snapshot:
    revision: str
    counts: dict[str, int]


def kind(url: str) -> str:
    return "sqlite" if make_url(url).get_backend_name() == "sqlite" else "postgresql"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise DomainError(
            "backup_unsupported",
            "内存数据库无法备份。",
            "An in-memory database cannot be backed up.",
        )
    return Path(database)


def table_counts(conn: Connection) -> Snapshot:
    tables = sorted(inspect(conn).get_table_names())
    counts = {
        t: int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()) for t in tables
    }
    revision = ""
    if "alembic_version" in tables:
        revision = str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or "")
    return Snapshot(revision, counts)


def _counts_of_sqlite_file(path: Path) -> Snapshot:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return table_counts(conn)
    finally:
        engine.dispose()


def dump_sqlite(url: str, out: Path) -> tuple[Path, Snapshot]:
    target = out / SQLITE_DUMP
    source = sqlite3.connect(sqlite_path(url), timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # all pages in one step: one read transaction, one moment
        # The copy stands alone: no -wal file beside it in the backup.
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        source.close()
    return target, _counts_of_sqlite_file(target)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for the pg_* tools, the password passed in the environment instead (a
    command line is visible to every user of the machine)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise DomainError(
            "backup_tool_missing",
            f"找不到 {name}：请安装与服务器同版本的 PostgreSQL 客户端。",
            f"{name} not found: install the PostgreSQL client tools of the server's version.",
        )
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise DomainError(
            "backup_tool_failed",
            f"{Path(command[0]).name} 失败：{last}",
            f"{Path(command[0]).name} failed: {last}",
        )


def dump_postgresql(url: str, out: Path) -> tuple[Path, Snapshot]:
    target = out / PG_DUMP
    dsn, env = _libpq(url)
    engine = create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as conn, conn.begin():
            exported = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            snapshot = table_counts(conn)
            command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
            command += [f"--snapshot={exported}", f"--file={target}", f"--dbname={dsn}"]
            _run(command, env)  # while the exporting transaction is open
    finally:
        engine.dispose()
    return target, snapshot


def not_empty(url: str) -> DomainError:
    return DomainError(
        "restore_target_not_empty",
        "目标数据库不是空的：请恢复到新建的空数据库。",
        "The target database is not empty: restore into a newly created empty database.",
        status=409,
    )


def require_empty(url: str) -> None:
    if kind(url) == "sqlite":
        path = sqlite_path(url)
        if path.exists() and path.stat().st_size > 0:
            raise not_empty(url)
        return
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if inspect(conn).get_table_names():
                raise not_empty(url)
    finally:
        engine.dispose()


def restore_sqlite(dump: Path, url: str) -> Snapshot:
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".restoring")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    os.replace(partial, path)  # the database appears whole or not at all
    return _counts_of_sqlite_file(path)


def restore_postgresql(dump: Path, url: str) -> Snapshot:
    dsn, env = _libpq(url)
    command = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
    command += ["--single-transaction", f"--dbname={dsn}", str(dump)]
    _run(command, env)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return table_counts(conn)
    finally:
        engine.dispose()
