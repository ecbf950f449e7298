"""Dates in the many ways legacy systems write them (pure).

``parse_date`` takes a date, datetime, number or tidy text and gives a ``date`` or
the reason code why there is none (a key of ``cleaning.REASONS``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

DateEncoding = Literal["auto", "yyyymmdd", "iso", "excel", "unix", "unix_ms", "dmy", "mdy"]

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")  # legacy timestamps mean local days
EXCEL_EPOCH = date(1899, 12, 30)  # serial 61 = 1900-03-01 (Excel's phantom 1900-02-29 is 60)
EARLIEST_YEAR, LATEST_YEAR = 1900, 2100
MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MONTHS = {name: number for number, name in enumerate(MONTH_NAMES, 1)}
EMPTY_DATES = frozenset({"0", "00000000", "0000-00-00"})


def parse_date(value: object, encoding: DateEncoding = "auto") -> date | str:
    """A date from ``value`` (text already tidied), or the reason code why there is none."""
    if isinstance(value, datetime):
        return (value.astimezone(LOCAL_ZONE) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return "bad_format"
    if isinstance(value, int | float):
        return _from_number(value, encoding)
    text = str(value)
    if text in EMPTY_DATES:
        return "missing"
    if re.fullmatch(r"\d+(\.\d+)?", text):
        if len(text) == 14 and text.isdigit():  # YYYYMMDDhhmmss
            text = text[:8]
        return _from_number(float(text) if "." in text else int(text), encoding)
    return _from_text(text, encoding)


_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")
_CHINESE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?(?:.*)?$")
_ORACLE = re.compile(r"^(\d{1,2})[- ]([A-Za-z]{3})[- ](\d{4}|\d{2})(?:\s.*)?$")
_SLASHED = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def _from_number(number: float, encoding: DateEncoding) -> date | str:
    if number == 0:
        return "missing"
    if number < 0:
        return "bad_date"
    if encoding == "auto":
        guessed = _guess_number_encoding(len(str(int(number))))
        if guessed is None:
            return "bad_format"
        encoding = guessed
    try:
        return _convert_number(number, encoding)
    except (ValueError, OverflowError, OSError):  # beyond what date/datetime can hold
        return "out_of_range"


def _convert_number(number: float, encoding: DateEncoding) -> date | str:
    match encoding:
        case "yyyymmdd":
            text = f"{int(number):08d}"
            return _checked(int(text[:-4]), int(text[-4:-2]), int(text[-2:]))
        case "excel":
            return _from_excel_serial(number)
        case "unix":
            return datetime.fromtimestamp(number, LOCAL_ZONE).date()
        case "unix_ms":
            return datetime.fromtimestamp(number / 1000, LOCAL_ZONE).date()
        case _:
            return "bad_format"


def _guess_number_encoding(digits: int) -> DateEncoding | None:
    """8 digits read as YYYYMMDD, up to 5 as an Excel serial (to 2173), 9–10 and 13 as Unix time."""
    if digits == 8:
        return "yyyymmdd"
    if digits <= 5:
        return "excel"
    if digits in (9, 10):
        return "unix"
    return "unix_ms" if digits == 13 else None


def _from_excel_serial(serial: float) -> date | str:
    whole = int(serial)  # the fraction is the time of day
    if whole == 60:
        return "bad_date"  # 1900-02-29, which Excel believes in
    if whole < 60:
        whole += 1
    return date.fromordinal(EXCEL_EPOCH.toordinal() + whole)


def _from_text(text: str, encoding: DateEncoding) -> date | str:
    for pattern in (_ISO, _CHINESE):
        match = pattern.match(text)
        if match:
            return _checked(*(int(group) for group in match.groups()))
    match = _ORACLE.match(text)
    if match:
        day, month_name, year_text = match.groups()
        month = MONTHS.get(month_name.upper())
        if month is None:
            return "bad_format"
        year = int(year_text)
        if len(year_text) == 2:  # Oracle's RR: 00–49 → 20xx, 50–99 → 19xx
            year += 2000 if year < 50 else 1900
        return _checked(year, month, int(day))
    match = _SLASHED.match(text)
    if match:
        first, second, year = (int(group) for group in match.groups())
        if encoding == "dmy" or (encoding == "auto" and first > 12 >= second):
            return _checked(year, second, first)
        if encoding == "mdy" or (encoding == "auto" and second > 12 >= first):
            return _checked(year, first, second)
        return "ambiguous_date"
    return "bad_format"


def _checked(year: int, month: int, day: int) -> date | str:
    found = date_or_none(year, month, day)
    return "bad_date" if found is None else found


def date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
