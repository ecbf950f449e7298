"""The case clock on the real calendar: acceptance, pauses, holidays, provisional years."""

from __future__ import annotations

from datetime import date, datetime, time

from tongban.cases.clock import ClockEvent, compute_clock
from tongban.kit.clock import SHANGHAI
from tongban.workdays.rules import WorkCalendar

CAL = WorkCalendar({})


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def ev(action: str, from_state: str | None, to_state: str, day: date) -> ClockEvent:
    return ClockEvent(action, from_state, to_state, at(day))


def test_not_started_before_acceptance() -> None:
    clock = compute_clock(
        [ev("submit", None, "submitted", date(2026, 3, 2))],
        limit_days=5,
        statutory_days=20,
        calendar=CAL,
        today=date(2026, 3, 2),
    )
    assert clock.status == "not_started"
    assert clock.deadline_on is None


def test_deadline_counts_working_days_after_acceptance() -> None:
    # Accepted Monday 2026-03-02: 5 working days later is Monday 2026-03-09.
    events = [ev("accept", "submitted", "in_review", date(2026, 3, 2))]
    clock = compute_clock(
        events, limit_days=5, statutory_days=20, calendar=CAL, today=date(2026, 3, 3)
    )
    assert clock.deadline_on == date(2026, 3, 9)
    assert clock.statutory_deadline_on == date(2026, 3, 30)
    assert clock.status == "normal"
    assert clock.remaining_workdays == 4
    assert not clock.provisional


def test_deadline_moves_past_national_day_2026() -> None:
    # Accepted Tue 2026-09-29; 1–7 Oct are holidays, Sun 27 Sep and Sat 10 Oct are make-up days.
    events = [ev("accept", "submitted", "in_review", date(2026, 9, 29))]
    clock = compute_clock(
        events, limit_days=3, statutory_days=20, calendar=CAL, today=date(2026, 9, 29)
    )
    assert clock.deadline_on == CAL.add_workdays(date(2026, 9, 29), 3).date
    assert clock.deadline_on is not None and clock.deadline_on >= date(2026, 10, 8)


def test_warning_and_overdue() -> None:
    events = [ev("accept", "submitted", "in_review", date(2026, 3, 2))]
    warn = compute_clock(
        events, limit_days=5, statutory_days=20, calendar=CAL, today=date(2026, 3, 6)
    )
    assert warn.status == "warning" and warn.remaining_workdays == 1
    late = compute_clock(
        events, limit_days=5, statutory_days=20, calendar=CAL, today=date(2026, 3, 11)
    )
    assert late.status == "overdue" and late.remaining_workdays == -2


def test_supplement_during_review_pauses_and_shifts_the_deadline() -> None:
    events = [
        ev("accept", "submitted", "in_review", date(2026, 3, 2)),
        ev("request_supplement", "in_review", "review_supplement", date(2026, 3, 3)),
        ev("supplement", "review_supplement", "in_review", date(2026, 3, 6)),
    ]
    clock = compute_clock(
        events, limit_days=5, statutory_days=20, calendar=CAL, today=date(2026, 3, 6)
    )
    assert clock.paused_workdays == 3  # Wed, Thu, Fri
    assert clock.deadline_on == date(2026, 3, 12)


def test_open_special_procedure_reports_paused() -> None:
    events = [
        ev("accept", "submitted", "in_review", date(2026, 3, 2)),
        ev("start_special", "in_review", "suspended", date(2026, 3, 3)),
    ]
    clock = compute_clock(
        events, limit_days=5, statutory_days=20, calendar=CAL, today=date(2026, 3, 10)
    )
    assert clock.status == "paused"
    assert clock.paused_workdays == 5
    assert clock.deadline_on == date(2026, 3, 16)


def test_decision_stops_the_clock() -> None:
    events = [
        ev("accept", "submitted", "in_review", date(2026, 3, 2)),
        ev("decide", "in_review", "decided", date(2026, 3, 4)),
    ]
    clock = compute_clock(
        events, limit_days=5, statutory_days=20, calendar=CAL, today=date(2026, 4, 1)
    )
    assert clock.status == "stopped"
    assert clock.stopped_on == date(2026, 3, 4)


def test_december_acceptance_crossing_into_unloaded_2027_is_provisional() -> None:
    events = [ev("accept", "submitted", "in_review", date(2026, 12, 28))]
    clock = compute_clock(
        events, limit_days=5, statutory_days=20, calendar=CAL, today=date(2026, 12, 28)
    )
    assert clock.provisional
    assert clock.deadline_on is not None and clock.deadline_on > date(2027, 1, 1)
    assert clock.deadline_on != date(2027, 1, 1)
