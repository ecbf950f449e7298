"""The arrangement file an administrator loads for a year (pure parsing and validation).

The format is documented in docs/workdays.md. Every problem is reported as an
Invalid error with a specific code and, where it can be found, the field path
and line, so that the administrator can fix the file without guessing.
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from tongban.errors import Invalid
from tongban.workdays.holidays import statutory_holidays
from tongban.workdays.rules import YearOverride

FIRST_LOADABLE_YEAR = 2000
LAST_LOADABLE_YEAR = 2099
# The 2024 revision of 全国年节及纪念日放假办法 applies from 2025 on; earlier
# years had other statutory days, so the completeness check starts there.
STATUTORY_CHECK_FROM = 2025
_TOP_KEYS = {"year", "title", "notice", "holidays"}
_HOLIDAY_KEYS = {"name", "start", "end", "dates", "workdays"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TOML_POSITION = re.compile(r"at line (\d+), column (\d+)")
_HOLIDAYS_HEADER = re.compile(r"\s*\[\[\s*holidays\s*\]\]")

# Template values that are only there for the messages, not for details.
_MESSAGE_ONLY = {"zh", "en", "listed", "listed_en"}

# code → (Chinese, English) message templates, formatted with the error's details.
FILE_ERRORS: dict[str, tuple[str, str]] = {
    "workday_file_syntax": (
        "文件不是合法的 TOML：{reason}",
        "The file is not valid TOML: {reason}",
    ),
    "workday_file_unknown_field": ("未知字段", "unknown field"),
    "workday_file_year_invalid": (
        f"年份必须是 {FIRST_LOADABLE_YEAR}–{LAST_LOADABLE_YEAR} 之间的整数",
        f"year must be an integer from {FIRST_LOADABLE_YEAR} to {LAST_LOADABLE_YEAR}",
    ),
    "workday_file_field_invalid": ("{zh}", "{en}"),
    "workday_date_invalid": ("不是有效日期（YYYY-MM-DD）：{value}", "not a valid date: {value}"),
    "workday_date_outside_year": ("日期 {date} 不在 {year} 年内", "date {date} is outside {year}"),
    "workday_range_reversed": ("结束日期早于开始日期", "end is before start"),
    "workday_date_duplicate": ("{date} 重复列出", "{date} is listed twice"),
    "workday_date_conflict": (
        "{date} 既是假日又是上班日",
        "{date} is both a holiday and a workday",
    ),
    "workday_makeup_not_weekend": (
        "调休上班日 {date} 不是周末",
        "make-up workday {date} is not a Saturday or Sunday",
    ),
    "workday_statutory_holiday_missing": (
        "法定节假日未放假：{listed}",
        "statutory holidays are not days off: {listed_en}",
    ),
}


def file_error(
    code: str, *, field: str | None = None, line: int | None = None, **info: Any
) -> Invalid:
    """An Invalid for a bad arrangement file, pointing at the field and line when known."""
    zh, en = FILE_ERRORS[code]
    zh, en = zh.format(**info), en.format(**info)
    if field:
        zh, en = f"{field}：{zh}", f"{field}: {en}"
    if line:
        zh, en = f"{zh}（第 {line} 行）", f"{en} (line {line})"
    info = {k: v for k, v in info.items() if k not in _MESSAGE_ONLY}
    return Invalid(code, zh, en, details={"field": field, "line": line, **info})


def parse_arrangement(text: str) -> YearOverride:
    """Parse and validate an arrangement file; raise Invalid with a specific code."""
    return _ArrangementParser(text).parse()


class _ArrangementParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines()
        self.headers = [i for i, line in enumerate(self.lines) if _HOLIDAYS_HEADER.match(line)]

    def line_of(self, index: int | None, key: str | None) -> int | None:
        """1-based line of ``key`` at top level (index None) or in the index-th [[holidays]]."""
        if index is None:
            block = range(self.headers[0] if self.headers else len(self.lines))
        elif index < len(self.headers):
            end = self.headers[index + 1] if index + 1 < len(self.headers) else len(self.lines)
            block = range(self.headers[index] + 1, end)
        else:  # an inline array of tables: no header to point at
            return None
        for i in block if key else ():
            if re.match(rf"\s*{re.escape(key or '')}\s*=", self.lines[i]):
                return i + 1
        return self.headers[index] + 1 if index is not None else None

    def fail(self, code: str, index: int | None, key: str | None, **info: Any) -> Invalid:
        path = key or ""
        if index is not None:
            path = f"holidays[{index}]" + (f".{key}" if key else "")
        if "position" in info:
            path += f"[{info.pop('position')}]"
        return file_error(code, field=path or None, line=self.line_of(index, key), **info)

    def parse(self) -> YearOverride:
        try:
            data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            match = _TOML_POSITION.search(str(exc))
            line, column = (int(match[1]), int(match[2])) if match else (None, None)
            raise file_error(
                "workday_file_syntax", line=line, column=column, reason=str(exc)
            ) from None
        unknown = sorted(data.keys() - _TOP_KEYS)
        if unknown:
            raise self.fail("workday_file_unknown_field", None, unknown[0])
        year = data.get("year")
        if type(year) is not int or not FIRST_LOADABLE_YEAR <= year <= LAST_LOADABLE_YEAR:
            raise self.fail("workday_file_year_invalid", None, "year", value=repr(year))
        title = self.text_field(data, None, "title")
        notice = self.text_field(data, None, "notice")
        entries = data.get("holidays")
        if not (
            isinstance(entries, list) and entries and all(isinstance(e, dict) for e in entries)
        ):
            raise self.fail(
                "workday_file_field_invalid",
                None,
                "holidays",
                zh="缺少节假日列表 [[holidays]]",
                en="missing the [[holidays]] list",
            )
        holidays: dict[date, str] = {}
        workdays: dict[date, str] = {}
        for index, entry in enumerate(entries):
            self.parse_entry(year, index, entry, holidays, workdays)
        self.check_statutory(year, holidays, workdays)
        return YearOverride(year, holidays, workdays, title=title, notice=notice)

    def text_field(self, table: dict[str, Any], index: int | None, key: str) -> str:
        value = table.get(key, "")
        if not isinstance(value, str):
            raise self.fail(
                "workday_file_field_invalid", index, key, zh="必须是字符串", en="must be a string"
            )
        return value.strip()

    def parse_entry(
        self,
        year: int,
        index: int,
        entry: dict[str, Any],
        holidays: dict[date, str],
        workdays: dict[date, str],
    ) -> None:
        unknown = sorted(entry.keys() - _HOLIDAY_KEYS)
        if unknown:
            raise self.fail("workday_file_unknown_field", index, unknown[0])
        name = self.text_field(entry, index, "name")
        if not name:
            raise self.fail(
                "workday_file_field_invalid",
                index,
                "name",
                zh="缺少节日名称",
                en="missing the holiday name",
            )
        if ("dates" in entry) == ("start" in entry) or ("end" in entry and "start" not in entry):
            raise self.fail(
                "workday_file_field_invalid",
                index,
                None,
                zh="须给出 start（可加 end）或 dates 二者之一",
                en="give either start (optionally with end) or dates",
            )
        if "dates" in entry:
            days = self.date_list(year, index, entry, "dates")
        else:
            first = self.date_value(year, index, "start", entry["start"])
            last = self.date_value(year, index, "end", entry.get("end", first))
            if last < first:
                raise self.fail("workday_range_reversed", index, "end")
            days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        for d in days:
            if d in holidays:
                raise self.fail("workday_date_duplicate", index, None, date=d.isoformat())
            holidays[d] = name
        for position, d in enumerate(self.date_list(year, index, entry, "workdays")):
            if d.weekday() < 5:
                raise self.fail(
                    "workday_makeup_not_weekend",
                    index,
                    "workdays",
                    position=position,
                    date=d.isoformat(),
                )
            if d in workdays:
                raise self.fail(
                    "workday_date_duplicate",
                    index,
                    "workdays",
                    position=position,
                    date=d.isoformat(),
                )
            workdays[d] = name
        both = sorted(workdays.keys() & holidays.keys())
        if both:
            raise self.fail("workday_date_conflict", index, None, date=both[0].isoformat())

    def date_list(self, year: int, index: int, entry: dict[str, Any], key: str) -> list[date]:
        values = entry.get(key, [])
        if not isinstance(values, list):
            raise self.fail(
                "workday_file_field_invalid",
                index,
                key,
                zh="必须是日期列表",
                en="must be a list of dates",
            )
        return [self.date_value(year, index, key, v, i) for i, v in enumerate(values)]

    def date_value(
        self, year: int, index: int, key: str, value: Any, position: int | None = None
    ) -> date:
        where: dict[str, Any] = {} if position is None else {"position": position}
        if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
            with contextlib.suppress(ValueError):  # 2027-02-30 stays a string: reported below
                value = date.fromisoformat(value.strip())
        # TOML datetimes are date subclasses: a time of day has no place here.
        if not isinstance(value, date) or isinstance(value, datetime):
            raise self.fail("workday_date_invalid", index, key, value=str(value), **where)
        if value.year != year:
            raise self.fail(
                "workday_date_outside_year", index, key, date=value.isoformat(), year=year, **where
            )
        return value

    def check_statutory(
        self, year: int, holidays: Mapping[date, str], workdays: Mapping[date, str]
    ) -> None:
        """Every statutory day must be a day off: a file never makes 1 January a workday."""
        if year < STATUTORY_CHECK_FROM:
            return
        missing = [
            (d, name)
            for d, name in sorted(statutory_holidays(year).items())
            if d in workdays or (d.weekday() < 5 and d not in holidays)
        ]
        if missing:
            raise file_error(
                "workday_statutory_holiday_missing",
                field="holidays",
                listed="、".join(f"{d}（{name}）" for d, name in missing),
                listed_en=", ".join(d.isoformat() for d, _ in missing),
                dates=[d.isoformat() for d, _ in missing],
            )
