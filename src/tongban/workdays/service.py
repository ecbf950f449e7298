"""Working-day use cases: the calendar with loaded years, deadlines, loading a year."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from tongban.audit import service as audit_service
from tongban.errors import Invalid, NotFound
from tongban.events import CalendarChanged, publish
from tongban.workdays import repository
from tongban.workdays.arrangement import parse_arrangement
from tongban.workdays.models import HOLIDAY, WORKDAY, WorkdayDate, WorkdayYear
from tongban.workdays.rules import WorkCalendar, WorkdayCount, WorkdayResult, YearOverride
from tongban.workdays.schemas import LoadedYearSummary, WorkdayAddRead

# Longer than any statutory or promised limit (§42: 20 + 10 days; 45 + 15 for
# joint handling) by far, yet small enough that a public request cannot make
# the server count for long.
MAX_WORKDAYS = 2500
MAX_FILE_BYTES = 1024 * 1024

# Calendars by the (year, revision) pairs they were built from. The key changes
# whenever any process loads a year, so every worker notices on its next call.
_calendars: dict[tuple[tuple[int, str], ...], WorkCalendar] = {}
_calendars_lock = threading.Lock()
_CACHE_SIZE = 16


def calendar(session: Session) -> WorkCalendar:
    """The working-day calendar: loaded years over the package over the provisional rule."""
    key = repository.revisions(session)
    cached = _calendars.get(key)
    if cached is not None:
        return cached
    rows = repository.loaded_years(session)
    built = WorkCalendar({row.year: _override(row) for row in rows})
    # Key by what was actually read: a load committed between the two queries
    # must not leave an old calendar under the new key.
    key = tuple((row.year, row.revision) for row in rows)
    with _calendars_lock:
        if len(_calendars) >= _CACHE_SIZE:
            _calendars.clear()
        _calendars[key] = built
    return built


def _override(row: WorkdayYear) -> YearOverride:
    return YearOverride(
        year=row.year,
        holidays={d.day: d.name for d in row.dates if d.kind == HOLIDAY},
        workdays={d.day: d.name for d in row.dates if d.kind == WORKDAY},
        title=row.title,
        notice=row.notice,
    )


def add_workdays(session: Session, *, start: date, n: int) -> WorkdayResult:
    """The date ``n`` working days after ``start`` (start not counted; n == 0 → start)."""
    _check_count(n)
    try:
        return calendar(session).add_workdays(start, n)
    except OverflowError:
        raise _date_out_of_range(start) from None


def workdays_between(session: Session, *, start: date, end: date) -> WorkdayCount:
    """Working days d with start < d <= end."""
    return calendar(session).workdays_between(start, end)


def add_workdays_report(session: Session, *, start: date, n: int) -> WorkdayAddRead:
    """``add_workdays`` with the source of each year consulted (API and CLI)."""
    result = add_workdays(session, start=start, n=n)
    cal = calendar(session)
    first = (start + timedelta(days=1)).year if n else result.date.year
    return WorkdayAddRead(
        date=result.date,
        provisional=result.provisional,
        source=cal.source(result.date.year).value,
        years={year: cal.source(year).value for year in range(first, result.date.year + 1)},
    )


def year_sources(session: Session, years: Iterable[int]) -> dict[int, str]:
    """Which source answers for each year: "loaded", "package" or "provisional"."""
    cal = calendar(session)
    return {year: cal.source(year).value for year in years}


def load_file(session: Session, *, path: Path) -> LoadedYearSummary:
    """Load an official arrangement file; replaces an earlier load of the same year."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise Invalid(
                "workday_file_too_large",
                f"文件过大（上限 {MAX_FILE_BYTES // 1024} KB）：{path}",
                f"The file is too large (limit {MAX_FILE_BYTES // 1024} KB): {path}",
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise NotFound(
            "workday_file_not_found",
            f"无法读取文件：{path}",
            f"Cannot read the file: {path} ({exc.strerror})",
            details={"path": str(path)},
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(
            "workday_file_encoding",
            "文件须为 UTF-8 编码",
            "The file must be UTF-8 encoded",
            details={"path": str(path), "byte": exc.start},
        ) from None
    return load_text(session, text=text, source_file=path.name)


def load_text(session: Session, *, text: str, source_file: str = "") -> LoadedYearSummary:
    """Validate and store an arrangement given as text (the file format of docs/workdays.md).

    Nothing is written unless the whole file is valid. Publishes CalendarChanged
    so that open cases get their deadlines recomputed in this transaction.
    """
    override = parse_arrangement(text)
    row = repository.year(session, override.year)
    replaced = row is not None
    if row is None:
        row = WorkdayYear(year=override.year)
        session.add(row)
    else:
        # Flush the removals first: the new dates reuse (year_id, day) pairs.
        row.dates.clear()
        session.flush()
    row.title = override.title
    row.notice = override.notice[:200]
    row.source_file = source_file[:255]
    row.revision = secrets.token_hex(16)
    row.dates.extend(
        [WorkdayDate(day=d, kind=HOLIDAY, name=n) for d, n in sorted(override.holidays.items())]
        + [WorkdayDate(day=d, kind=WORKDAY, name=n) for d, n in sorted(override.workdays.items())]
    )
    session.flush()
    audit_service.record_action(
        session,
        actor=None,  # loaded by an operator from the command line
        action="workdays.load",
        subject_kind="calendar",
        subject_ref=str(override.year),
    )
    publish(session, CalendarChanged(years=(override.year,)))
    return LoadedYearSummary(
        year=override.year,
        title=override.title,
        holidays=len(override.holidays),
        makeup_workdays=len(override.workdays),
        replaced=replaced,
        source_file=row.source_file,
    )


def _check_count(n: int) -> None:
    if not 0 <= n <= MAX_WORKDAYS:
        raise Invalid(
            "workday_count_out_of_range",
            f"工作日数须在 0 到 {MAX_WORKDAYS} 之间：{n}",
            f"The number of working days must be from 0 to {MAX_WORKDAYS}: {n}",
            details={"n": n, "max": MAX_WORKDAYS},
        )


def _date_out_of_range(start: date) -> Invalid:
    return Invalid(
        "workday_date_out_of_range",
        f"日期超出可计算范围：{start}",
        f"The date is out of the supported range: {start}",
        details={"date": start.isoformat()},
    )
