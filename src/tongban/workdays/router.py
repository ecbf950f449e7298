"""Public working-day endpoints (no authentication: the calendar is public information)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query

from tongban.deps import SessionDep
from tongban.errors import Invalid
from tongban.kit.clock import local_today
from tongban.kit.documented import ISO_DATE, pattern
from tongban.workdays import service
from tongban.workdays.schemas import WorkdayAddRead, YearSourceRead

router = APIRouter(tags=["workdays"])

FIRST_PACKAGE_YEAR = 2004


@router.get("/workdays/add", response_model=WorkdayAddRead)
def add(
    session: SessionDep,
    # Plain strings, parsed here, so that bad values get the domain's own error codes.
    # Any length: the parsers below refuse what is not a date or a count, with their codes.
    date_: str = Query(
        alias="date",
        description="起算日 YYYY-MM-DD（当日不计入）",
        json_schema_extra=pattern(ISO_DATE, format="date"),
    ),
    n: str = Query(description="工作日数，0 = 即办件", json_schema_extra=pattern(r"^[0-9]{1,9}$")),
) -> WorkdayAddRead:
    return service.add_workdays_report(session, start=_parse_date(date_), n=_parse_count(n))


@router.get("/workdays/years", response_model=list[YearSourceRead])
def years(session: SessionDep) -> list[YearSourceRead]:
    """Which source answers for each year from 2004 to the current year + 2."""
    last = local_today().year + 2
    sources = service.year_sources(session, range(FIRST_PACKAGE_YEAR, last + 1))
    return [YearSourceRead(year=year, source=source) for year, source in sources.items()]


def _parse_date(value: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(
            "invalid_date",
            f"日期格式应为 YYYY-MM-DD：{value}",
            f"The date must be YYYY-MM-DD: {value}",
            details={"field": "date", "value": value},
        ) from None


def _parse_count(value: str) -> int:
    value = value.strip()
    # Nine digits are plenty; longer strings would only make int() work hard.
    if not (value.isascii() and value.isdigit() and len(value) <= 9):
        raise Invalid(
            "invalid_workday_count",
            f"工作日数须为非负整数：{value}",
            f"The number of working days must be a non-negative integer: {value}",
            details={"field": "n", "value": value},
        )
    return int(value)
