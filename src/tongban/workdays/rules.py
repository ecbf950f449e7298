"""Working-day arithmetic over layered calendar sources (pure, no I/O).

Each year is answered by exactly one source, the first that covers it:

1. ``loaded`` — an official arrangement an administrator loaded (overrides all);
2. ``package`` — the ``chinesecalendar`` package (2004–2026 in version 1.11);
3. ``provisional`` — weekends plus the statutory holidays, without 调休.

Periods follow 行政许可法 §82: counted in working days, the start day itself not
counted. Anything that consulted a provisional year says so in its result, so
that callers can show the deadline as provisional and recompute it later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cache, lru_cache

import chinese_calendar

from tongban.workdays.holidays import statutory_holidays

ONE_DAY = timedelta(days=1)


class YearSource(StrEnum):
    LOADED = "loaded"
    PACKAGE = "package"
    PROVISIONAL = "provisional"


@dataclass(frozen=True)
class YearOverride:
    """An official arrangement for one year: days off on weekdays and 调休 workdays.

    ``holidays`` may list weekend days too (the notice's full ranges); only the
    weekday ones change anything. ``workdays`` are weekend days worked (调休上班).
    Both map a date to the holiday it belongs to.
    """

    year: int
    holidays: Mapping[date, str]
    workdays: Mapping[date, str] = field(default_factory=dict)
    title: str = ""
    notice: str = ""  # the official notice it comes from, e.g. 国办发明电〔2025〕7号


@dataclass(frozen=True)
class WorkdayResult:
    date: date
    provisional: bool


@dataclass(frozen=True)
class WorkdayCount:
    count: int
    provisional: bool


@dataclass(frozen=True)
class _YearDays:
    """One year resolved: the exceptions to "Monday–Friday are working days"."""

    source: YearSource
    off: frozenset[date]  # weekdays that are not worked
    on: frozenset[date]  # weekend days that are worked

    def is_workday(self, d: date) -> bool:
        return d in self.on or (d.weekday() < 5 and d not in self.off)


def _from_days(source: YearSource, off: Iterable[date], on: Iterable[date]) -> _YearDays:
    return _YearDays(
        source,
        frozenset(d for d in off if d.weekday() < 5),
        frozenset(d for d in on if d.weekday() >= 5),
    )


@cache
def _package_year(year: int) -> _YearDays | None:
    """The package's view of ``year``, or None if it has no data for it.

    The package raises NotImplementedError for any date outside its years, even
    inside a range query, so it is only ever asked about one day at a time.
    """
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return None
    days = [date(year, 1, 1) + timedelta(days=i) for i in range(366)]
    days = [d for d in days if d.year == year]
    off = [d for d in days if d.weekday() < 5 and not chinese_calendar.is_workday(d)]
    on = [d for d in days if d.weekday() >= 5 and chinese_calendar.is_workday(d)]
    return _from_days(YearSource.PACKAGE, off, on)


@lru_cache(maxsize=256)
def _provisional_year(year: int) -> _YearDays:
    return _from_days(YearSource.PROVISIONAL, statutory_holidays(year), ())


def package_covers(year: int) -> bool:
    return _package_year(year) is not None


class WorkCalendar:
    """Answers working-day questions; loaded ``overrides`` win over the package.

    Instances are immutable once built and cache each year's resolved days, so
    one calendar can be shared by every deadline computation until an
    administrator loads a new arrangement.
    """

    def __init__(self, overrides: Mapping[int, YearOverride] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._years: dict[int, _YearDays] = {}

    def _year(self, year: int) -> _YearDays:
        days = self._years.get(year)
        if days is None:
            override = self._overrides.get(year)
            if override is not None:
                days = _from_days(YearSource.LOADED, override.holidays, override.workdays)
            else:
                days = _package_year(year) or _provisional_year(year)
            self._years[year] = days
        return days

    def source(self, year: int) -> YearSource:
        """Which source answers for ``year``."""
        return self._year(year).source

    def covered_years(self, first: int, last: int) -> dict[int, YearSource]:
        return {year: self.source(year) for year in range(first, last + 1)}

    def is_workday(self, d: date) -> bool:
        return self._year(d.year).is_workday(d)

    def is_provisional(self, d: date) -> bool:
        """True if neither a loaded arrangement nor the package covers the year of ``d``."""
        return self._year(d.year).source is YearSource.PROVISIONAL

    def add_workdays(self, start: date, n: int) -> WorkdayResult:
        """The date ``n`` working days after ``start`` (``start`` itself not counted).

        ``n == 0`` gives ``start`` (即办件). Raises ValueError for ``n < 0``, and
        OverflowError when the result would pass date.max.
        """
        if n < 0:
            raise ValueError(f"n must not be negative: {n}")
        current, remaining, provisional = start, n, False
        year, year_days = start.year, self._year(start.year)
        while remaining:
            current += ONE_DAY
            if current.year != year:
                year, year_days = current.year, self._year(current.year)
            provisional = provisional or year_days.source is YearSource.PROVISIONAL
            if year_days.is_workday(current):
                remaining -= 1
        return WorkdayResult(current, provisional)

    def workdays_between(self, start: date, end: date) -> WorkdayCount:
        """How many working days d satisfy ``start < d <= end`` (0 if end <= start)."""
        if end <= start:
            return WorkdayCount(0, False)
        count, provisional = 0, False
        begin = start + ONE_DAY
        for year in range(begin.year, end.year + 1):
            year_days = self._year(year)
            provisional = provisional or year_days.source is YearSource.PROVISIONAL
            first = begin if year == begin.year else date(year, 1, 1)
            last = end if year == end.year else date(year, 12, 31)
            for ordinal in range(first.toordinal(), last.toordinal() + 1):
                count += year_days.is_workday(date.fromordinal(ordinal))
        return WorkdayCount(count, provisional)
