"""An operator at the command line: on a database that was never migrated every command says
so in one line, and how to fix it; other errors are one line too, never a traceback.

The commands run as the operator runs them (a child process of the installed CLI), on an empty
SQLite file and on an empty PostgreSQL database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import BACKENDS, _create_pg_database, _drop_pg_database

COMMANDS = [
    ["workdays", "add", "2026-09-30", "3"],
    ["worker", "--once"],
    ["serve", "--port", "1"],
    ["users", "create", "--username", "x", "--password", "Demo@2026x", "--role", "clerk"],
    ["audit", "verify"],
    ["audit", "checkpoint"],
    ["exchange", "providers"],
    ["exchange", "coverage"],
    ["exchange", "stats"],
    ["keys", "status"],
    ["report", "--from", "2026-01-01", "--to", "2026-06-30", "--out", "r.pdf"],
]


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'never-migrated.db'}"
        return
    try:
        url = _create_pg_database()
    except Exception as exc:  # the PostgreSQL half is optional outside CI
        if os.environ.get("TONGBAN_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    yield url
    _drop_pg_database(url)


def _tongban(url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TONGBAN_DATABASE_URL": url}
    env.pop("TONGBAN_CLI_TRACEBACK", None)
    return subprocess.run(
        [sys.executable, "-m", "tongban.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_command_on_an_unmigrated_database_says_run_db_upgrade(
    empty_database: str, tmp_path: Path, command: list[str]
) -> None:
    done = _tongban(empty_database, tmp_path, *command)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "database_not_migrated" in lines[0] and "tongban db upgrade" in lines[0]
    assert "Traceback" not in done.stderr + done.stdout


def test_after_the_upgrade_the_same_command_works(empty_database: str, tmp_path: Path) -> None:
    upgraded = _tongban(empty_database, tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    done = _tongban(empty_database, tmp_path, "workdays", "add", "2026-09-30", "3")
    assert done.returncode == 0, done.stderr
    # 国庆 1–7 October are holidays; Saturday 10 October is a 调休 working day.
    assert done.stdout.strip() == "2026-10-10"


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    done = _tongban(url, tmp_path, "workdays", "add", "2026-09-30", "3")
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "database_unavailable" in lines[0], done.stderr


def test_a_bad_argument_is_one_line_in_the_users_words(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert _tongban(url, tmp_path, "db", "upgrade").returncode == 0
    done = _tongban(url, tmp_path, "workdays", "add", "2026-02-30", "3")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "command",
    [["workdays", "add", "2026-02-03", "x"], ["workdays", "add"], ["no-such-command"]],
    ids=["wrong type", "missing argument", "unknown command"],
)
def test_usage_errors_are_one_line_naming_the_help(tmp_path: Path, command: list[str]) -> None:
    done = _tongban(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path, *command)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("错误 usage: 命令参数有误："), done.stderr
    assert "--help" in lines[0]
