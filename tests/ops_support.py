"""A real `tongban` app server on loopback for the operations tests, and fresh databases."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from conftest import _create_pg_database, _drop_pg_database


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
    port = free_port()
    command = [sys.executable, "-m", "tongban.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    sink = log.open("wb") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(command, env=env, stdout=sink, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                pytest.fail("tongban serve exited early")
            time.sleep(0.1)
        else:
            pytest.fail("tongban serve did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        if log is not None and hasattr(sink, "close"):
            sink.close()
