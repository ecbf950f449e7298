"""Process mining over a case event log (堵点分析). Pure polars: no database, no clock.

The input is one row per case event with the columns of ``EVENT_SCHEMA``. Events are
ordered by ``(case, seq)`` — the explicit per-case sequence number — and never by
timestamp alone: two events written in the same instant keep the order the case
gave them. Every interval between two consecutive events of a case is a *step*,
named by the action that ended it and the office that performed that action.
The measures and the bottleneck score are described in docs/insight.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

EVENT_SCHEMA: dict[str, pl.DataType] = {
    "case": pl.String(),
    "item": pl.String(),
    "seq": pl.Int64(),
    "at": pl.Datetime("us", "UTC"),
    "action": pl.String(),
    "from_state": pl.String(),
    "department": pl.String(),  # the acting user's department; null for the window or applicant
    "actor_role": pl.String(),
    "deadline_at": pl.Datetime("us", "UTC"),
}
REQUIRED_COLUMNS = ("case", "item", "seq", "at", "action")

# What the case was waiting on while it sat in a state (the state before an event).
QUEUE_STATES = ("submitted",)  # with the window, nobody has picked it up yet
APPLICANT_STATES = ("supplement", "review_supplement")  # waiting for the applicant's materials
SPECIAL_STATES = ("suspended",)  # 特别程序: hearing, inspection, expert review …
PAUSED_STATES = ("review_supplement", "suspended")  # the statutory clock does not run
TASK_ACTIONS = ("approve_task", "deny_task")  # parallel department tasks, started at acceptance
SUPPLEMENT_REQUEST = "request_supplement"
CLOCK_STOPS = ("decide", "withdraw", "refuse")
WINDOW = "window"  # the office of staff without a department: the service center's window

_HOUR_US = 3_600_000_000


@dataclass(frozen=True)
class Options:
    as_of: datetime  # "now" for open cases; passed in so that the module stays pure
    min_cases: int = 5  # a step seen fewer times is too thin to rank
    near_deadline_hours: float = 24.0
    top: int = 20


@dataclass(frozen=True)
class Analysis:
    steps: pl.DataFrame
    bottlenecks: pl.DataFrame
    rework: pl.DataFrame
    handoffs: pl.DataFrame
    special: pl.DataFrame
    deadlines: pl.DataFrame


def event_frame(columns: dict[str, list[object]] | pl.DataFrame) -> pl.DataFrame:
    """The event table with every column of ``EVENT_SCHEMA`` (optional ones filled null)."""
    frame = columns if isinstance(columns, pl.DataFrame) else pl.DataFrame(columns)
    missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
    if missing:
        raise ValueError(f"event table lacks columns: {missing}")
    return frame.select(
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in EVENT_SCHEMA.items()
    )


def _hours(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_microseconds() / _HOUR_US


def by_case_and_seq(events: pl.DataFrame) -> pl.DataFrame:
    """The events in (case, seq) order, cases contiguous.

    Sorting on a 64-bit hash of the case number is about twice as fast as on the
    string itself; a hash shared by two cases (which would interleave them) is
    detected and answered with the plain sort.
    """
    key = pl.col("case").hash(seed=20_26)
    ordered = events.with_columns(_key=key).sort("_key", "seq")
    collided = (pl.col("case") != pl.col("case").shift(1)) & (
        pl.col("_key") == pl.col("_key").shift(1)
    )
    if ordered.select(collided.any()).item():
        ordered = ordered.sort("case", "seq")
    return ordered.drop("_key")


def intervals(events: pl.DataFrame) -> pl.DataFrame:
    """Each event with its predecessor in the same case (by seq) and the time between them.

    Adds ``prev_action``, ``prev_at``, ``gap_h`` (null on a case's first event) and
    ``office`` (the department, else ``window`` for staff, null for the applicant).
    """
    ordered = by_case_and_seq(events)
    same_case = pl.col("case") == pl.col("case").shift(1)
    office = (
        pl.when(pl.col("department").is_not_null())
        .then(pl.col("department"))
        .when(pl.col("actor_role") == "applicant")
        .then(pl.lit(None, pl.String))
        .otherwise(pl.lit(WINDOW))
    )
    return ordered.with_columns(
        office=office,
        prev_action=pl.when(same_case).then(pl.col("action").shift(1)),
        prev_at=pl.when(same_case).then(pl.col("at").shift(1)),
    ).with_columns(
        prev_office=pl.when(same_case).then(pl.col("office").shift(1)),
        gap_h=_hours(pl.col("at"), pl.col("prev_at")),
    )


def directly_follows(events: pl.DataFrame, item: str | None = None) -> pl.DataFrame:
    """The directly-follows graph: edges with frequency and mean/median/p90 hours."""
    if item is not None:
        events = events.filter(pl.col("item") == item)
    edges = intervals(events.select("case", "seq", "at", "action", "department", "actor_role"))
    return (
        edges.filter(pl.col("prev_action").is_not_null())
        .group_by(source=pl.col("prev_action"), target=pl.col("action"))
        .agg(
            n=pl.len(),
            mean_h=pl.col("gap_h").mean(),
            median_h=pl.col("gap_h").median(),
            p90_h=pl.col("gap_h").quantile(0.9, "linear"),
        )
        .sort("n", "source", "target", descending=[True, False, False])
    )


def endpoints(
    events: pl.DataFrame, item: str | None = None
) -> tuple[dict[str, int], dict[str, int]]:
    """How many cases start and (so far) end with each activity."""
    if item is not None:
        events = events.filter(pl.col("item") == item)
    ordered = by_case_and_seq(events).group_by("case", maintain_order=True)
    bounds = ordered.agg(first=pl.col("action").first(), last=pl.col("action").last())

    def count(column: str) -> dict[str, int]:
        rows = bounds.group_by(column).len().iter_rows()
        return {str(name): int(n) for name, n in rows}

    return count("first"), count("last")


def classified(events: pl.DataFrame) -> pl.DataFrame:
    """Steps with a ``kind`` (queue/applicant/special/work) and a ``duration_h``.

    A department task's duration runs from acceptance (when the parallel tasks were
    created) to the department's decision, less the paused time in between, so a
    slow department is not hidden behind a faster one that acted first.
    """
    steps = intervals(events)
    paused = pl.when(pl.col("from_state").is_in(PAUSED_STATES)).then(pl.col("gap_h")).otherwise(0.0)
    steps = steps.with_columns(paused_h=paused.fill_null(0.0).cum_sum().over("case"))
    accepts = (
        steps.filter(pl.col("action") == "accept")
        .group_by("case")
        .agg(accept_at=pl.col("at").first(), accept_paused_h=pl.col("paused_h").first())
    )
    task_net = _hours(pl.col("at"), pl.col("accept_at")) - (
        pl.col("paused_h") - pl.col("accept_paused_h")
    )
    kind = (
        pl.when(pl.col("from_state").is_in(SPECIAL_STATES))
        .then(pl.lit("special"))
        .when(pl.col("from_state").is_in(APPLICANT_STATES))
        .then(pl.lit("applicant"))
        .when(pl.col("from_state").is_in(QUEUE_STATES))
        .then(pl.lit("queue"))
        .otherwise(pl.lit("work"))
    )
    is_task = pl.col("action").is_in(TASK_ACTIONS) & pl.col("accept_at").is_not_null()
    return (
        steps.join(accepts, on="case", how="left")
        .filter(pl.col("prev_action").is_not_null())
        .with_columns(
            kind=kind,
            duration_h=pl.when(is_task).then(task_net).otherwise(pl.col("gap_h")),
        )
    )


def _spread(value: pl.Expr, prefix: str) -> list[pl.Expr]:
    return [
        value.median().alias(f"{prefix}_median_h"),
        value.quantile(0.9, "linear").alias(f"{prefix}_p90_h"),
    ]


def step_times(steps: pl.DataFrame) -> pl.DataFrame:
    """Per item × step (action, office): waiting and processing hours, median and p90.

    Waiting is time in a queue or with the applicant before the step; processing is
    time the office held the case. Special procedures are reported apart.
    """
    waiting = pl.col("duration_h").filter(pl.col("kind").is_in(("queue", "applicant")))
    working = pl.col("duration_h").filter(pl.col("kind") == "work")
    return (
        steps.filter(pl.col("kind") != "special")
        .group_by("item", "action", "office")
        .agg(pl.len().alias("n"), *_spread(waiting, "wait"), *_spread(working, "work"))
        .sort("item", "action", "office", nulls_last=True)
    )


def bottlenecks(steps: pl.DataFrame, options: Options) -> pl.DataFrame:
    """Steps ranked by the hours cases spent in them beyond what the action typically takes.

    ``typical_h`` is the median office time (queue + processing) of the same action
    over the whole log; ``score = n × max(0, median_h − typical_h)``: the excess
    hours, summed over the step's cases at the step's median (robust to outliers).
    """
    office_time = steps.filter(pl.col("kind").is_in(("queue", "work")))
    typical = office_time.group_by("action").agg(typical_h=pl.col("duration_h").median())
    return (
        office_time.group_by("item", "action", "office")
        .agg(
            n=pl.len(),
            median_h=pl.col("duration_h").median(),
            p90_h=pl.col("duration_h").quantile(0.9, "linear"),
        )
        .filter(pl.col("n") >= options.min_cases)
        .join(typical, on="action")
        .with_columns(excess_h=(pl.col("median_h") - pl.col("typical_h")).clip(lower_bound=0.0))
        .with_columns(score=pl.col("n") * pl.col("excess_h"))
        .filter(pl.col("score") > 0)
        .sort("score", "item", "action", descending=[True, False, False])
        .head(options.top)
    )


def rework(events: pl.DataFrame) -> pl.DataFrame:
    """Per item: supplement requests per case and the cases sent back more than once."""
    per_case = events.group_by("item", "case").agg(
        requests=(pl.col("action") == SUPPLEMENT_REQUEST).sum()
    )
    return (
        per_case.group_by("item")
        .agg(
            cases=pl.len(),
            supplemented=(pl.col("requests") >= 1).sum(),
            rework_cases=(pl.col("requests") >= 2).sum(),
            requests=pl.col("requests").sum(),
            max_per_case=pl.col("requests").max(),
        )
        .with_columns(rework_rate=pl.col("rework_cases") / pl.col("cases"))
        .sort("rework_cases", "item", descending=[True, False])
    )


def handoffs(steps: pl.DataFrame) -> pl.DataFrame:
    """Per item × (from office → to office): how often a case changed hands and how long it took."""
    moved = steps.filter(
        pl.col("prev_office").is_not_null()
        & pl.col("office").is_not_null()
        & (pl.col("prev_office") != pl.col("office"))
    )
    return (
        moved.group_by("item", from_office=pl.col("prev_office"), to_office=pl.col("office"))
        .agg(
            n=pl.len(),
            mean_h=pl.col("gap_h").mean(),
            median_h=pl.col("gap_h").median(),
            p90_h=pl.col("gap_h").quantile(0.9, "linear"),
        )
        .sort("median_h", "n", descending=[True, True])
    )


def special_time(steps: pl.DataFrame) -> pl.DataFrame:
    """Per item: time lost to special procedures (start_special → finish_special), per case."""
    per_case = (
        steps.filter(pl.col("kind") == "special")
        .group_by("item", "case")
        .agg(hours=pl.col("gap_h").sum(), procedures=pl.len())
    )
    return (
        per_case.group_by("item")
        .agg(
            cases=pl.len(),
            procedures=pl.col("procedures").sum(),
            total_h=pl.col("hours").sum(),
            median_h=pl.col("hours").median(),
            p90_h=pl.col("hours").quantile(0.9, "linear"),
        )
        .sort("total_h", descending=True)
    )


def deadlines(events: pl.DataFrame, options: Options) -> pl.DataFrame:
    """Per item: cases over their deadline, and open cases within the warning window of it.

    The clock stops at the decision (or a withdrawal); an open case is measured at
    ``options.as_of``.
    """
    as_of = pl.lit(options.as_of).cast(pl.Datetime("us", "UTC"))
    stop = pl.col("at").filter(pl.col("action").is_in(CLOCK_STOPS)).min()
    per_case = (
        events.group_by("item", "case")
        .agg(deadline=pl.col("deadline_at").drop_nulls().last(), stopped_at=stop)
        .filter(pl.col("deadline").is_not_null())
        .with_columns(end=pl.coalesce(pl.col("stopped_at"), as_of))
        .with_columns(
            over=pl.col("end") > pl.col("deadline"),
            near=pl.col("stopped_at").is_null()
            & (pl.col("deadline") >= as_of)
            & (_hours(pl.col("deadline"), as_of) <= options.near_deadline_hours),
        )
    )
    return (
        per_case.group_by("item")
        .agg(
            cases=pl.len(),
            open=pl.col("stopped_at").is_null().sum(),
            over=pl.col("over").sum(),
            near=pl.col("near").sum(),
        )
        .with_columns(over_rate=pl.col("over") / pl.col("cases"))
        .sort("over", "near", "item", descending=[True, True, False])
    )


def analyse(events: pl.DataFrame, options: Options) -> Analysis:
    steps = classified(events)
    return Analysis(
        steps=step_times(steps),
        bottlenecks=bottlenecks(steps, options),
        rework=rework(events),
        handoffs=handoffs(steps),
        special=special_time(steps),
        deadlines=deadlines(events, options),
    )
