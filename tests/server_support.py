"""`tongban serve` as a child process on a free loopback port — the one way the tests
start a real server (load bursts, kill -9, operations, browsers, parallel sign-ins)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running server: its address and process (the leader of its own process group, so
    that a test can end it together with its workers)."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path | None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log else ""

    def kill_hard(self) -> None:
        """`kill -9` of the server and every worker, as a power cut would end them."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def start(env: dict[str, str], *, workers: int = 1, log: Path | None = None) -> Server:
    """`tongban serve --workers N` with ``env`` (the database already migrated); returns
    once /healthz answers. Its output goes to ``log``."""
    port = free_port()
    command = [sys.executable, "-m", "tongban.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    sink = log.open("wb") if log is not None else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    finally:
        if log is not None and hasattr(sink, "close"):
            sink.close()
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_ready(server)
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def serving(env: dict[str, str], *, workers: int = 1, log: Path | None = None) -> Iterator[str]:
    """A server for the duration of the block; its address."""
    server = start(env, workers=workers, log=log)
    try:
        yield server.base
    finally:
        server.stop()


def server_env(database_url: str, var: Path, **extra: str) -> dict[str, str]:
    """The environment of a server on ``database_url`` keeping its files under ``var``."""
    return {
        **os.environ,
        "TONGBAN_DATABASE_URL": database_url,
        "TONGBAN_STORAGE_DIR": str(var / "files"),
        **extra,
    }


def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"tongban serve exited early:\n{server.output()}")
        try:
            if httpx.get(server.base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"tongban serve did not start:\n{server.output()}")
