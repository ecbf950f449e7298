"""The half-year report's data: every indicator for the period and the previous period
of equal length, per department, the departments below target and the top bottlenecks.

Reads other domains through their service modules only; never commits. Only the
center admin builds it (the same permission as the bottleneck analysis).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.cases import service as case_service
from tongban.catalog import service as catalog_service
from tongban.feedback import stats as feedback_stats
from tongban.insight import indicators, service
from tongban.insight.indicators import Indicator, ItemFacts, System
from tongban.insight.schemas import Bottleneck
from tongban.kit.clock import now
from tongban.regions.rules import region_prefix
from tongban.workdays import service as workdays_service

CATALOG_PAGE = 100


@dataclass(frozen=True)
class Row:
    """One indicator in the report: this period, the previous one, and the change."""

    indicator: Indicator
    value: float | None
    previous: float | None
    numerator: float | None
    denominator: float | None

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, 2)

    @property
    def meets(self) -> bool | None:
        return self.indicator.meets(self.value)

    @property
    def improved(self) -> bool | None:
        """Did the figure move the right way (by the indicator's direction)?"""
        if self.change is None or self.change == 0:
            return None
        return (self.change > 0) == (self.indicator.direction == "higher")


@dataclass(frozen=True)
class Shortfall:
    department_code: str
    department_name: str
    indicator: Indicator
    value: float


@dataclass
class Report:
    date_from: date
    date_to: date
    previous_from: date
    previous_to: date
    as_of: datetime
    region_code: str | None
    department_code: str | None
    system: System
    rows: list[Row]
    cases: int
    previous_cases: int
    by_department: dict[str, dict[str, float | None]] = field(default_factory=dict)
    department_names: dict[str, str] = field(default_factory=dict)
    shortfalls: list[Shortfall] = field(default_factory=list)
    bottlenecks: list[Bottleneck] = field(default_factory=list)


def _item_facts(session: Session) -> dict[str, ItemFacts]:
    """Visits and online depth of every item; a bundle takes its least convenient item."""
    facts: dict[str, ItemFacts] = {}
    page = 1
    while True:
        listing = catalog_service.list_items(session, page=page, size=CATALOG_PAGE)
        for item in listing.items:
            facts[item.code] = ItemFacts(item.visits_required, item.online_depth)
        if page * CATALOG_PAGE >= listing.total:
            break
        page += 1
    for bundle in catalog_service.list_bundles(session):
        depths = {item.online_depth for item in bundle.items}
        facts[bundle.code] = ItemFacts(
            max((item.visits_required for item in bundle.items), default=0),
            "full_online" if depths == {"full_online"} else "online_apply",
        )
    return facts


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    return service._beijing_midnight(first), service._beijing_midnight(last + timedelta(days=1))


def _scope(frame: pl.DataFrame, region_code: str | None, department: str | None) -> pl.DataFrame:
    if region_code:
        frame = frame.filter(pl.col("region").str.starts_with(region_prefix(region_code)))
    if department:
        frame = frame.filter(pl.col("department") == department)
    return frame


def tables(
    session: Session,
    *,
    actor: Actor,
    first: date,
    last: date,
    region_code: str | None = None,
    department_code: str | None = None,
) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """The four summary tables of a period, and the names of the departments seen."""
    since, until = _bounds(first, last)
    as_of = min(now(), until)
    calendar = workdays_service.calendar(session)
    summary = case_service.case_summary(session, actor=actor, since=since, until=until)
    # A case of the period rated any time up to the report date counts as rated.
    rated = feedback_stats.ratings(session, actor=actor, since=since, until=as_of)["case"]
    frames = {
        "cases": indicators.case_table(
            summary,
            as_of=as_of,
            items=_item_facts(session),
            rated_cases=set(rated),
            workdays_between=lambda a, b: calendar.workdays_between(a, b).count,
        ),
        "ratings": indicators.rating_table(
            feedback_stats.ratings(session, actor=actor, since=since, until=until)
        ),
        "follow_ups": indicators.follow_up_table(
            feedback_stats.follow_ups(session, actor=actor, since=since, until=until), as_of=as_of
        ),
        "complaints": indicators.complaint_table(
            feedback_stats.complaints(session, actor=actor, since=since, until=until), as_of=as_of
        ),
    }
    names = dict(zip(summary["department"], summary["department_name"], strict=True))
    return {k: _scope(v, region_code, department_code) for k, v in frames.items()}, names


def build(
    session: Session,
    *,
    actor: Actor,
    date_from: date,
    date_to: date,
    region_code: str | None = None,
    department_code: str | None = None,
    top_bottlenecks: int = 10,
    system: System | None = None,
) -> Report:
    service._require_reader(actor)
    first, last = service.period(date_from, date_to)
    length = (last - first).days + 1
    previous_last = first - timedelta(days=1)
    previous_first = previous_last - timedelta(days=length - 1)
    system = system or indicators.load()
    scope: dict[str, Any] = {"region_code": region_code, "department_code": department_code}
    current, names = tables(session, actor=actor, first=first, last=last, **scope)
    previous, _ = tables(session, actor=actor, first=previous_first, last=previous_last, **scope)
    overall = indicators.compute(system, current)
    before = indicators.values(indicators.compute(system, previous))
    per_department = indicators.compute(system, current, by="department")
    rows = [
        Row(indicator, value, before.get(indicator.code), numerator, denominator)
        for indicator in system.indicators
        for value, numerator, denominator in [_figures(overall, indicator.code)]
    ]
    departments = sorted({k for k in per_department["key"].to_list() if k})
    return Report(
        date_from=first,
        date_to=last,
        previous_from=previous_first,
        previous_to=previous_last,
        as_of=min(now(), _bounds(first, last)[1]),
        region_code=region_code,
        department_code=department_code,
        system=system,
        rows=rows,
        cases=current["cases"].height,
        previous_cases=previous["cases"].height,
        by_department={d: indicators.values(per_department, d) for d in departments},
        department_names=names,
        shortfalls=[
            Shortfall(key, names.get(key, key), indicator, value)
            for key, indicator, value in indicators.below_target(system, per_department)
            if key
        ],
        bottlenecks=_bottlenecks(session, actor, first, last, top_bottlenecks, department_code),
    )


def _figures(result: pl.DataFrame, code: str) -> tuple[float | None, float | None, float | None]:
    row = result.filter((pl.col("key") == "") & (pl.col("code") == code)).row(0, named=True)
    return row["value"], row["numerator"], row["denominator"]


def _bottlenecks(
    session: Session, actor: Actor, first: date, last: date, top: int, department: str | None
) -> list[Bottleneck]:
    analysis = service.bottleneck_report(
        session, actor=actor, date_from=first, date_to=last, top=top
    )
    found = analysis.bottlenecks
    if department:
        found = [b for b in found if department in (b.office or "")]
    return found[:top]
