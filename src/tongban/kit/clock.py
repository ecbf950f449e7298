"""The one source of 'now', so that tests and jobs can control time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return _now()


def local_today() -> date:
    return now().astimezone(SHANGHAI).date()


def to_local(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # stored values are UTC; a naive one is never local time
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI)


def beijing_text(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A moment as people here read it: Beijing time, no zone suffix."""
    return to_local(moment).strftime(fmt) if moment is not None else ""


def deadline_text(moment: datetime | None) -> str:
    """A deadline at the end of a day reads as that day's 24:00, not the next day's 00:00.

    A complaint due at the end of 8 December is stored as 9 December 00:00 Beijing time;
    shown as "2026-12-09 00:00" people read it as a day later than the law gives them.
    """
    if moment is None:
        return ""
    local = to_local(moment)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return f"{(local - timedelta(days=1)).strftime('%Y-%m-%d')} 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


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
