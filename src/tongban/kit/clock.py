"""The one source of 'now', so that tests and jobs can control time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return _now()


def local_today() -> date:
    return now().astimezone(SHANGHAI).date()


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI)


@contextmanager
def frozen(moment: datetime) -> Iterator[None]:
    """Freeze the clock at ``moment`` (tests and replays)."""
    global _now
    previous = _now
    _now = lambda: moment  # noqa: E731
    try:
        yield
    finally:
        _now = previous


def set_clock(func: Callable[[], datetime]) -> None:
    global _now
    _now = func
