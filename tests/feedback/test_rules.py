"""Pure feedback rules: transitions, deadlines, the escalation ladder, countdowns."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tongban.errors import DomainError, Forbidden, Invalid
from tongban.feedback import rules
from tongban.feedback.rules import Party

T0 = datetime(2026, 5, 8, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_complaint_lifecycle_follows_the_table() -> None:
    state = rules.complaint_transition("filed", "assign", Party.SYSTEM)
    state = rules.complaint_transition(state, "respond", Party.HANDLER)
    state = rules.complaint_transition(state, "resolve", Party.HANDLER)
    assert rules.complaint_transition(state, "reopen", Party.COMPLAINANT) == "assigned"
    assert rules.complaint_transition(state, "confirm", Party.COMPLAINANT) == "confirmed"


def test_wrong_party_or_state_is_refused_precisely() -> None:
    with pytest.raises(Forbidden) as refused:
        rules.complaint_transition("resolved", "confirm", Party.HANDLER)
    assert refused.value.code == "complaint_party_not_allowed"
    with pytest.raises(DomainError) as wrong_state:
        rules.complaint_transition("confirmed", "reopen", Party.COMPLAINANT)
    assert wrong_state.value.status == 409


def test_actions_offered_match_the_party() -> None:
    assert rules.complaint_actions("resolved", {Party.COMPLAINANT}) == ["confirm", "reopen"]
    assert rules.complaint_actions("resolved", {Party.HANDLER}) == []
    assert set(rules.complaint_actions("assigned", {Party.ADMIN})) == {
        "assign",
        "respond",
        "resolve",
    }


def test_follow_up_goes_call_back_then_rectify_or_explain_then_report() -> None:
    assert rules.follow_up_actions("open") == ["call_back"]
    assert rules.follow_up_actions("called_back") == ["rectify", "explain"]
    assert rules.follow_up_transition("explained", "report") == "reported"
    with pytest.raises(DomainError):
        rules.follow_up_transition("open", "report")


def test_rating_levels_and_indicators_belong_to_the_channel() -> None:
    rules.check_rating("online", 5, {"usability": 4})
    rules.check_rating("offline", 1, {"service_attitude": 1})
    with pytest.raises(Invalid):
        rules.check_rating("offline", 3, {"usability": 3})  # an online indicator
    with pytest.raises(Invalid):
        rules.check_rating("online", 6, {})


def ladder(at: datetime, has_department: bool = True) -> list[tuple[str, int]]:
    alarms = rules.due_alarms(
        deadline="response",
        due_at=T0,
        at=at,
        warn_before=4 * HOUR,
        admin_after=24 * HOUR,
        has_department=has_department,
    )
    return [(a.deadline, a.level) for a in alarms]


def test_the_escalation_ladder_climbs_with_time() -> None:
    assert ladder(T0 - 5 * HOUR) == []
    assert ladder(T0 - 3 * HOUR) == [("response", 0)]
    assert ladder(T0) == [("response", 0), ("response", 1)]
    assert ladder(T0 + 23 * HOUR) == [("response", 0), ("response", 1)]
    assert ladder(T0 + 24 * HOUR) == [("response", 0), ("response", 1), ("response", 2)]


def test_without_a_department_a_miss_goes_straight_to_the_center() -> None:
    assert ladder(T0, has_department=False) == [("response", 0), ("response", 2)]


def test_working_day_deadlines_end_at_midnight_beijing_time() -> None:
    due = rules.end_of_day(date(2026, 5, 13))
    assert due.astimezone(UTC) == datetime(2026, 5, 13, 16, 0, tzinfo=UTC)


def test_countdown() -> None:
    assert rules.countdown(T0, T0 - HOUR, None) == {"status": "open", "seconds": 3600}
    assert rules.countdown(T0, T0 + HOUR, None) == {"status": "overdue", "seconds": -3600}
    assert rules.countdown(T0, T0 + HOUR, T0 - HOUR)["status"] == "met"
    assert rules.countdown(T0, T0 + HOUR, T0 + HOUR)["status"] == "late"
