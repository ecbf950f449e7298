"""Insight use cases: load the case event log through the cases domain and analyse it.

Only the center admin reads these analyses. The event log carries no personal data
(cases.eventlog exports no applicant, note or payload), so nothing here is audited.
Never commits.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

import polars as pl
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.cases import service as case_service
from tongban.errors import Forbidden, Invalid
from tongban.insight import mining
from tongban.insight.schemas import (
    Bottleneck,
    BottleneckReport,
    DeadlineRisk,
    Edge,
    Handoff,
    ProcessMap,
    Rework,
    SpecialTime,
    StepTime,
)
from tongban.kit.clock import SHANGHAI, local_today, now

DEFAULT_PERIOD_DAYS = 180
MAX_PERIOD_DAYS = 3 * 366
Row = TypeVar("Row", bound=BaseModel)


def _require_reader(actor: Actor) -> None:
    if not actor.can("insight.read"):
        raise Forbidden(
            "forbidden",
            "您的角色无权执行此操作。",
            "Your role may not do this.",
            details={"permission": "insight.read", "role": actor.role.value},
        )


# Periods the platform can hold data for (far dates would overflow the period arithmetic).
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)


def period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    """The requested period in Beijing days (both ends included); default the last 180 days."""
    last = date_to or local_today()
    if not EARLIEST_DAY <= last <= LATEST_DAY or not (
        date_from is None or EARLIEST_DAY <= date_from <= LATEST_DAY
    ):
        raise Invalid(
            "period_out_of_range",
            f"统计期间须在 {EARLIEST_DAY} 至 {LATEST_DAY} 之间。",
            f"The period must lie between {EARLIEST_DAY} and {LATEST_DAY}.",
            details={"from": date_from and date_from.isoformat(), "to": last.isoformat()},
        )
    first = date_from or last - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if first > last or (last - first).days >= MAX_PERIOD_DAYS:
        raise Invalid(
            "invalid_period",
            f"统计期间须为起止日期有序且不超过 {MAX_PERIOD_DAYS} 天。",
            f"The period must run forward and span at most {MAX_PERIOD_DAYS} days.",
            details={"from": first.isoformat(), "to": last.isoformat()},
        )
    return first, last


def _beijing_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), SHANGHAI)


def load_events(
    session: Session, *, actor: Actor, date_from: date, date_to: date, item_code: str | None
) -> pl.DataFrame:
    """The events of the cases submitted in the period, as ``mining``'s event table."""
    batches = [
        mining.event_frame(columns)
        for columns in case_service.event_log(
            session,
            actor=actor,
            since=_beijing_midnight(date_from),
            until=_beijing_midnight(date_to + timedelta(days=1)),
            item_code=item_code,
        )
    ]
    if not batches:
        return pl.DataFrame(schema=mining.EVENT_SCHEMA)
    return pl.concat(batches, rechunk=True)


def _rows(model: type[Row], frame: pl.DataFrame) -> list[Row]:
    return [model.model_validate(row) for row in frame.iter_rows(named=True)]


def _counts(events: pl.DataFrame) -> dict[str, Any]:
    return {"cases": events["case"].n_unique(), "events": events.height}


def bottleneck_report(
    session: Session,
    *,
    actor: Actor,
    date_from: date | None = None,
    date_to: date | None = None,
    item_code: str | None = None,
    top: int = 20,
) -> BottleneckReport:
    _require_reader(actor)
    first, last = period(date_from, date_to)
    events = load_events(session, actor=actor, date_from=first, date_to=last, item_code=item_code)
    as_of = now()
    analysis = mining.analyse(events, mining.Options(as_of=as_of, top=top))
    return BottleneckReport(
        date_from=first,
        date_to=last,
        item_code=item_code,
        as_of=as_of,
        **_counts(events),
        bottlenecks=_rows(Bottleneck, analysis.bottlenecks),
        steps=_rows(StepTime, analysis.steps),
        rework=_rows(Rework, analysis.rework),
        handoffs=_rows(Handoff, analysis.handoffs),
        special=_rows(SpecialTime, analysis.special),
        deadlines=_rows(DeadlineRisk, analysis.deadlines),
    )


def process_map(
    session: Session,
    *,
    actor: Actor,
    date_from: date | None = None,
    date_to: date | None = None,
    item_code: str | None = None,
) -> ProcessMap:
    """The directly-follows graph of an item (or of every case) in the period."""
    _require_reader(actor)
    first, last = period(date_from, date_to)
    events = load_events(session, actor=actor, date_from=first, date_to=last, item_code=item_code)
    starts, ends = mining.endpoints(events)
    return ProcessMap(
        date_from=first,
        date_to=last,
        item_code=item_code,
        **_counts(events),
        starts=starts,
        ends=ends,
        edges=_rows(Edge, mining.directly_follows(events)),
    )
