"""Statutory holidays of 全国年节及纪念日放假办法 (2024 revision), computed for any year.

Used for the provisional calendar of years that no official arrangement covers
yet, and to check that a loaded arrangement grants every statutory day off. The
State Council's yearly arrangement adds 调休 (moved days) on top; this module
knows nothing about those.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from lunardate import LunarDate

# lunardate's table covers lunar years [1900, 2100); outside it only the solar
# holidays can be computed.
LUNAR_FIRST_YEAR = 1900
LUNAR_LAST_YEAR = 2099
QINGMING_YEARS = (1901, 2100)

NEW_YEAR = "元旦"
SPRING_FESTIVAL = "春节"
QINGMING = "清明节"
LABOUR_DAY = "劳动节"
DRAGON_BOAT = "端午节"
MID_AUTUMN = "中秋节"
NATIONAL_DAY = "国庆节"


def qingming(year: int) -> date:
    """The date of the 清明 solar term in ``year`` (Beijing time).

    The classic "[Y·D + C] − L" formula: Y = the year within its century,
    D = 0.2422, L = the leap years before it in the century (Y // 4; 清明 falls
    after February, so the current year counts), C = 5.59 for 1901–2000 and 4.81
    for 2001–2100. Unlike some other terms, 清明 needs no per-year corrections;
    the tests check every year 1901–2099 against chinese_calendar's term table.
    """
    if not QINGMING_YEARS[0] <= year <= QINGMING_YEARS[1]:
        raise ValueError(f"the 清明 formula covers 1901–2100, not {year}")
    y, c = (year - 1900, 5.59) if year <= 2000 else (year - 2000, 4.81)
    day = int(y * 0.2422 + c) - y // 4
    return date(year, 4, day)


def lunar_date(year: int, month: int, day: int) -> date | None:
    """The solar date of a (non-leap) lunar month/day in lunar year ``year``, if known."""
    if not LUNAR_FIRST_YEAR <= year <= LUNAR_LAST_YEAR:
        return None
    return LunarDate(year, month, day).to_solar_date()


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> dict[date, str]:
    """Every statutory day off in ``year`` → its holiday name (Chinese).

    元旦 1 Jan; 春节 除夕 + 正月初一–初三 (除夕 is the day before 正月初一, which is
    腊月廿九 when the twelfth month is short); 清明 the solar term; 劳动节 1–2 May;
    端午 lunar 5/5; 中秋 lunar 8/15; 国庆 1–3 Oct. Where two coincide (中秋 on
    1 Oct), the names are joined.
    """
    days: dict[date, str] = {}

    def add(d: date, name: str) -> None:
        days[d] = f"{days[d]}、{name}" if d in days else name

    add(date(year, 1, 1), NEW_YEAR)
    new_year = lunar_date(year, 1, 1)
    if new_year is not None:
        for offset in range(-1, 3):
            add(new_year + timedelta(days=offset), SPRING_FESTIVAL)
    if QINGMING_YEARS[0] <= year <= QINGMING_YEARS[1]:
        add(qingming(year), QINGMING)
    add(date(year, 5, 1), LABOUR_DAY)
    add(date(year, 5, 2), LABOUR_DAY)
    for (month, day), name in (((5, 5), DRAGON_BOAT), ((8, 15), MID_AUTUMN)):
        solar = lunar_date(year, month, day)
        if solar is not None:
            add(solar, name)
    for day in (1, 2, 3):
        add(date(year, 10, day), NATIONAL_DAY)
    return days
