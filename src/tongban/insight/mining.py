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
import polars.selectors as cs

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


# Columns that take few distinct values: categorical before the sort, so that the sort
# moves 32-bit codes instead of strings and the group-bys hash integers.
_LOW_CARDINALITY = ("item", "action", "from_state", "office")
_HASH_SEED = 20_26
_KIND = pl.Enum(["queue", "applicant", "special", "work"])  # an Enum costs no string per row


def _office() -> pl.Expr:
    return (
        pl.when(pl.col("department").is_not_null())
        .then(pl.col("department"))
        .when(pl.col("actor_role") == "applicant")
        .then(pl.lit(None, pl.String))
        .otherwise(pl.lit(WINDOW))
    )


def _ordered(events: pl.DataFrame, *, key_only: tuple[str, ...] = ()) -> pl.DataFrame:
    """The events in (case, seq) order with ``_case``: an integer case key, sorted.

    One sort on one unsigned 64-bit column, ``h × 2^b + (seq − min seq)`` where b is
    the bits of the seq span and h the case number's 64-bit hash cut to 64 − b bits —
    far cheaper than a sort on (case, seq). Should two cases share h (fewer keys than
    case numbers), the exact sort on their dense rank is used. The columns in
    ``key_only`` (e.g. case and seq) are dropped before the sort moves the rest.
    """
    if events.height == 0:
        return events.drop(key_only).with_columns(_case=pl.lit(0, pl.UInt64))
    low, high = events.select(low=pl.col("seq").min(), high=pl.col("seq").max()).row(0)
    seq_bits = max(1, int(high - low).bit_length())
    if seq_bits <= 32:  # else an implausible seq span: the exact sort
        step = 1 << seq_bits
        hashed = pl.col("case").hash(seed=_HASH_SEED) // step
        ordered = (
            events.with_columns(_sort=hashed * step + (pl.col("seq") - low).cast(pl.UInt64))
            .drop(key_only)
            .sort("_sort")
            .with_columns(_case=(pl.col("_sort") // step).set_sorted())
            .drop("_sort")
        )
        if ordered["_case"].n_unique() == events["case"].n_unique():
            return ordered
    keyed = events.with_columns(_case=pl.col("case").rank("dense").cast(pl.UInt64))
    return keyed.sort("_case", "seq").drop(key_only).with_columns(pl.col("_case").set_sorted())


def by_case_and_seq(events: pl.DataFrame) -> pl.DataFrame:
    """The events in (case, seq) order, cases contiguous."""
    return _ordered(events).drop("_case")


def _with_predecessors(ordered: pl.DataFrame) -> pl.DataFrame:
    same_case = pl.col("_case") == pl.col("_case").shift(1)
    return ordered.with_columns(
        prev_action=pl.when(same_case).then(pl.col("action").shift(1)),
        prev_at=pl.when(same_case).then(pl.col("at").shift(1)),
        prev_office=pl.when(same_case).then(pl.col("office").shift(1)),
    ).with_columns(gap_h=_hours(pl.col("at"), pl.col("prev_at")))


def _prepared(events: pl.DataFrame, *, every_column: bool = False) -> pl.DataFrame:
    """Every event in (case, seq) order with its office, predecessor and gap (``_case`` keyed).

    The few-valued text columns are categorical here. Only the columns the measures
    read are kept — the case number and seq serve the sort and are left behind (the
    integer ``_case`` stands for the case) — unless ``every_column``.
    """
    frame = events.with_columns(office=_office())
    if not every_column:
        frame = frame.select(
            "case", "seq", "at", "deadline_at", "item", "action", "from_state", "office"
        )
    categorical = frame.with_columns(pl.col(_LOW_CARDINALITY).cast(pl.Categorical))
    key_only = () if every_column else ("case", "seq")
    return _with_predecessors(_ordered(categorical, key_only=key_only))


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Categorical columns back to text (for tables that leave the module)."""
    return frame.with_columns((cs.categorical() | cs.enum()).cast(pl.String))


def intervals(events: pl.DataFrame) -> pl.DataFrame:
    """Each event with its predecessor in the same case (by seq) and the time between them.

    Adds ``prev_action``, ``prev_at``, ``gap_h`` (null on a case's first event) and
    ``office`` (the department, else ``window`` for staff, null for the applicant).
    """
    ordered = _ordered(events.with_columns(office=_office()))
    same_case = pl.col("_case") == pl.col("_case").shift(1)
    return (
        ordered.with_columns(
            prev_action=pl.when(same_case).then(pl.col("action").shift(1)),
            prev_at=pl.when(same_case).then(pl.col("at").shift(1)),
            prev_office=pl.when(same_case).then(pl.col("office").shift(1)),
        )
        .with_columns(gap_h=_hours(pl.col("at"), pl.col("prev_at")))
        .drop("_case")
    )


def _edges(prepared: pl.DataFrame) -> pl.DataFrame:
    return _as_text(
        prepared.filter(pl.col("prev_action").is_not_null())
        .group_by(source=pl.col("prev_action"), target=pl.col("action"))
        .agg(
            n=pl.len(),
            mean_h=pl.col("gap_h").mean(),
            median_h=pl.col("gap_h").median(),
            p90_h=pl.col("gap_h").quantile(0.9, "linear"),
        )
    ).sort("n", "source", "target", descending=[True, False, False])


def directly_follows(events: pl.DataFrame, item: str | None = None) -> pl.DataFrame:
    """The directly-follows graph: edges with frequency and mean/median/p90 hours."""
    if item is not None:
        events = events.filter(pl.col("item") == item)
    frame = events.select(
        "case", "seq", "at", pl.col("action").cast(pl.Categorical), office=pl.lit(None, pl.String)
    )
    return _edges(_with_predecessors(_ordered(frame, key_only=("case", "seq"))))


def endpoints(
    events: pl.DataFrame, item: str | None = None
) -> tuple[dict[str, int], dict[str, int]]:
    """How many cases start and (so far) end with each activity."""
    if item is not None:
        events = events.filter(pl.col("item") == item)
    frame = events.select("case", "seq", pl.col("action").cast(pl.Categorical))
    bounds = (
        _ordered(frame, key_only=("case", "seq"))
        .group_by("_case")
        .agg(first=pl.col("action").first(), last=pl.col("action").last())
    )

    def count(column: str) -> dict[str, int]:
        rows = bounds.group_by(column).len().iter_rows()
        return {str(name): int(n) for name, n in rows}

    return count("first"), count("last")


def _paused_so_far(prepared: pl.DataFrame) -> pl.Series:
    """Per event: the hours its case has been paused so far, this step included.

    The same float sums as a per-case running sum over every step, added in seq
    order, but run over the paused steps alone (a few per cent) and carried forward
    within the case: adding the other steps' 0.0 never changes a sum.
    """
    is_paused = pl.col("from_state").is_in(PAUSED_STATES) & pl.col("gap_h").is_not_null()
    rows = prepared.select(pl.arg_where(is_paused)).to_series()
    sums = prepared[rows].select(pl.col("gap_h").cum_sum().over("_case"), "_case")
    height = prepared.height
    carried = pl.DataFrame(
        {
            "sum": pl.repeat(None, height, dtype=pl.Float64, eager=True).scatter(
                rows, sums["gap_h"]
            ),
            "of": pl.repeat(None, height, dtype=pl.UInt64, eager=True).scatter(rows, sums["_case"]),
        }
    ).select(pl.all().forward_fill())
    own = carried["of"] == prepared["_case"]
    return carried.select(pl.when(own).then(pl.col("sum")).otherwise(0.0)).to_series()


def _classified(prepared: pl.DataFrame) -> pl.DataFrame:
    steps = prepared.with_columns(paused_h=_paused_so_far(prepared))
    is_accept = pl.col("action") == "accept"
    steps = steps.with_columns(
        accept_at=pl.col("at").filter(is_accept).first().over("_case"),
        accept_paused_h=pl.col("paused_h").filter(is_accept).first().over("_case"),
    )
    task_net = _hours(pl.col("at"), pl.col("accept_at")) - (
        pl.col("paused_h") - pl.col("accept_paused_h")
    )
    kind = (
        pl.when(pl.col("from_state").is_in(SPECIAL_STATES))
        .then(pl.lit("special", _KIND))
        .when(pl.col("from_state").is_in(APPLICANT_STATES))
        .then(pl.lit("applicant", _KIND))
        .when(pl.col("from_state").is_in(QUEUE_STATES))
        .then(pl.lit("queue", _KIND))
        .otherwise(pl.lit("work", _KIND))
    )
    is_task = pl.col("action").is_in(TASK_ACTIONS) & pl.col("accept_at").is_not_null()
    return steps.filter(pl.col("prev_action").is_not_null()).with_columns(
        kind=kind,
        duration_h=pl.when(is_task).then(task_net).otherwise(pl.col("gap_h")),
    )


def classified(events: pl.DataFrame) -> pl.DataFrame:
    """Steps with a ``kind`` (queue/applicant/special/work) and a ``duration_h``.

    A department task's duration runs from acceptance (when the parallel tasks were
    created) to the department's decision, less the paused time in between, so a
    slow department is not hidden behind a faster one that acted first.
    """
    return _as_text(_classified(_prepared(events, every_column=True))).drop("_case")


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
    table = (
        steps.filter(pl.col("kind") != "special")
        .group_by("item", "action", "office")
        .agg(pl.len().alias("n"), *_spread(waiting, "wait"), *_spread(working, "work"))
    )
    return _as_text(table).sort("item", "action", "office", nulls_last=True)


def bottlenecks(steps: pl.DataFrame, options: Options) -> pl.DataFrame:
    """Steps ranked by the hours cases spent in them beyond what the action typically takes.

    ``typical_h`` is the median office time (queue + processing) of the same action
    over the whole log; ``score = n × max(0, median_h − typical_h)``: the excess
    hours, summed over the step's cases at the step's median (robust to outliers).
    """
    office_time = steps.filter(pl.col("kind").is_in(("queue", "work")))
    typical = office_time.group_by("action").agg(typical_h=pl.col("duration_h").median())
    per_step = office_time.group_by("item", "action", "office").agg(
        n=pl.len(),
        median_h=pl.col("duration_h").median(),
        p90_h=pl.col("duration_h").quantile(0.9, "linear"),
    )
    return (
        _as_text(per_step)
        .filter(pl.col("n") >= options.min_cases)
        .join(_as_text(typical), on="action")
        .with_columns(excess_h=(pl.col("median_h") - pl.col("typical_h")).clip(lower_bound=0.0))
        .with_columns(score=pl.col("n") * pl.col("excess_h"))
        .filter(pl.col("score") > 0)
        .sort("score", "item", "action", descending=[True, False, False])
        .head(options.top)
    )


def _per_case(prepared: pl.DataFrame) -> pl.DataFrame:
    """Per item × case: supplement requests, the deadline and when the clock stopped.

    The deadline is the case's last one written (by seq); the clock stops at the
    first decision, withdrawal or refusal.
    """
    measures = {
        "requests": (pl.col("action") == SUPPLEMENT_REQUEST).sum(),
        "deadline": pl.col("deadline_at").drop_nulls().last(),
        "stopped_at": pl.col("at").filter(pl.col("action").is_in(CLOCK_STOPS)).min(),
    }
    item_changes = (pl.col("_case") == pl.col("_case").shift(1)) & (
        pl.col("item") != pl.col("item").shift(1)
    )
    if prepared.select(item_changes.any()).item():  # a case under two items counts in each
        return prepared.group_by("item", "_case").agg(**measures)
    # One item per case (the rule): group on the sorted case key alone, much cheaper.
    return prepared.group_by("_case").agg(pl.col("item").first(), **measures)


def _rework(per_case: pl.DataFrame) -> pl.DataFrame:
    table = per_case.group_by("item").agg(
        cases=pl.len(),
        supplemented=(pl.col("requests") >= 1).sum(),
        rework_cases=(pl.col("requests") >= 2).sum(),
        requests=pl.col("requests").sum(),
        max_per_case=pl.col("requests").max(),
    )
    return (
        _as_text(table)
        .with_columns(rework_rate=pl.col("rework_cases") / pl.col("cases"))
        .sort("rework_cases", "item", descending=[True, False])
    )


def rework(events: pl.DataFrame) -> pl.DataFrame:
    """Per item: supplement requests per case and the cases sent back more than once."""
    return _rework(_per_case(_prepared(events)))


def handoffs(steps: pl.DataFrame) -> pl.DataFrame:
    """Per item × (from office → to office): how often a case changed hands and how long it took."""
    moved = steps.filter(
        pl.col("prev_office").is_not_null()
        & pl.col("office").is_not_null()
        & (pl.col("prev_office") != pl.col("office"))
    )
    table = moved.group_by(
        "item", from_office=pl.col("prev_office"), to_office=pl.col("office")
    ).agg(
        n=pl.len(),
        mean_h=pl.col("gap_h").mean(),
        median_h=pl.col("gap_h").median(),
        p90_h=pl.col("gap_h").quantile(0.9, "linear"),
    )
    return _as_text(table).sort("median_h", "n", descending=[True, True])


def special_time(steps: pl.DataFrame) -> pl.DataFrame:
    """Per item: time lost to special procedures (start_special → finish_special), per case."""
    case = "_case" if "_case" in steps.columns else "case"
    per_case = (
        steps.filter(pl.col("kind") == "special")
        .group_by("item", case)
        .agg(hours=pl.col("gap_h").sum(), procedures=pl.len())
    )
    table = per_case.group_by("item").agg(
        cases=pl.len(),
        procedures=pl.col("procedures").sum(),
        total_h=pl.col("hours").sum(),
        median_h=pl.col("hours").median(),
        p90_h=pl.col("hours").quantile(0.9, "linear"),
    )
    return _as_text(table).sort("total_h", descending=True)


def _deadlines(per_case: pl.DataFrame, options: Options) -> pl.DataFrame:
    as_of = pl.lit(options.as_of).cast(pl.Datetime("us", "UTC"))
    measured = (
        per_case.filter(pl.col("deadline").is_not_null())
        .with_columns(end=pl.coalesce(pl.col("stopped_at"), as_of))
        .with_columns(
            over=pl.col("end") > pl.col("deadline"),
            near=pl.col("stopped_at").is_null()
            & (pl.col("deadline") >= as_of)
            & (_hours(pl.col("deadline"), as_of) <= options.near_deadline_hours),
        )
    )
    table = measured.group_by("item").agg(
        cases=pl.len(),
        open=pl.col("stopped_at").is_null().sum(),
        over=pl.col("over").sum(),
        near=pl.col("near").sum(),
    )
    return (
        _as_text(table)
        .with_columns(over_rate=pl.col("over") / pl.col("cases"))
        .sort("over", "near", "item", descending=[True, True, False])
    )


def deadlines(events: pl.DataFrame, options: Options) -> pl.DataFrame:
    """Per item: cases over their deadline, and open cases within the warning window of it.

    The clock stops at the decision (or a withdrawal); an open case is measured at
    ``options.as_of``.
    """
    return _deadlines(_per_case(_prepared(events)), options)


def analyse(events: pl.DataFrame, options: Options) -> Analysis:
    """Every measure from one sort of the log: the ordered, keyed frame is shared."""
    prepared = _prepared(events)
    steps = _classified(prepared)
    per_case = _per_case(prepared)
    return Analysis(
        steps=step_times(steps),
        bottlenecks=bottlenecks(steps, options),
        rework=_rework(per_case),
        handoffs=handoffs(steps),
        special=special_time(steps),
        deadlines=_deadlines(per_case, options),
    )
