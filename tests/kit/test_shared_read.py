"""A shared read never answers a request with a read that began before it arrived, and
the requests waiting at one moment share one read."""

from __future__ import annotations

import threading

import anyio
import pytest

from tongban.kit.shared_read import SharedRead


class Source:
    """A value that a test changes, read in a thread that waits for the test's go."""

    def __init__(self) -> None:
        self.value = "v1"
        self.go = threading.Event()
        self.reading = threading.Event()
        self.reads = 0

    def read(self) -> str:
        seen = self.value  # what a database read sees is fixed when the read begins
        self.reading.set()
        self.go.wait()
        self.reads += 1
        return seen


async def _until_reading(source: Source) -> None:
    while not source.reading.is_set():
        await anyio.sleep(0.001)


def test_a_request_arriving_during_a_read_waits_for_the_next_one() -> None:
    source = Source()
    shared = SharedRead(source.read)
    answers: dict[str, str] = {}
    waiting: list[str] = []

    async def ask(name: str) -> None:
        waiting.append(name)  # then, in the same step, into shared() up to its first wait
        answers[name] = await shared()

    async def scenario() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(ask, "early")
            await _until_reading(source)
            source.value = "v2"  # committed while the first read is under way
            for n in range(5):
                tasks.start_soon(ask, f"late {n}")
            while len(waiting) < 6:
                await anyio.sleep(0.001)
            source.go.set()

    anyio.run(scenario)
    assert answers["early"] == "v1"  # its read began before the change committed
    assert {answers[f"late {n}"] for n in range(5)} == {"v2"}
    assert source.reads == shared.reads == 2  # five late requests, one read between them


def test_a_failed_read_fails_its_waiters_and_the_next_request_reads_again() -> None:
    calls: list[int] = []

    def read() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database gone")
        return "v9"

    shared = SharedRead(read)

    async def scenario() -> str:
        with pytest.raises(RuntimeError):
            await shared()
        return await shared()

    assert anyio.run(scenario) == "v9"
    assert len(calls) == 2
