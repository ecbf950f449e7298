"""A real `tongban serve` on loopback for the burst tests, and a client that fires many
requests at once and keeps every answer's status and latency."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

DEMO_PASSWORD = "Demo@2026"  # the demo users' password (src/tongban/demo/users.json)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running `tongban serve`: its address and process (the leader of its own process
    group, so that a test can kill it together with its workers)."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path

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


def start(database_url: str, var: Path, *, workers: int) -> Server:
    """`tongban serve --workers N` on a free port of 127.0.0.1 (the database is ready);
    the same ``var`` after a restart finds the same files."""
    port = free_port()
    env = {
        **os.environ,
        "TONGBAN_DATABASE_URL": database_url,
        "TONGBAN_STORAGE_DIR": str(var / "files"),
    }
    command = [sys.executable, "-m", "tongban.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    log_path = var / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_until_ready(server.base, process, log_path)
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def serving(database_url: str, var: Path, *, workers: int) -> Iterator[str]:
    """A server for the duration of the block; its address."""
    server = start(database_url, var, workers=workers)
    try:
        yield server.base
    finally:
        server.stop()


def _wait_until_ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"tongban serve exited early:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(base + "/api/v1/items?size=1", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"tongban serve did not start:\n{log.read_text()[-4000:]}")


def bearer(base: str, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    answer = httpx.post(
        base + "/api/v1/auth/token",
        json={"username": username, "password": password},
        timeout=30,
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@dataclass
class Burst:
    """What a burst got back: each answer's status (0: no answer) and seconds."""

    name: str
    statuses: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    bodies: list[dict[str, object]] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for status in self.statuses if status == 0 or status >= 500)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    def summary(self) -> str:
        kinds = {status: self.statuses.count(status) for status in sorted(set(self.statuses))}
        return (
            f"{self.name}: {len(self.statuses)} requests, statuses {kinds}, "
            f"p50 {self.percentile(0.50):.2f} s, p99 {self.percentile(0.99):.2f} s, "
            f"max {max(self.seconds, default=0.0):.2f} s"
        )


Call = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def burst(name: str, calls: list[Call], *, timeout: float = 120.0) -> Burst:
    """Every call at once, each on its own connection; answers kept in call order."""
    result = Burst(name)

    async def one(client: httpx.AsyncClient, call: Call) -> tuple[int, float, str, object]:
        started = time.perf_counter()
        try:
            answer = await call(client)
        except httpx.HTTPError as error:
            return 0, time.perf_counter() - started, f"{type(error).__name__}: {error}", {}
        body = answer.json() if "json" in answer.headers.get("content-type", "") else {}
        text = "" if answer.status_code < 500 else answer.text[:300]
        return answer.status_code, time.perf_counter() - started, text, body

    async def run() -> None:
        limits = httpx.Limits(max_connections=len(calls), max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
            answers = await asyncio.gather(*(one(client, call) for call in calls))
        for status, seconds, failure, body in answers:
            result.statuses.append(status)
            result.seconds.append(seconds)
            result.bodies.append(body if isinstance(body, dict) else {})
            if failure:
                result.failures.append(failure)

    asyncio.run(run())
    return result
