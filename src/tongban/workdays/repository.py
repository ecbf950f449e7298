"""Every query of the workdays domain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tongban.workdays.models import WorkdayYear

# Built once: it runs in every transaction that computes a deadline.
_REVISIONS = select(WorkdayYear.year, WorkdayYear.revision).order_by(WorkdayYear.year)


def revisions(session: Session) -> tuple[tuple[int, str], ...]:
    """(year, revision) of every loaded year: cheap, tells whether a cache is current."""
    rows = session.execute(_REVISIONS)
    return tuple((year, revision) for year, revision in rows)


def loaded_years(session: Session) -> list[WorkdayYear]:
    query = select(WorkdayYear).options(selectinload(WorkdayYear.dates)).order_by(WorkdayYear.year)
    return list(session.scalars(query))


def year(session: Session, year: int) -> WorkdayYear | None:
    return session.scalar(
        select(WorkdayYear).options(selectinload(WorkdayYear.dates)).where(WorkdayYear.year == year)
    )
