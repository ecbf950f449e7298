"""The indicator system: definitions validate, and every formula gives the known number."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tongban.insight import indicators
from tongban.insight.indicators import ItemFacts

AS_OF = datetime(2026, 7, 1, tzinfo=UTC)
T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Beijing
DAY = timedelta(days=1)
A, B = "11640425A00000001X", "11640425B00000002X"


def _weekdays(start: date, end: date) -> int:
    """Working days d with start < d <= end, weekends only (enough for known data)."""
    return sum(1 for n in range(1, (end - start).days + 1) if (start + n * DAY).weekday() < 5)


def _cases() -> dict[str, list[Any]]:
    # 1 online, full-online item, decided on Thursday on time, 1 verified check + 1 upload
    # 2 window (assisted), item with 1 visit, decided after its deadline, 2 uploads
    # 3 online 即办件 in a township, not yet accepted
    # 4 online, decided after AS_OF: not finished as far as the report knows
    # 长辈模式 was on for c1 (online) and c2 (at the window: not counted by I2)
    on, win, county = "online", "window", "640425"
    rows = [
        ("c1", "i-full", A, county, on, T0, T0, T0 + 3 * DAY, T0 + 5 * DAY, 5, 10, 0, 1, 1, 1),
        ("c2", "i-visit", A, county, win, T0, T0, T0 + 9 * DAY, T0 + 7 * DAY, 5, 20, 1, 2, 0, 0),
        ("c3", "i-quick", B, county + "101000", on, T0, None, None, None, 0, 5, 0, 0, 1, 0),
        ("c4", "i-full", B, county, on, T0, T0, AS_OF + DAY, T0 + 9 * DAY, 5, 10, 0, 1, 0, 0),
    ]
    names = [
        *("case", "item", "department", "region", "channel", "submitted_at", "accepted_at"),
        *("decided_at", "deadline_at", "limit_days", "statutory_limit_days", "assisted"),
        *("materials_uploaded", "data_checks", "data_checks_verified"),
    ]
    columns: dict[str, list[Any]] = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    columns["closed_at"] = columns["decided_at"]
    columns["department_name"] = columns["department"]
    columns["state"] = ["decided"] * len(rows)
    columns["elder_mode"] = [True, True, False, False]
    return columns


def _tables() -> dict[str, Any]:
    items = {
        "i-full": ItemFacts(0, "full_online"),
        "i-visit": ItemFacts(1, "online_apply"),
        "i-quick": ItemFacts(0, "online_apply"),
    }
    ratings = {"department": [A, A, B], "region": ["640425"] * 3, "item": ["i-full"] * 3}
    ratings |= {"level": [5, 4, 1], "case": ["c1", "c2", "x"], "rated_at": [T0] * 3}
    follow_ups = {
        "case": ["x", "y", "z"],
        "department": [B, B, B],
        "region": ["640425"] * 3,
        "due_at": [T0 + 5 * DAY, T0 + 5 * DAY, AS_OF + DAY],
        "reported_at": [T0 + 4 * DAY, None, None],  # on time, overdue, still running
    }
    complaints = {
        "kind": ["complaint", "complaint", "complaint", "suggestion"],
        "item": ["i-full", "", "", ""],
        "department": [A, A, B, B],
        "region": ["640425"] * 4,
        "response_due_at": [T0 + DAY] * 4,
        "responded_at": [T0 + DAY / 2, T0 + 2 * DAY, None, None],
        "result_due_at": [T0 + 4 * DAY, T0 + 4 * DAY, AS_OF + DAY, T0 + DAY],
        "resolved_at": [T0 + 3 * DAY, AS_OF + DAY, None, None],
    }
    return {
        "cases": indicators.case_table(
            _cases(),
            as_of=AS_OF,
            items=items,
            rated_cases={"c1"},
            workdays_between=_weekdays,
        ),
        "ratings": indicators.rating_table(ratings),
        "follow_ups": indicators.follow_up_table(follow_ups, as_of=AS_OF),
        "complaints": indicators.complaint_table(complaints, as_of=AS_OF),
    }


EXPECTED = {
    "E1": (3 + 7) / 2,  # Mon→Thu 3 working days; Mon→Wed of the next week 7
    "E2": 50.0,  # c1 on time, c2 late; c3 not accepted, c4 not decided by AS_OF
    "E3": 25.0,
    "E4": round(100 * (45 - 15) / 45, 2),
    "C1": 75.0,
    "C2": 75.0,  # the window case is one trip
    "C3": 50.0,  # c1 and c4: online applications for a 全程网办 item
    "C4": 0.25,
    "D1": round(100 * 1 / (1 + 4), 2),
    "D2": 0.5,
    "D3": 50.0,
    "S1": round((100 + 75 + 0) / 3, 2),
    "S2": round(100 / 3, 2),
    "S3": 50.0,  # the running follow-up is not judged yet
    "S4": 50.0,  # c1 rated of the two decided cases
    "R1": round(100 / 3, 2),  # the suggestion does not count
    "R2": 50.0,  # one resolved in time, one only after AS_OF; the third still running
    "I1": 25.0,
    "I2": round(100 / 3, 2),  # c1 of the online c1, c3, c4; the window case c2 is left out
    "I3": 25.0,
}


def test_the_system_has_six_dimensions_and_twenty_indicators() -> None:
    system = indicators.load()
    assert len(system.dimensions) == 6 and len(system.indicators) == 20
    assert {i.code for i in system.indicators} == set(EXPECTED)


def test_every_formula_gives_the_known_number() -> None:
    result = indicators.compute(indicators.load(), _tables())
    assert indicators.values(result) == pytest.approx(EXPECTED)


def test_per_department_figures_are_their_own_rows() -> None:
    system = indicators.load()
    per_department = indicators.compute(system, _tables(), by="department")
    a, b = indicators.values(per_department, A), indicators.values(per_department, B)
    assert (a["C1"], b["C1"]) == (50.0, 100.0)
    assert (a["S1"], b["S1"]) == (87.5, 0.0)
    assert (a["R1"], b["R1"]) == (50.0, 0.0)
    assert b["S3"] == 50.0 and a.get("S3") is None  # A had no follow-up to judge
    misses = {(key, i.code) for key, i, _ in indicators.below_target(system, per_department)}
    assert (B, "S1") in misses and (A, "C1") in misses and (B, "C1") not in misses
    assert (a["I2"], b["I2"]) == (100.0, 0.0)  # A's only online case was in 长辈模式
    assert (B, "I2") in misses and (A, "I2") not in misses
    assert (A, "S3") not in misses  # n.a. is never "below target"


def test_empty_tables_give_no_number_rather_than_zero() -> None:
    empty = indicators.compute(indicators.load(), _tables() | {"ratings": _tables()["ratings"][:0]})
    assert indicators.values(empty)["S1"] is None


def test_a_broken_definition_is_refused() -> None:
    data = {
        "dimension": [{"code": "efficiency", "name": "服务效率"}, {"code": "x", "name": "空"}],
        "indicator": [
            {"code": "E1", "dimension": "efficiency", "name": "n", "formula": "nope"}
            | {"unit": "%", "target": 1, "direction": "up"},
        ],
    }
    with pytest.raises(indicators.DefinitionError) as error:
        indicators.parse(data)
    message = str(error.value)
    assert "unknown formula" in message and "direction" in message and "without" in message
