"""The arrangement file: parsing and every validation error, without a database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import tongban.demo
from tongban.errors import Invalid
from tongban.workdays.arrangement import parse_arrangement
from tongban.workdays.holidays import statutory_holidays

EXAMPLE = Path(tongban.demo.__file__).parent / "calendar-2027.toml"

MINIMAL = """\
year = 2027
title = "测试"

[[holidays]]
name = "元旦"
start = 2027-01-01
end = 2027-01-03

[[holidays]]
name = "春节"
start = "2027-02-05"
end = "2027-02-11"
workdays = [2027-01-31, 2027-02-20]

[[holidays]]
name = "其他法定节假日"
dates = [2027-04-05, 2027-05-01, 2027-05-02, 2027-06-09, 2027-09-15, 2027-10-01]
"""


def error_of(text: str) -> Invalid:
    with pytest.raises(Invalid) as caught:
        parse_arrangement(text)
    return caught.value


def test_example_file_parses() -> None:
    override = parse_arrangement(EXAMPLE.read_text(encoding="utf-8"))
    assert override.year == 2027
    assert "示例" in override.title
    assert override.holidays[date(2027, 2, 5)] == "春节"
    assert override.workdays == {
        date(2027, 1, 31): "春节",
        date(2027, 2, 20): "春节",
        date(2027, 5, 8): "劳动节",
        date(2027, 9, 26): "国庆节",
        date(2027, 10, 9): "国庆节",
    }
    for d in statutory_holidays(2027):
        assert d in override.holidays


def test_minimal_file_with_string_dates_and_date_lists() -> None:
    override = parse_arrangement(MINIMAL)
    assert len(override.holidays) == 3 + 7 + 6
    assert override.holidays[date(2027, 2, 11)] == "春节"
    assert override.holidays[date(2027, 6, 9)] == "其他法定节假日"
    assert set(override.workdays) == {date(2027, 1, 31), date(2027, 2, 20)}


def test_syntax_error_reports_the_line() -> None:
    error = error_of(MINIMAL.replace("end = 2027-01-03", "end = 2027-01-03 x"))
    assert error.code == "workday_file_syntax"
    assert error.details["line"] == 7


def test_impossible_native_date_is_a_syntax_error() -> None:
    error = error_of(MINIMAL.replace("end = 2027-01-03", "end = 2027-02-30"))
    assert error.code == "workday_file_syntax"
    assert error.details["line"] == 7


def test_impossible_string_date_is_invalid() -> None:
    error = error_of(MINIMAL.replace('end = "2027-02-11"', 'end = "2027-02-30"'))
    assert error.code == "workday_date_invalid"
    assert error.details["field"] == "holidays[1].end"
    assert error.details["line"] == 12


@pytest.mark.parametrize("value", ['"tomorrow"', "20270211", "2027-02-11T08:00:00"])
def test_non_dates_are_invalid(value: str) -> None:
    error = error_of(MINIMAL.replace('end = "2027-02-11"', f"end = {value}"))
    assert error.code == "workday_date_invalid"
    assert error.details["field"] == "holidays[1].end"


def test_unknown_field_is_named() -> None:
    error = error_of(MINIMAL.replace("workdays = [", "workday = ["))
    assert error.code == "workday_file_unknown_field"
    assert error.details["field"] == "holidays[1].workday"
    assert error.details["line"] == 13
    assert error_of("yaer = 2027\n" + MINIMAL).details["field"] == "yaer"


@pytest.mark.parametrize("year", ['"2027"', "2027.0", "1999", "2100", "true"])
def test_year_must_be_a_supported_integer(year: str) -> None:
    error = error_of(MINIMAL.replace("year = 2027", f"year = {year}"))
    assert error.code == "workday_file_year_invalid"
    assert error.details["line"] == 1


def test_missing_year() -> None:
    assert error_of(MINIMAL.replace("year = 2027\n", "")).code == "workday_file_year_invalid"


def test_missing_holidays() -> None:
    error = error_of('year = 2027\ntitle = "x"\n')
    assert error.code == "workday_file_field_invalid"
    assert error.details["field"] == "holidays"


def test_holiday_needs_a_name_and_exactly_one_way_of_giving_dates() -> None:
    assert error_of(MINIMAL.replace('name = "元旦"\n', "")).details["field"] == "holidays[0].name"
    both = MINIMAL.replace("end = 2027-01-03", "end = 2027-01-03\ndates = [2027-01-01]")
    error = error_of(both)
    assert error.code == "workday_file_field_invalid"
    assert error.details["field"] == "holidays[0]"
    assert error.details["line"] == 4


def test_date_outside_the_year() -> None:
    error = error_of(MINIMAL.replace("2027-02-20]", "2028-02-19]"))
    assert error.code == "workday_date_outside_year"
    assert error.details["field"] == "holidays[1].workdays[1]"
    assert error.details["line"] == 13
    assert "2028-02-19" in error.message_en


def test_reversed_range() -> None:
    error = error_of(MINIMAL.replace('end = "2027-02-11"', 'end = "2027-02-01"'))
    assert error.code == "workday_range_reversed"
    assert error.details["field"] == "holidays[1].end"


def test_makeup_workday_must_be_a_weekend_day() -> None:
    error = error_of(MINIMAL.replace("2027-02-20]", "2027-02-22]"))  # a Monday
    assert error.code == "workday_makeup_not_weekend"
    assert error.details["field"] == "holidays[1].workdays[1]"
    assert error.details["date"] == "2027-02-22"


def test_date_both_holiday_and_workday() -> None:
    error = error_of(MINIMAL.replace("2027-01-31, 2027-02-20", "2027-01-31, 2027-02-06"))
    assert error.code == "workday_date_conflict"
    assert error.details["date"] == "2027-02-06"


def test_date_listed_twice() -> None:
    error = error_of(MINIMAL.replace("dates = [2027-04-05,", "dates = [2027-02-08, 2027-04-05,"))
    assert error.code == "workday_date_duplicate"
    assert error.details["field"] == "holidays[2]"


def test_a_file_cannot_make_a_statutory_holiday_a_workday() -> None:
    error = error_of(MINIMAL.replace("start = 2027-01-01", "start = 2027-01-02"))
    assert error.code == "workday_statutory_holiday_missing"
    assert error.details["dates"] == ["2027-01-01"]
    assert "元旦" in error.message_zh


def test_years_before_the_2024_revision_are_not_held_to_it() -> None:
    text = 'year = 2024\n[[holidays]]\nname = "元旦"\ndates = [2024-01-01]\n'
    assert parse_arrangement(text).holidays == {date(2024, 1, 1): "元旦"}
