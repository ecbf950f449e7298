"""A real `tongban serve` on loopback for the burst tests (tests/server_support.py), and a
client that fires many requests at once and keeps every answer's status and latency."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

import server_support
from server_support import Server, free_port, server_env

DEMO_PASSWORD = "Demo@2026"  # the demo users' password (src/tongban/demo/users.json)


def start(database_url: str, var: Path, *, workers: int) -> Server:
    """`tongban serve --workers N` on ``database_url`` (ready); the same ``var`` after a
    restart finds the same files."""
    return server_support.start(
        server_env(database_url, var), workers=workers, log=var / f"server-{free_port()}.log"
    )


@contextmanager
def serving(database_url: str, var: Path, *, workers: int) -> Iterator[str]:
    """A server for the duration of the block; its address."""
    server = start(database_url, var, workers=workers)
    try:
        yield server.base
    finally:
        server.stop()


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
