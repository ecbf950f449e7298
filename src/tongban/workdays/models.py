"""Administrator-loaded official arrangements, one row per year, overriding the package."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.db import Base, IdMixin, TimestampMixin

HOLIDAY = "holiday"
WORKDAY = "workday"  # a weekend day worked (调休上班)


class WorkdayYear(IdMixin, TimestampMixin, Base):
    """One loaded year; loading the year again replaces its dates and revision."""

    __tablename__ = "workday_years"

    year: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    notice: Mapped[str] = mapped_column(String(200), default="")
    source_file: Mapped[str] = mapped_column(String(255), default="")
    # A fresh random token on every load: processes compare the set of
    # (year, revision) pairs to know when their cached calendar is stale.
    revision: Mapped[str] = mapped_column(String(32))
    dates: Mapped[list[WorkdayDate]] = relationship(
        back_populates="year_row",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="WorkdayDate.day",
    )


class WorkdayDate(IdMixin, Base):
    """A holiday date or a make-up workday of a loaded year."""

    __tablename__ = "workday_dates"
    __table_args__ = (UniqueConstraint("year_id", "day", name="uq_workday_dates_year_day"),)

    year_id: Mapped[int] = mapped_column(ForeignKey("workday_years.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))  # HOLIDAY or WORKDAY
    name: Mapped[str] = mapped_column(String(64))  # the holiday it belongs to
    year_row: Mapped[WorkdayYear] = relationship(back_populates="dates")
