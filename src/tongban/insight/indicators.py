"""The indicator system: definitions from indicators.toml and their computation.

Pure: the caller hands in the summary tables (cases, ratings, follow-ups,
complaints) as polars frames; nothing here reads the database. Every formula is a
ratio of two sums over one table, so the same definition gives the figure for the
whole region, for each department, each region code or each item — and a group's
figure is exactly what its rows say (no averaging of averages).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl

from tongban.kit.clock import SHANGHAI

DEFINITIONS_FILE = Path(__file__).with_name("indicators.toml")
GROUPINGS = ("department", "region", "item")
Direction = Literal["higher", "lower"]
TableName = Literal["cases", "ratings", "follow_ups", "complaints"]
TOWNSHIP_CODE_LENGTH = 12  # GB/T 2260 county code + 3-digit township (statistical code)


@dataclass(frozen=True)
class Dimension:
    code: str
    name: str


@dataclass(frozen=True)
class Indicator:
    code: str
    dimension: str
    name: str
    formula: str
    unit: str
    target: float
    direction: Direction
    note: str = ""

    def meets(self, value: float | None) -> bool | None:
        """Whether ``value`` reaches the target; None when there is nothing to judge."""
        if value is None:
            return None
        return value >= self.target if self.direction == "higher" else value <= self.target


@dataclass(frozen=True)
class Ratio:
    """sum(numerator) / sum(denominator) × scale over the rows of one table."""

    table: TableName
    numerator: pl.Expr
    denominator: pl.Expr
    scale: float = 100.0


def _flag(condition: pl.Expr) -> pl.Expr:
    return condition.fill_null(False).cast(pl.Int64)


ONE = pl.col("key").is_not_null().cast(pl.Int64)  # 1 per row (a literal would not sum)
_finished = pl.col("working_days").is_not_null()
_judged = pl.col("on_time").is_not_null()

FORMULAS: dict[str, Ratio | None] = {
    "avg_working_days_to_decide": Ratio(
        "cases", pl.col("working_days").fill_null(0), _flag(_finished), 1.0
    ),
    "on_time_rate": Ratio("cases", _flag(pl.col("on_time")), _flag(_judged)),
    "immediate_share": Ratio("cases", _flag(pl.col("limit_days") == 0), ONE),
    "time_limit_compression": Ratio(
        "cases",
        pl.col("statutory_limit_days") - pl.col("limit_days"),
        pl.col("statutory_limit_days"),
    ),
    "online_application_rate": Ratio("cases", _flag(pl.col("channel") == "online"), ONE),
    "zero_visit_rate": Ratio("cases", _flag(pl.col("visits") == 0), ONE),
    "full_online_rate": Ratio(
        "cases",
        _flag((pl.col("channel") == "online") & (pl.col("online_depth") == "full_online")),
        ONE,
    ),
    "average_visits": Ratio("cases", pl.col("visits"), ONE, 1.0),
    "waived_material_share": Ratio(
        "cases",
        pl.col("data_checks_verified"),
        pl.col("data_checks_verified") + pl.col("materials_uploaded"),
    ),
    "data_calls_per_case": Ratio("cases", pl.col("data_checks"), ONE, 1.0),
    "data_check_pass_rate": Ratio("cases", pl.col("data_checks_verified"), pl.col("data_checks")),
    # 非常满意 (5) → 100 … 非常不满意 (1) → 0
    "rating_index": Ratio("ratings", (pl.col("level") - 1) * 25, ONE, 1.0),
    "bad_rating_rate": Ratio("ratings", _flag(pl.col("level") <= 2), ONE),
    "rectification_on_time_rate": Ratio(
        "follow_ups", _flag(pl.col("on_time")), _flag(pl.col("on_time").is_not_null())
    ),
    "rating_coverage": Ratio("cases", _flag(pl.col("rated") & _finished), _flag(_finished)),
    "complaint_response_rate": Ratio(
        "complaints",
        _flag(pl.col("responded_on_time")),
        _flag(pl.col("responded_on_time").is_not_null()),
    ),
    "complaint_resolution_rate": Ratio(
        "complaints",
        _flag(pl.col("resolved_on_time")),
        _flag(pl.col("resolved_on_time").is_not_null()),
    ),
    "assisted_share": Ratio("cases", _flag(pl.col("assisted")), ONE),
    # of the applications made online through the portal, those made in 长辈模式
    "elder_mode_rate": Ratio(
        "cases",
        _flag((pl.col("channel") == "online") & pl.col("elder_mode")),
        _flag(pl.col("channel") == "online"),
    ),
    "township_share": Ratio(
        "cases", _flag(pl.col("region").str.len_chars() == TOWNSHIP_CODE_LENGTH), ONE
    ),
    "not_recorded": None,  # the platform does not record this yet: n.a., never 0 by default
}


# --- definitions ------------------------------------------------------------------------


class DefinitionError(ValueError):
    """indicators.toml does not describe a usable indicator system."""


@dataclass(frozen=True)
class System:
    dimensions: tuple[Dimension, ...]
    indicators: tuple[Indicator, ...]

    def by_code(self) -> dict[str, Indicator]:
        return {indicator.code: indicator for indicator in self.indicators}


def parse(data: Mapping[str, Any]) -> System:
    dimensions = tuple(Dimension(str(d["code"]), str(d["name"])) for d in data["dimension"])
    indicators = tuple(
        Indicator(
            code=str(row["code"]),
            dimension=str(row["dimension"]),
            name=str(row["name"]),
            formula=str(row["formula"]),
            unit=str(row["unit"]),
            target=float(row["target"]),
            direction=row["direction"],
            note=str(row.get("note", "")),
        )
        for row in data["indicator"]
    )
    _validate(dimensions, indicators)
    return System(dimensions, indicators)


def _validate(dimensions: tuple[Dimension, ...], indicators: tuple[Indicator, ...]) -> None:
    known = {d.code for d in dimensions}
    problems = []
    if len(known) != len(dimensions):
        problems.append("dimension codes repeat")
    if len({i.code for i in indicators}) != len(indicators):
        problems.append("indicator codes repeat")
    for indicator in indicators:
        if indicator.dimension not in known:
            problems.append(f"{indicator.code}: unknown dimension {indicator.dimension!r}")
        if indicator.formula not in FORMULAS:
            problems.append(f"{indicator.code}: unknown formula {indicator.formula!r}")
        if indicator.direction not in ("higher", "lower"):
            problems.append(f"{indicator.code}: direction must be higher or lower")
    empty = known - {i.dimension for i in indicators}
    if empty:
        problems.append(f"dimensions without indicators: {sorted(empty)}")
    if problems:
        raise DefinitionError("; ".join(problems))


def load(path: Path = DEFINITIONS_FILE) -> System:
    with path.open("rb") as handle:
        return parse(tomllib.load(handle))


# --- preparing the summary tables ---------------------------------------------------------


@dataclass(frozen=True)
class ItemFacts:
    """What the catalog says of an item (or a bundle): visits and online depth."""

    visits_required: int
    online_depth: str


def _local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def _before(moment: datetime | None, as_of: datetime) -> datetime | None:
    """What was known at ``as_of``: a later time counts as not yet happened."""
    return moment if moment is not None and moment < as_of else None


def case_table(
    columns: Mapping[str, list[Any]],
    *,
    as_of: datetime,
    items: Mapping[str, ItemFacts],
    rated_cases: set[str],
    workdays_between: Callable[[date, date], int],
) -> pl.DataFrame:
    """cases.summary's columns with what the formulas read: working days from
    acceptance to decision, on time or not, visits, online depth, rated or not."""
    working_days: list[int | None] = []
    on_time: list[bool | None] = []
    for accepted, decided, closed, deadline in zip(
        columns["accepted_at"],
        columns["decided_at"],
        columns["closed_at"],
        columns["deadline_at"],
        strict=True,
    ):
        finished = _before(decided or closed, as_of)
        if accepted is None or finished is None:
            working_days.append(None)
            on_time.append(None)
            continue
        working_days.append(workdays_between(_local_day(accepted), _local_day(finished)))
        on_time.append(finished <= deadline if deadline is not None else None)
    facts = [items.get(code) for code in columns["item"]]
    channels = columns["channel"]
    return pl.DataFrame(
        {
            **{name: columns[name] for name in _CASE_PASSTHROUGH},
            "assisted": [bool(a) for a in columns["assisted"]],
            "elder_mode": pl.Series([bool(e) for e in columns["elder_mode"]], dtype=pl.Boolean),
            "working_days": pl.Series(working_days, dtype=pl.Int64),
            "on_time": pl.Series(on_time, dtype=pl.Boolean),
            "visits": [_visits(f, channel) for f, channel in zip(facts, channels, strict=True)],
            "online_depth": [fact.online_depth if fact else "" for fact in facts],
            "rated": [case in rated_cases for case in columns["case"]],
        },
        schema_overrides=_CASE_SCHEMA,
    )


_CASE_PASSTHROUGH = (
    "case",
    "item",
    "department",
    "region",
    "channel",
    "limit_days",
    "statutory_limit_days",
    "materials_uploaded",
    "data_checks",
    "data_checks_verified",
)
_CASE_SCHEMA = {
    "case": pl.String,
    "item": pl.String,
    "department": pl.String,
    "region": pl.String,
    "channel": pl.String,
    "limit_days": pl.Int64,
    "statutory_limit_days": pl.Int64,
    "materials_uploaded": pl.Int64,
    "data_checks": pl.Int64,
    "data_checks_verified": pl.Int64,
    "visits": pl.Int64,
    "online_depth": pl.String,
}


def _visits(fact: ItemFacts | None, channel: str) -> int:
    """Trips to an office: the item's required visits; an application at the window is one."""
    required = fact.visits_required if fact else 0
    return max(required, 1) if channel == "window" else required


def _on_time(done: list[datetime | None], due: list[datetime], as_of: datetime) -> pl.Series:
    """True/False once due or done by ``as_of``; null while still running within its time."""
    flags: list[bool | None] = []
    for finished, deadline in zip(done, due, strict=True):
        finished = _before(finished, as_of)
        if finished is not None:
            flags.append(finished <= deadline)
        else:
            flags.append(False if deadline <= as_of else None)
    return pl.Series(flags, dtype=pl.Boolean)


def follow_up_table(columns: Mapping[str, list[Any]], *, as_of: datetime) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "department": pl.Series(columns["department"], dtype=pl.String),
            "region": pl.Series(columns["region"], dtype=pl.String),
            "item": pl.Series([None] * len(columns["case"]), dtype=pl.String),
            "on_time": _on_time(columns["reported_at"], columns["due_at"], as_of),
        }
    )


def complaint_table(columns: Mapping[str, list[Any]], *, as_of: datetime) -> pl.DataFrame:
    """Complaints only (a suggestion has the same deadlines but is not a 诉求 to resolve)."""
    return pl.DataFrame(
        {
            "department": pl.Series(columns["department"], dtype=pl.String),
            "region": pl.Series(columns["region"], dtype=pl.String),
            "item": pl.Series([i or None for i in columns["item"]], dtype=pl.String),
            "kind": pl.Series(columns["kind"], dtype=pl.String),
            "responded_on_time": _on_time(
                columns["responded_at"], columns["response_due_at"], as_of
            ),
            "resolved_on_time": _on_time(columns["resolved_at"], columns["result_due_at"], as_of),
        }
    )


def rating_table(columns: Mapping[str, list[Any]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "department": pl.Series(columns["department"], dtype=pl.String),
            "region": pl.Series(columns["region"], dtype=pl.String),
            "item": pl.Series(columns["item"], dtype=pl.String),
            "level": pl.Series(columns["level"], dtype=pl.Int64),
        }
    )


# --- computing --------------------------------------------------------------------------

RESULT_SCHEMA = pl.Schema(
    {
        "key": pl.String,
        "code": pl.String,
        "numerator": pl.Float64,
        "denominator": pl.Float64,
        "value": pl.Float64,
    }
)


def compute(
    system: System, tables: Mapping[str, pl.DataFrame], *, by: str | None = None
) -> pl.DataFrame:
    """Every indicator's numerator, denominator and value, overall or per ``by`` group.

    ``value`` is null where the denominator is 0 (nothing to measure) and for
    indicators whose data is not recorded. Rows: key ("" overall), code.
    """
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"group by one of {GROUPINGS}")
    frames = [_one(indicator, tables, by) for indicator in system.indicators]
    return pl.concat(frames, how="vertical").sort("key", "code")


def _one(indicator: Indicator, tables: Mapping[str, pl.DataFrame], by: str | None) -> pl.DataFrame:
    ratio = FORMULAS[indicator.formula]
    if ratio is None:
        return (
            pl.DataFrame({"key": [""], "code": [indicator.code]})
            .with_columns(numerator=None, denominator=None, value=None)
            .cast(RESULT_SCHEMA)
        )
    table = tables[ratio.table]
    if ratio.table == "complaints":
        table = table.filter(pl.col("kind") == "complaint")
    key = pl.col(by) if by else pl.lit("")
    sums = (
        table.with_columns(key.alias("key"))
        .filter(pl.col("key").is_not_null())
        .group_by("key")
        .agg(
            numerator=ratio.numerator.cast(pl.Float64).sum(),
            denominator=ratio.denominator.cast(pl.Float64).sum(),
        )
    )
    if by is None and sums.height == 0:
        sums = pl.DataFrame({"key": [""], "numerator": [0.0], "denominator": [0.0]})
    value = (
        pl.when(pl.col("denominator") > 0)
        .then(pl.col("numerator") / pl.col("denominator") * ratio.scale)
        .otherwise(None)
    )
    return (
        sums.with_columns(code=pl.lit(indicator.code), value=value.round(2))
        .select(list(RESULT_SCHEMA))
        .cast(RESULT_SCHEMA)
    )


def values(result: pl.DataFrame, key: str = "") -> dict[str, float | None]:
    """code → value for one group of ``compute``'s result."""
    rows = result.filter(pl.col("key") == key)
    return dict(zip(rows["code"].to_list(), rows["value"].to_list(), strict=True))


def below_target(system: System, result: pl.DataFrame) -> list[tuple[str, Indicator, float]]:
    """(group, indicator, value) for every group that misses an indicator's target."""
    by_code = system.by_code()
    misses = []
    for key, code, value in result.select("key", "code", "value").iter_rows():
        indicator = by_code[code]
        if indicator.meets(value) is False:
            misses.append((key, indicator, value))
    return misses
