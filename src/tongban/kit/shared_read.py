"""One read of a changing value shared by every request that waits for it, never older
than the request.

Many requests at once want the same tiny answer (the catalog's version): each asking the
database on its own costs a connection and a thread hop per request. ``SharedRead`` runs at
most one read at a time, in a thread of its own, and gives its result to every request that
arrived *before that read began*. A request that arrives while a read is under way waits for
it to finish and then for the next one, so every answer comes from a read that began after
the request arrived: whatever was committed before a request arrived is in its answer, as if
it had asked alone. Under load a request waits at most two reads; the database sees about
one read per read's duration, however many requests there are.

Event-loop only (no locks): the counters are read and changed between awaits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio
from anyio import to_thread

T = TypeVar("T")


@dataclass
class _Read(Generic[T]):
    number: int
    done: anyio.Event = field(default_factory=anyio.Event)
    value: T | None = None
    error: BaseException | None = None


class SharedRead(Generic[T]):
    def __init__(self, read: Callable[[], T]) -> None:
        self._read = read
        self._started = 0
        self._running: _Read[T] | None = None
        self.reads = 0  # how many reads ran (tests, figures)

    async def __call__(self) -> T:
        arrived_after = self._started  # only a read numbered above this began after us
        while True:
            running = self._running
            if running is None:
                return await self._run()
            await running.done.wait()
            if running.number > arrived_after:
                if running.error is not None:
                    raise running.error
                return running.value  # type: ignore[return-value]

    async def _run(self) -> T:
        self._started += 1
        read: _Read[T] = _Read(self._started)
        self._running = read
        try:
            # A limiter of its own: never queued behind endpoints that hold the thread pool.
            read.value = await to_thread.run_sync(self._read, limiter=anyio.CapacityLimiter(1))
            self.reads += 1
            return read.value
        except BaseException as error:
            read.error = error
            raise
        finally:
            self._running = None
            read.done.set()
