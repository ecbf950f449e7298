"""The statutory holidays used for provisional years, checked against chinese_calendar."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from lunardate import LunarDate

from tongban.workdays.holidays import lunar_date, qingming, statutory_holidays


def test_qingming_formula_matches_the_solar_term_table_1901_to_2099() -> None:
    for year in range(1901, 2100):
        terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 7))
        expected = next(d for d, name in terms if name == "清明")
        assert qingming(year) == expected, year


def test_qingming_is_an_official_holiday_2010_to_2026() -> None:
    for year in range(2010, 2027):
        d = qingming(year)
        assert d in chinese_calendar.holidays, year
        assert chinese_calendar.get_holiday_detail(d)[1] == "Tomb-sweeping Day"


def test_qingming_outside_the_formula_range_is_refused() -> None:
    with pytest.raises(ValueError):
        qingming(1899)


def test_every_statutory_day_is_off_in_the_official_2025_and_2026_calendars() -> None:
    # 2025 is the first year under the 2024 revision (除夕 and 2 May added).
    for year in (2025, 2026):
        days = statutory_holidays(year)
        assert len(days) >= 13
        for d in days:
            assert not chinese_calendar.is_workday(d), d


def test_holidays_common_to_older_rules_are_off_2010_to_2026() -> None:
    # Before 2025: 元旦, 春节 初一–初三, 清明, 劳动节 1 May, 端午, 中秋, 国庆 1–3 Oct.
    for year in range(2010, 2027):
        days = statutory_holidays(year)
        newest_rules_only = {date(year, 5, 2), lunar_date(year, 1, 1) - timedelta(days=1)}  # type: ignore[operator]
        for d in days.keys() - newest_rules_only:
            assert not chinese_calendar.is_workday(d), (year, d, days[d])


def test_chuxi_is_the_day_before_new_year_even_when_it_is_the_29th() -> None:
    # 2025 had no 腊月三十: 除夕 was 腊月廿九, 28 January.
    chuxi = date(2025, 1, 28)
    lunar = LunarDate.from_solar_date(chuxi.year, chuxi.month, chuxi.day)
    assert (lunar.month, lunar.day) == (12, 29)
    assert statutory_holidays(2025)[chuxi] == "春节"
    assert date(2025, 1, 27) not in statutory_holidays(2025)


def test_2027_statutory_holidays() -> None:
    days = statutory_holidays(2027)
    expected = {
        date(2027, 1, 1): "元旦",
        date(2027, 2, 5): "春节",  # 除夕
        date(2027, 2, 6): "春节",  # 正月初一
        date(2027, 2, 7): "春节",
        date(2027, 2, 8): "春节",
        date(2027, 4, 5): "清明节",
        date(2027, 5, 1): "劳动节",
        date(2027, 5, 2): "劳动节",
        date(2027, 6, 9): "端午节",
        date(2027, 9, 15): "中秋节",
        date(2027, 10, 1): "国庆节",
        date(2027, 10, 2): "国庆节",
        date(2027, 10, 3): "国庆节",
    }
    assert days == expected


def test_coinciding_holidays_keep_both_names() -> None:
    # 2020: 中秋 fell on 1 October.
    assert statutory_holidays(2020)[date(2020, 10, 1)] == "中秋节、国庆节"


def test_years_beyond_the_lunar_table_still_get_the_solar_holidays() -> None:
    days = statutory_holidays(2150)
    assert date(2150, 1, 1) in days
    assert date(2150, 10, 3) in days
    assert len(days) == 6
