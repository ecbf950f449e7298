from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class WorkdayAddRead(BaseModel):
    """The date ``n`` working days after a start date."""

    date: date
    provisional: bool
    # The source that answers for the result's year; ``years`` lists every year consulted.
    source: str
    years: dict[int, str]


class YearSourceRead(BaseModel):
    year: int
    source: str  # loaded | package | provisional


class LoadedYearSummary(BaseModel):
    """What ``load_file`` stored."""

    year: int
    title: str
    holidays: int  # holiday dates listed (weekend days included)
    makeup_workdays: int
    replaced: bool  # the year had been loaded before
    source_file: str
