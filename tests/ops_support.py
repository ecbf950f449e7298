"""A real `tongban` app server on loopback for the operations tests, and fresh databases."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import server_support
from conftest import _create_pg_database, _drop_pg_database


@contextmanager
def fresh_database(backend: str, tmp: Path, name: str) -> Iterator[str]:
    """A new, empty database: a SQLite file not yet created, or a PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / (name + '.db')}"
        return
    try:
        url = _create_pg_database()
    except Exception as exc:  # the server is not there
        if os.environ.get("TONGBAN_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    try:
        yield url
    finally:
        _drop_pg_database(url)


def cli(*args: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tongban.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def serving(env: dict[str, str], *, workers: int = 1, log: Path | None = None) -> Iterator[str]:
    """`tongban serve` on a free port until the block ends; its output to ``log``."""
    with server_support.serving(env, workers=workers, log=log) as base:
        yield base
