"""The pure process-mining measures, on generated and hand-written event tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from tongban.insight import mining
from tongban.insight.synthetic import Profile, synthetic_log

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
AS_OF = datetime(2026, 3, 20, tzinfo=UTC)

# (action, from_state, department or None, role, hours after T0)
Row = tuple[str, str | None, str | None, str, float]


def log(
    cases: dict[str, list[Row]], item: str = "ITEM", deadline_h: float | None = None
) -> pl.DataFrame:
    columns: dict[str, list[object]] = {name: [] for name in mining.EVENT_SCHEMA}
    for case, rows in cases.items():
        for seq, (action, state, department, role, hours) in enumerate(rows, start=1):
            values = (
                case,
                item,
                seq,
                T0 + timedelta(hours=hours),
                action,
                state,
                department,
                role,
                None if deadline_h is None else T0 + timedelta(hours=deadline_h),
            )
            for name, value in zip(mining.EVENT_SCHEMA, values, strict=True):
                columns[name].append(value)
    return mining.event_frame(columns)


def edges(frame: pl.DataFrame) -> dict[tuple[str, str], tuple[int, float]]:
    return {
        (row["source"], row["target"]): (row["n"], round(row["mean_h"], 6))
        for row in mining.directly_follows(frame).iter_rows(named=True)
    }


def test_a_planted_slow_department_comes_out_on_top() -> None:
    profile = Profile(slow={("ITEM-C", "DEPT-4"): 4.0})
    analysis = mining.analyse(
        synthetic_log(events=20_000, seed=7, profile=profile), mining.Options(as_of=AS_OF)
    )
    top = analysis.bottlenecks.row(0, named=True)
    assert (top["item"], top["action"], top["office"]) == ("ITEM-C", "approve_task", "DEPT-4")
    assert top["median_h"] > 2.5 * top["typical_h"]
    runner_up = analysis.bottlenecks.row(1, named=True)
    assert top["score"] > 10 * runner_up["score"]


def test_without_a_planted_bottleneck_no_step_stands_out() -> None:
    analysis = mining.analyse(synthetic_log(events=20_000, seed=7), mining.Options(as_of=AS_OF))
    scores = analysis.bottlenecks["score"].to_list()
    planted = mining.analyse(
        synthetic_log(events=20_000, seed=7, profile=Profile(slow={("ITEM-C", "DEPT-4"): 4.0})),
        mining.Options(as_of=AS_OF),
    )
    assert max(scores, default=0.0) < planted.bottlenecks["score"][0] / 10


def test_ties_in_time_are_ordered_by_seq_whatever_the_row_order() -> None:
    same_instant = [
        ("submit", None, None, "applicant", 0),
        ("accept", "submitted", None, "clerk", 1),
        ("approve_task", "in_review", "D1", "reviewer", 5),
        ("decide", "in_review", "D1", "reviewer", 5),  # the same microsecond as the task
        ("close", "decided", None, "clerk", 5),
    ]
    frame = log({"A": same_instant, "B": same_instant})
    expected = {
        ("submit", "accept"): (2, 1.0),
        ("accept", "approve_task"): (2, 4.0),
        ("approve_task", "decide"): (2, 0.0),
        ("decide", "close"): (2, 0.0),
    }
    assert edges(frame) == expected
    reversed_rows = frame.reverse()  # a timestamp sort alone would keep this order
    assert edges(reversed_rows) == expected
    assert edges(frame.sample(fraction=1.0, shuffle=True, seed=3)) == expected


def test_repeated_supplement_requests_count_as_rework() -> None:
    def case(rounds: int) -> list[Row]:
        rows: list[Row] = [("submit", None, None, "applicant", 0)]
        for n in range(rounds):
            rows.append(("request_supplement", "prereview", None, "clerk", 10 * n + 1))
            rows.append(("supplement", "supplement", None, "applicant", 10 * n + 5))
        rows.append(("accept", "prereview", None, "clerk", 100))
        return rows

    frame = log({"once": case(1), "thrice": case(3), "never": case(0), "twice": case(2)})
    row = mining.rework(frame).row(0, named=True)
    assert row == {
        "item": "ITEM",
        "cases": 4,
        "supplemented": 3,
        "rework_cases": 2,
        "requests": 6,
        "max_per_case": 3,
        "rework_rate": 0.5,
    }
    steps = mining.step_times(mining.classified(frame))
    waiting = steps.filter(pl.col("action") == "supplement").row(0, named=True)
    assert waiting["wait_median_h"] == 4.0  # the applicant's 4 hours each round


def test_handoffs_between_departments_and_their_delays() -> None:
    frame = log(
        {
            "A": [
                ("submit", None, None, "applicant", 0),
                ("accept", "submitted", None, "clerk", 2),
                ("approve_task", "in_review", "D1", "reviewer", 12),
                ("approve_task", "in_review", "D2", "reviewer", 40),
                ("decide", "in_review", "D1", "reviewer", 41),
            ]
        }
    )
    found = {
        (row["from_office"], row["to_office"]): row["median_h"]
        for row in mining.handoffs(mining.classified(frame)).iter_rows(named=True)
    }
    # The applicant hands nothing off; the window → D1 → D2 → D1 chain does.
    assert found == {("window", "D1"): 10.0, ("D1", "D2"): 28.0, ("D2", "D1"): 1.0}


def test_special_procedure_time_is_counted_and_taken_out_of_task_time() -> None:
    frame = log(
        {
            "A": [
                ("submit", None, None, "applicant", 0),
                ("accept", "submitted", None, "clerk", 1),
                ("start_special", "in_review", "D1", "reviewer", 2),
                ("finish_special", "suspended", "D1", "reviewer", 50),
                ("approve_task", "in_review", "D1", "reviewer", 60),
            ],
            "B": [
                ("submit", None, None, "applicant", 0),
                ("accept", "submitted", None, "clerk", 1),
                ("approve_task", "in_review", "D1", "reviewer", 11),
            ],
        }
    )
    special = mining.special_time(mining.classified(frame)).row(0, named=True)
    assert (special["cases"], special["procedures"], special["total_h"]) == (1, 1, 48.0)
    steps = mining.classified(frame).filter(pl.col("action") == "approve_task")
    task_hours = dict(zip(steps["case"], steps["duration_h"], strict=True))
    assert task_hours == {"A": 11.0, "B": 10.0}  # 59 hours since acceptance, 48 of them paused


def test_cases_over_and_near_their_deadline() -> None:
    decided_late = [
        ("accept", None, None, "clerk", 0),
        ("decide", "in_review", "D", "reviewer", 300),
    ]
    decided_in_time = [
        ("accept", None, None, "clerk", 0),
        ("decide", "in_review", "D", "reviewer", 30),
    ]
    still_open = [("accept", None, None, "clerk", 0)]
    frames = [
        log({"late": decided_late, "ok": decided_in_time}, deadline_h=100),
        log({"open_near": still_open}, deadline_h=(AS_OF - T0).total_seconds() / 3600 + 10),
        log({"open_over": still_open}, deadline_h=(AS_OF - T0).total_seconds() / 3600 - 10),
        log({"no_limit": still_open}),
    ]
    row = mining.deadlines(pl.concat(frames), mining.Options(as_of=AS_OF)).row(0, named=True)
    assert (row["cases"], row["open"], row["over"], row["near"]) == (4, 2, 2, 1)


def test_the_event_table_must_name_its_case_order_and_time() -> None:
    with pytest.raises(ValueError, match="seq"):
        mining.event_frame({"case": ["A"], "item": ["I"], "at": [T0], "action": ["submit"]})


def test_cases_sharing_a_sort_hash_are_still_kept_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    rows: list[Row] = [
        ("submit", None, None, "applicant", 0),
        ("accept", "submitted", None, "clerk", 1),
        ("close", "in_review", None, "clerk", 3),
    ]
    frame = log({"A": rows, "B": rows})
    # Every case number hashing alike is the worst collision the fast sort can meet.
    monkeypatch.setattr(pl.Expr, "hash", lambda self, seed=0: pl.lit(7, pl.UInt64))
    ordered = mining.by_case_and_seq(frame)
    assert ordered["case"].to_list() == ["A"] * 3 + ["B"] * 3
    assert edges(frame) == {("submit", "accept"): (2, 1.0), ("accept", "close"): (2, 2.0)}
