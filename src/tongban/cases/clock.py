"""The case clock (行政许可法 §32, §42, §45, §82), computed from the event log alone.

Pure: given the events, the limit and a working-day calendar, it returns the
deadline and status. The clock starts at acceptance; 审查中补正 and 特别程序 do
not count; a decision stops it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from tongban.cases.rules import Action, State
from tongban.kit.clock import SHANGHAI


class DayResult(Protocol):
    @property
    def date(self) -> date: ...
    @property
    def provisional(self) -> bool: ...


class DayCount(Protocol):
    @property
    def count(self) -> int: ...
    @property
    def provisional(self) -> bool: ...


class Calendar(Protocol):
    """What the clock needs of the working-day calendar (tongban.workdays)."""

    def add_workdays(self, start: date, n: int) -> DayResult: ...
    def workdays_between(self, start: date, end: date) -> DayCount: ...


@dataclass(frozen=True)
class ClockEvent:
    action: str
    from_state: str | None
    to_state: str
    at: datetime


@dataclass(frozen=True)
class Clock:
    status: str  # not_started / normal / warning / overdue / paused / stopped
    accepted_on: date | None
    deadline_on: date | None
    statutory_deadline_on: date | None
    remaining_workdays: int | None
    paused_workdays: int
    provisional: bool
    stopped_on: date | None


PAUSE_STATES = frozenset({State.REVIEW_SUPPLEMENT, State.SUSPENDED})
STOP_ACTIONS = frozenset({Action.DECIDE, Action.WITHDRAW})
STATUS_LABELS = {
    "not_started": "未开始计时",
    "normal": "正常",
    "warning": "预警",
    "overdue": "超期",
    "paused": "暂停计时",
    "stopped": "已停止计时",
}


def _day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def compute_clock(
    events: Sequence[ClockEvent],
    *,
    limit_days: int,
    statutory_days: int,
    calendar: Calendar,
    today: date,
    warning_workdays: int = 1,
) -> Clock:
    accepted_on: date | None = None
    pause_started: date | None = None
    paused = 0
    provisional = False
    stopped_on: date | None = None
    for event in events:
        if event.action == Action.ACCEPT:
            accepted_on = _day(event.at)
        elif accepted_on is None or stopped_on is not None:
            continue
        elif event.to_state in PAUSE_STATES and event.from_state not in PAUSE_STATES:
            pause_started = _day(event.at)
        elif event.from_state in PAUSE_STATES and event.to_state not in PAUSE_STATES:
            if pause_started is not None:
                count = calendar.workdays_between(pause_started, _day(event.at))
                paused += count.count
                provisional |= count.provisional
            pause_started = None
            if event.action in STOP_ACTIONS:
                stopped_on = _day(event.at)
        elif event.action in STOP_ACTIONS:
            stopped_on = _day(event.at)
    if accepted_on is None:
        return Clock("not_started", None, None, None, None, 0, False, None)
    open_pause = 0
    if pause_started is not None and stopped_on is None:
        count = calendar.workdays_between(pause_started, today)
        open_pause = count.count
        provisional |= count.provisional
    deadline = calendar.add_workdays(accepted_on, limit_days + paused + open_pause)
    statutory = calendar.add_workdays(accepted_on, statutory_days + paused + open_pause)
    provisional |= deadline.provisional or statutory.provisional
    deadline_on: date = deadline.date
    status, remaining = _status(
        calendar, today, deadline_on, stopped_on, pause_started, warning_workdays
    )
    return Clock(
        status=status,
        accepted_on=accepted_on,
        deadline_on=deadline_on,
        statutory_deadline_on=statutory.date,
        remaining_workdays=remaining,
        paused_workdays=paused + open_pause,
        provisional=provisional,
        stopped_on=stopped_on,
    )


def _status(
    calendar: Calendar,
    today: date,
    deadline_on: date,
    stopped_on: date | None,
    pause_started: date | None,
    warning_workdays: int,
) -> tuple[str, int | None]:
    if stopped_on is not None:
        return "stopped", None
    if today > deadline_on:
        overdue = calendar.workdays_between(deadline_on, today).count
        return "overdue", -overdue
    remaining: int = calendar.workdays_between(today, deadline_on).count
    if pause_started is not None:
        return "paused", remaining
    if remaining <= warning_workdays:
        return "warning", remaining
    return "normal", remaining
