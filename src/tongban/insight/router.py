"""Process analysis endpoints (堵点分析), for the center admin."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from tongban.access.dependencies import CurrentActor
from tongban.deps import SessionDep
from tongban.insight import service
from tongban.insight.schemas import BottleneckReport, ProcessMap

router = APIRouter(prefix="/insight", tags=["insight"])

DateFrom = Annotated[date | None, Query(alias="from", description="起始日（含），默认近 180 天")]
DateTo = Annotated[date | None, Query(alias="to", description="截止日（含），默认今天")]
ItemCode = Annotated[str | None, Query(max_length=64, description="事项或一件事编码")]


@router.get("/bottlenecks", response_model=BottleneckReport)
def bottlenecks(
    session: SessionDep,
    actor: CurrentActor,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    item_code: ItemCode = None,
    top: Annotated[int, Query(ge=1, le=200)] = 20,
) -> BottleneckReport:
    """Ranked bottlenecks and per-step times of the cases submitted in the period."""
    return service.bottleneck_report(
        session, actor=actor, date_from=date_from, date_to=date_to, item_code=item_code, top=top
    )


@router.get("/process-map", response_model=ProcessMap)
def process_map(
    session: SessionDep,
    actor: CurrentActor,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    item_code: ItemCode = None,
) -> ProcessMap:
    """The directly-follows graph (edges with frequency and hours) of an item."""
    return service.process_map(
        session, actor=actor, date_from=date_from, date_to=date_to, item_code=item_code
    )
