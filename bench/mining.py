"""Directly-follows graph with times: our polars computation against pm4py's, in the same run.

Run (pm4py is AGPL-3.0 and ~530 MB, so it lives in its own environment, never in
the project's):

    python -m venv /tmp/pm4py-venv
    /tmp/pm4py-venv/bin/pip install pm4py -e /work/main
    POLARS_MAX_THREADS=1 /tmp/pm4py-venv/bin/python bench/mining.py [--events 1000000]

Without pm4py (e.g. ``.venv/bin/python bench/mining.py``) it says so and prints our
times only. The log is ``tongban.insight.synthetic`` (seeded; about 10 events a
case, so 1M events ≈ 100k cases), generated once and given to both in memory.
Timed: ours from the unsorted polars frame (sort by case and seq included) to the
edge table with n, mean, median and p90; pm4py's ``discover_performance_dfg`` from
its pandas frame. The edge frequencies and means must agree (relative 1e-9) or the
run fails. Also timed: the whole bottleneck analysis (``mining.analyse``).
The issue's target: ≥ 5× faster than pm4py, 1M events well under a second on one core.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import polars as pl

from tongban.insight import mining
from tongban.insight.synthetic import synthetic_log


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    best, result = math.inf, None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def pm4py_frame(log: pl.DataFrame) -> Any:
    import pandas as pd

    # Shuffled like ours, so that both do their own ordering.
    return pd.DataFrame(
        {
            "case:concept:name": log["case"].to_numpy(),
            "concept:name": log["action"].to_numpy(),
            "time:timestamp": pd.to_datetime(log["at"].dt.epoch("us").to_numpy(), unit="us"),
        }
    )


def compare(ours: pl.DataFrame, theirs: dict[tuple[str, str], dict[str, float]]) -> int:
    """How many edges differ in mean (ours in hours, pm4py's in seconds) or are missing."""
    ours_by_edge = {(r["source"], r["target"]): r["mean_h"] for r in ours.iter_rows(named=True)}
    problems = set(ours_by_edge) ^ set(theirs)
    for edge, mean_h in ours_by_edge.items():
        if edge in theirs and not math.isclose(
            mean_h * 3600, theirs[edge]["mean"], rel_tol=1e-9, abs_tol=1e-6
        ):
            problems.add(edge)
    return len(problems)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    log = synthetic_log(events=args.events, seed=2026).sample(fraction=1.0, shuffle=True, seed=1)
    cases = log["case"].n_unique()
    print(f"log: {log.height:,} events, {cases:,} cases, generated in "
          f"{time.perf_counter() - started:.1f} s; polars threads: {pl.thread_pool_size()} "
          f"(POLARS_MAX_THREADS={os.environ.get('POLARS_MAX_THREADS', 'unset')})")  # fmt: skip

    ours_s, edges = best_of(args.runs, lambda: mining.directly_follows(log))
    options = mining.Options(as_of=datetime(2026, 12, 31, tzinfo=UTC))
    analyse_s, _ = best_of(args.runs, lambda: mining.analyse(log, options))
    print(f"ours  (polars) performance DFG: {ours_s:.3f} s, {len(edges)} edges")
    print(f"ours  (polars) whole bottleneck analysis: {analyse_s:.3f} s")

    try:
        import pm4py
    except ImportError:
        print("pm4py: not installed here — run with an interpreter that has it (see the docstring)")
        return 0
    frame = pm4py_frame(log)

    def theirs() -> Any:
        dfg, _, _ = pm4py.discover_performance_dfg(
            frame,
            case_id_key="case:concept:name",
            activity_key="concept:name",
            timestamp_key="time:timestamp",
        )
        return dfg

    theirs_s, dfg = best_of(args.runs, theirs)
    differing = compare(edges, dfg)
    print(f"pm4py {pm4py.__version__} performance DFG: {theirs_s:.3f} s, {len(dfg)} edges")
    print(f"ratio (pm4py / ours): {theirs_s / ours_s:.1f}×; edges differing in mean: {differing}")
    print(f"ratio (pm4py DFG / our whole analysis): {theirs_s / analyse_s:.1f}×")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
