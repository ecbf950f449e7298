"""Bottleneck report and process map as the API returns them (hours throughout)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class StepTime(BaseModel):
    item: str
    action: str
    office: str | None  # a department code, "window", or null (the applicant)
    n: int
    wait_median_h: float | None
    wait_p90_h: float | None
    work_median_h: float | None
    work_p90_h: float | None


class Bottleneck(BaseModel):
    item: str
    action: str
    office: str | None
    n: int
    median_h: float
    p90_h: float
    typical_h: float  # the same action's median over the whole period
    excess_h: float
    score: float  # n × excess_h: hours lost beyond the typical time


class Rework(BaseModel):
    item: str
    cases: int
    supplemented: int
    rework_cases: int  # sent back for materials twice or more
    requests: int
    max_per_case: int
    rework_rate: float


class Handoff(BaseModel):
    item: str
    from_office: str
    to_office: str
    n: int
    mean_h: float
    median_h: float
    p90_h: float


class SpecialTime(BaseModel):
    item: str
    cases: int
    procedures: int
    total_h: float
    median_h: float  # per case
    p90_h: float


class DeadlineRisk(BaseModel):
    item: str
    cases: int
    open: int
    over: int
    near: int
    over_rate: float


class BottleneckReport(BaseModel):
    date_from: date
    date_to: date
    item_code: str | None
    as_of: datetime
    cases: int
    events: int
    bottlenecks: list[Bottleneck]
    steps: list[StepTime]
    rework: list[Rework]
    handoffs: list[Handoff]
    special: list[SpecialTime]
    deadlines: list[DeadlineRisk]


class Edge(BaseModel):
    source: str
    target: str
    n: int
    mean_h: float
    median_h: float
    p90_h: float


class ProcessMap(BaseModel):
    date_from: date
    date_to: date
    item_code: str | None
    cases: int
    events: int
    starts: dict[str, int]
    ends: dict[str, int]
    edges: list[Edge]
