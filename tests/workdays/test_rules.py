"""WorkCalendar: pure working-day arithmetic, no database."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from tongban.workdays.rules import (
    WorkCalendar,
    WorkdayCount,
    WorkdayResult,
    YearOverride,
    YearSource,
)

D = date
ONE = timedelta(days=1)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def test_matches_chinese_calendar_on_every_day_it_covers(cal: WorkCalendar) -> None:
    for d in days(D(2004, 1, 1), D(2026, 12, 31)):
        assert cal.is_workday(d) == chinese_calendar.is_workday(d), d
        assert not cal.is_provisional(d)


def test_spring_festival_2026(cal: WorkCalendar) -> None:
    for d in days(D(2026, 2, 15), D(2026, 2, 23)):
        assert not cal.is_workday(d), d
        assert not chinese_calendar.is_workday(d)
    for makeup in (D(2026, 2, 14), D(2026, 2, 28)):  # Saturdays worked
        assert makeup.weekday() == 5
        assert cal.is_workday(makeup)
        assert chinese_calendar.is_workday(makeup)
    assert cal.add_workdays(D(2026, 2, 13), 1) == WorkdayResult(D(2026, 2, 14), False)
    assert cal.add_workdays(D(2026, 2, 14), 1) == WorkdayResult(D(2026, 2, 24), False)
    # Only 14 Feb and 24–27 Feb are worked in this fortnight.
    assert cal.workdays_between(D(2026, 2, 13), D(2026, 2, 27)) == WorkdayCount(5, False)


def test_labour_day_2026(cal: WorkCalendar) -> None:
    for d in days(D(2026, 5, 1), D(2026, 5, 5)):
        assert not cal.is_workday(d)
    assert cal.is_workday(D(2026, 5, 9))  # Saturday make-up day
    assert cal.add_workdays(D(2026, 4, 30), 1).date == D(2026, 5, 6)
    assert cal.add_workdays(D(2026, 4, 30), 3).date == D(2026, 5, 8)
    assert cal.add_workdays(D(2026, 4, 30), 4).date == D(2026, 5, 9)


def test_national_day_2026(cal: WorkCalendar) -> None:
    for d in days(D(2026, 10, 1), D(2026, 10, 7)):
        assert not cal.is_workday(d)
    assert cal.is_workday(D(2026, 9, 20))  # Sunday make-up day
    assert cal.is_workday(D(2026, 10, 10))  # Saturday make-up day
    assert cal.add_workdays(D(2026, 9, 30), 1) == WorkdayResult(D(2026, 10, 8), False)
    assert cal.add_workdays(D(2026, 9, 18), 1).date == D(2026, 9, 20)


def test_sources(cal: WorkCalendar) -> None:
    assert cal.source(2004) is YearSource.PACKAGE
    assert cal.source(2026) is YearSource.PACKAGE
    assert cal.source(2027) is YearSource.PROVISIONAL
    assert cal.source(2003) is YearSource.PROVISIONAL
    assert cal.covered_years(2026, 2027) == {2026: "package", 2027: "provisional"}


def test_provisional_2027_keeps_statutory_holidays_off(cal: WorkCalendar) -> None:
    assert cal.is_provisional(D(2027, 1, 1))
    assert D(2027, 1, 1).weekday() == 4  # a Friday, and still not a working day
    assert not cal.is_workday(D(2027, 1, 1))
    for d in (D(2027, 2, 5), D(2027, 2, 8), D(2027, 4, 5), D(2027, 6, 9), D(2027, 9, 15)):
        assert not cal.is_workday(d), d
    # No 调休: an ordinary weekend stays off, an ordinary weekday stays on.
    assert not cal.is_workday(D(2027, 1, 31))
    assert cal.is_workday(D(2027, 2, 9))
    assert cal.add_workdays(D(2027, 2, 4), 1) == WorkdayResult(D(2027, 2, 9), True)


def test_range_crossing_into_2027_works_and_is_flagged(cal: WorkCalendar) -> None:
    assert cal.add_workdays(D(2026, 12, 30), 1) == WorkdayResult(D(2026, 12, 31), False)
    assert cal.add_workdays(D(2026, 12, 31), 1) == WorkdayResult(D(2027, 1, 4), True)
    assert cal.add_workdays(D(2026, 12, 15), 20) == WorkdayResult(D(2027, 1, 13), True)
    assert cal.workdays_between(D(2026, 12, 25), D(2027, 1, 8)) == WorkdayCount(9, True)
    assert cal.workdays_between(D(2026, 12, 25), D(2026, 12, 31)) == WorkdayCount(4, False)
    # The last day of 2026 as start: nothing in 2026 is counted, 2027 is.
    assert cal.workdays_between(D(2026, 12, 31), D(2027, 1, 4)) == WorkdayCount(1, True)


def test_zero_days_is_the_start_itself(cal: WorkCalendar) -> None:
    assert cal.add_workdays(D(2026, 2, 15), 0) == WorkdayResult(D(2026, 2, 15), False)
    assert cal.workdays_between(D(2026, 3, 2), D(2026, 3, 2)) == WorkdayCount(0, False)
    assert cal.workdays_between(D(2026, 3, 3), D(2026, 3, 2)) == WorkdayCount(0, False)


def test_negative_count_is_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add_workdays(D(2026, 3, 2), -1)


def test_loaded_year_overrides_provisional_and_package() -> None:
    override_2027 = YearOverride(
        2027,
        holidays={D(2027, 1, 1): "元旦", D(2027, 2, 9): "春节"},
        workdays={D(2027, 1, 31): "春节"},
    )
    # A (made-up) correction of 2026 with only New Year off.
    override_2026 = YearOverride(2026, holidays={D(2026, 1, 1): "元旦"})
    cal = WorkCalendar({2027: override_2027, 2026: override_2026})
    assert cal.source(2027) is YearSource.LOADED
    assert cal.source(2026) is YearSource.LOADED
    assert cal.source(2025) is YearSource.PACKAGE
    assert cal.is_workday(D(2027, 1, 31))  # a Sunday worked
    assert not cal.is_workday(D(2027, 2, 9))
    assert cal.is_workday(D(2027, 6, 9))  # the file, not the provisional rule, decides
    assert not cal.is_provisional(D(2027, 6, 9))
    assert cal.is_workday(D(2026, 2, 16))  # the package's Spring Festival no longer applies
    assert cal.add_workdays(D(2026, 12, 31), 1) == WorkdayResult(D(2027, 1, 4), False)


@pytest.mark.parametrize("loaded", [False, True])
def test_add_and_between_agree(cal: WorkCalendar, loaded: bool) -> None:
    calendar = cal
    if loaded:
        calendar = WorkCalendar({2027: YearOverride(2027, {D(2027, 1, 1): "元旦"})})
    for start in days(D(2025, 12, 1), D(2027, 12, 31))[::3]:
        for n in (0, 1, 2, 5, 10, 20, 45):
            result = calendar.add_workdays(start, n)
            assert calendar.workdays_between(start, result.date).count == n
            consulted = days(start + ONE, result.date)
            assert result.provisional == any(calendar.is_provisional(d) for d in consulted)
            if n:
                assert calendar.is_workday(result.date)
                assert calendar.workdays_between(start, result.date - ONE).count == n - 1


def test_results_near_the_end_of_the_calendar_overflow_loudly(cal: WorkCalendar) -> None:
    with pytest.raises(OverflowError):
        cal.add_workdays(D(9999, 12, 30), 5)
