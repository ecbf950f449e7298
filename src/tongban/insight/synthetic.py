"""A seeded synthetic case event log, shaped like the real one (for tests and the benchmark).

Each case follows the handling path of docs/cases.md: submit → pre-review (with
supplement rounds) → accept → parallel department tasks (sometimes after a special
procedure) → decide → close → deliver. Durations are exponential around the means
below; ``slow`` multiplies one (item, department) pair's task time, so a test can
plant a bottleneck and check that it comes out on top.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from tongban.insight.mining import EVENT_SCHEMA

HOUR_US = 3_600_000_000
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    code: str
    lead: str
    departments: tuple[str, ...]  # one task each, run in parallel
    limit_days: int = 10


DEFAULT_ITEMS = (
    Item("ITEM-A", "DEPT-1", ("DEPT-1",)),
    Item("ITEM-B", "DEPT-2", ("DEPT-2", "DEPT-3")),
    Item("ITEM-C", "DEPT-3", ("DEPT-3", "DEPT-4", "DEPT-5")),
    Item("ITEM-D", "DEPT-4", ("DEPT-4",), limit_days=3),
)


@dataclass(frozen=True)
class Profile:
    queue_h: float = 4.0  # submitted → start_prereview
    prereview_h: float = 2.0
    supplement_p: float = 0.25  # chance of a (further) supplement round, each round
    applicant_h: float = 30.0
    special_p: float = 0.1
    special_h: float = 96.0
    task_h: float = 20.0
    decide_h: float = 4.0
    close_h: float = 2.0
    deliver_h: float = 24.0
    slow: dict[tuple[str, str], float] = field(default_factory=dict)  # (item, dept) → factor


class _Log:
    def __init__(self) -> None:
        self.columns: dict[str, list[object]] = {name: [] for name in EVENT_SCHEMA}

    def add(self, case: str, item: Item, seq: int, at_us: int, action: str, state: str | None,
            department: str | None, role: str, deadline_us: int | None) -> None:  # fmt: skip
        for name, value in zip(
            EVENT_SCHEMA,
            (case, item.code, seq, at_us, action, state, department, role, deadline_us),
            strict=True,
        ):
            self.columns[name].append(value)


def _case(log: _Log, rng: random.Random, number: int, item: Item, profile: Profile) -> int:
    """Append one case's events; returns how many."""
    clock = int(START.timestamp() * 1_000_000) + int(rng.random() * 180 * 24 * HOUR_US)
    events: list[tuple[int, str, str | None, str | None, str]] = []

    def after(mean_h: float) -> int:
        nonlocal clock
        clock += 1 + int(rng.expovariate(1 / mean_h) * HOUR_US)
        return clock

    events.append((clock, "submit", None, None, "applicant"))
    events.append((after(profile.queue_h), "start_prereview", "submitted", None, "clerk"))
    while rng.random() < profile.supplement_p:
        events.append(
            (after(profile.prereview_h), "request_supplement", "prereview", None, "clerk")
        )
        events.append((after(profile.applicant_h), "supplement", "supplement", None, "applicant"))
    accepted = after(profile.prereview_h)
    events.append((accepted, "accept", "prereview", None, "clerk"))
    paused = 0
    if rng.random() < profile.special_p:
        started = after(1.0)
        events.append((started, "start_special", "in_review", item.lead, "reviewer"))
        events.append(
            (after(profile.special_h), "finish_special", "suspended", item.lead, "reviewer")
        )
        paused = clock - started
    tasks_from = clock
    done = []
    for department in item.departments:
        factor = profile.slow.get((item.code, department), 1.0)
        hours = rng.expovariate(1 / (profile.task_h * factor))
        done.append((tasks_from + 1 + int(hours * HOUR_US), department))
    for at_us, department in sorted(done):
        events.append((at_us, "approve_task", "in_review", department, "reviewer"))
    clock = max(at for at, _ in done)
    events.append((after(profile.decide_h), "decide", "in_review", item.lead, "reviewer"))
    events.append((after(profile.close_h), "close", "decided", None, "clerk"))
    events.append((after(profile.deliver_h), "deliver", "closed", None, "clerk"))
    deadline = accepted + paused + item.limit_days * 24 * HOUR_US
    case_no = f"C{number:07d}"
    for seq, (at_us, action, state, office, role) in enumerate(events, start=1):
        log.add(case_no, item, seq, at_us, action, state, office, role, deadline)
    return len(events)


def synthetic_log(
    *,
    events: int,
    seed: int = 2026,
    items: Sequence[Item] = DEFAULT_ITEMS,
    profile: Profile | None = None,
) -> pl.DataFrame:
    """At least ``events`` events (whole cases), as an event table for ``mining``."""
    rng = random.Random(seed)
    profile = profile or Profile()
    log = _Log()
    made, number = 0, 0
    while made < events:
        number += 1
        made += _case(log, rng, number, items[number % len(items)], profile)
    columns = dict(log.columns)
    for name in ("at", "deadline_at"):
        columns[name] = pl.Series(name, columns[name], pl.Int64).cast(EVENT_SCHEMA[name])  # type: ignore[assignment]
    return pl.DataFrame(columns, schema=EVENT_SCHEMA)
