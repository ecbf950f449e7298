"""Misuse-alert rules: pure logic, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tongban.audit import rules
from tongban.audit.rules import Counts, Thresholds
from tongban.kit.clock import SHANGHAI

LIMITS = Thresholds(
    window_minutes=60,
    bulk_persons=200,
    unrelated_reads=20,
    unmask_count=20,
    baseline_days=30,
    baseline_min_days=7,
    baseline_sigmas=3.0,
    baseline_floor=50,
)
# Friday 27 November 2026, 10:37 in Beijing — a working day.
AT = datetime(2026, 11, 27, 10, 37, tzinfo=SHANGHAI).astimezone(UTC)


def beijing(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]


def rule_names(findings: list[rules.Finding]) -> list[str]:
    return [f.rule for f in findings]


def test_bulk_read_fires_above_the_threshold_not_at_it() -> None:
    assert rules.window_findings(Counts(persons_in_window=200), LIMITS, AT) == []
    findings = rules.window_findings(Counts(persons_in_window=201), LIMITS, AT)
    assert rule_names(findings) == ["bulk_read"]
    assert findings[0].severity == "high"
    assert findings[0].details["count"] == 201
    assert "201 人" in findings[0].summary


def test_unrelated_reads_fire_strictly_above_the_threshold() -> None:
    assert rules.window_findings(Counts(unrelated_in_window=20), LIMITS, AT) == []
    findings = rules.window_findings(Counts(unrelated_in_window=21), LIMITS, AT)
    assert rule_names(findings) == ["unrelated_read"]
    assert findings[0].severity == "medium"


def test_repeated_unmask_fires_above_the_threshold() -> None:
    assert rules.window_findings(Counts(unmasks_in_window=20), LIMITS, AT) == []
    assert rule_names(rules.window_findings(Counts(unmasks_in_window=21), LIMITS, AT)) == [
        "repeated_unmask"
    ]


def test_several_rules_can_fire_at_once_with_one_window_key() -> None:
    counts = Counts(persons_in_window=500, unrelated_in_window=40, unmasks_in_window=30)
    findings = rules.window_findings(counts, LIMITS, AT)
    assert rule_names(findings) == ["bulk_read", "unrelated_read", "repeated_unmask"]
    assert {f.window_key for f in findings} == {"2026-11-27T10:00"}


def test_window_key_is_the_fixed_window_in_beijing_time() -> None:
    assert rules.window_key(beijing(2026, 11, 27, 10, 0), 60) == "2026-11-27T10:00"
    assert rules.window_key(beijing(2026, 11, 27, 10, 59), 60) == "2026-11-27T10:00"
    assert rules.window_key(beijing(2026, 11, 27, 11, 0), 60) == "2026-11-27T11:00"
    assert rules.window_key(beijing(2026, 11, 27, 10, 44), 15) == "2026-11-27T10:30"
    # 23:30 UTC is already the next morning in Beijing
    assert rules.window_key(datetime(2026, 11, 26, 23, 30, tzinfo=UTC), 60) == "2026-11-27T07:00"


def test_working_hours_are_parsed_and_checked() -> None:
    assert rules.within_hours(beijing(2026, 11, 27, 8, 0), "08:00-19:00")
    assert rules.within_hours(beijing(2026, 11, 27, 18, 59), "08:00-19:00")
    assert not rules.within_hours(beijing(2026, 11, 27, 19, 0), "08:00-19:00")
    assert not rules.within_hours(beijing(2026, 11, 27, 7, 59), "08:00-19:00")
    for bad in ("8-19", "19:00-08:00", "08:00"):
        with pytest.raises(ValueError):
            rules.parse_working_hours(bad)


def test_off_hours_asks_the_calendar_only_within_working_hours() -> None:
    asked: list[date] = []

    def national_day_holiday(day: date) -> bool:
        asked.append(day)
        return day != date(2026, 10, 2)

    assert rules.is_off_hours(beijing(2026, 11, 27, 22, 15), "08:00-19:00", national_day_holiday)
    assert asked == []
    assert not rules.is_off_hours(beijing(2026, 11, 27, 9, 0), "08:00-19:00", national_day_holiday)
    assert rules.is_off_hours(beijing(2026, 10, 2, 9, 0), "08:00-19:00", national_day_holiday)
    assert asked == [date(2026, 11, 27), date(2026, 10, 2)]


def test_off_hours_finding_is_keyed_by_the_beijing_day() -> None:
    finding = rules.off_hours_finding(beijing(2026, 11, 28, 0, 30), "08:00-19:00")
    assert finding.rule == "off_hours"
    assert finding.severity == "low"
    assert finding.window_key == "2026-11-28"
    assert "2026-11-28 00:30" in finding.summary


def test_baseline_needs_enough_history() -> None:
    assert rules.baseline_limit([10] * 6, LIMITS) is None
    assert rules.baseline_limit([10] * 7, LIMITS) == 50.0  # the floor


def test_baseline_is_mean_plus_sigmas_above_the_floor() -> None:
    daily = [60, 80, 100, 60, 80, 100, 60, 80, 100, 80]
    mean = 80.0
    sigma = (sum((c - mean) ** 2 for c in daily) / len(daily)) ** 0.5
    assert rules.baseline_limit(daily, LIMITS) == pytest.approx(mean + 3 * sigma)
    limit = rules.baseline_limit(daily, LIMITS)
    assert rules.baseline_finding(int(limit or 0), limit, len(daily), AT) is None
    finding = rules.baseline_finding(int(limit or 0) + 1, limit, len(daily), AT)
    assert finding is not None
    assert finding.rule == "baseline"
    assert finding.window_key == "2026-11-27"
    assert rules.baseline_finding(10_000, None, 3, AT) is None


def test_baseline_fires_strictly_above_the_limit_it_shows() -> None:
    # A limit of 61.6 persons is shown as 61: 61 is within it, 62 above it (never "62 of 62").
    assert rules.baseline_finding(61, 61.6, 10, AT) is None
    finding = rules.baseline_finding(62, 61.6, 10, AT)
    assert finding is not None
    assert finding.details["threshold"] == 61
    assert "上限 61 人" in finding.summary and finding.details["count"] > 61
    assert rules.baseline_finding(50, 50.0, 10, AT) is None  # equal to the limit: quiet


def test_day_start_is_midnight_in_beijing() -> None:
    start = rules.day_start(datetime(2026, 11, 26, 17, 0, tzinfo=UTC))  # 01:00 on the 27th
    assert start == beijing(2026, 11, 27, 0, 0)
    assert rules.since(start, 60) == start - timedelta(hours=1)


def test_personal_reads_are_successful_reads_of_a_person() -> None:
    assert rules.is_personal_read({"action": "read", "person_ref": "p", "result": "ok"})
    assert rules.is_personal_read({"action": "unmask", "person_ref": "p", "result": "ok"})
    assert not rules.is_personal_read({"action": "read", "person_ref": None, "result": "ok"})
    assert not rules.is_personal_read({"action": "export", "person_ref": "p", "result": "refused"})
    assert not rules.is_personal_read({"action": "alert_closed", "person_ref": "p"})


def test_export_finding_counts_window_and_export_together() -> None:
    finding = rules.export_finding(150, 100, LIMITS, AT)
    assert finding.rule == "bulk_read"
    assert finding.details["count"] == 250
    assert finding.details["export_refused"] is True
    assert "250 人" in finding.summary


def test_alert_status_moves() -> None:
    assert rules.may_move("open", "acknowledged")
    assert rules.may_move("open", "closed")
    assert rules.may_move("acknowledged", "closed")
    assert not rules.may_move("acknowledged", "open")
    assert not rules.may_move("closed", "acknowledged")
    assert not rules.may_move("open", "open")
