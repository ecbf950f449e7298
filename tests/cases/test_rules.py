"""The transition table, tested exhaustively: every state × action × role."""

from __future__ import annotations

import itertools

import pytest

from tongban.access.rules import Role
from tongban.cases import rules
from tongban.cases.rules import TRANSITIONS, Action, State
from tongban.errors import DomainError

EXPECTED_ALLOWED = {
    (State.SUBMITTED, Action.START_PREREVIEW): (State.PREREVIEW, {Role.CLERK}),
    (State.SUBMITTED, Action.ACCEPT): (State.IN_REVIEW, {Role.CLERK}),
    (State.PREREVIEW, Action.ACCEPT): (State.IN_REVIEW, {Role.CLERK}),
    (State.SUBMITTED, Action.REFUSE): (State.REFUSED, {Role.CLERK}),
    (State.PREREVIEW, Action.REFUSE): (State.REFUSED, {Role.CLERK}),
    (State.SUBMITTED, Action.REQUEST_SUPPLEMENT): (State.SUPPLEMENT, {Role.CLERK}),
    (State.PREREVIEW, Action.REQUEST_SUPPLEMENT): (State.SUPPLEMENT, {Role.CLERK}),
    (State.IN_REVIEW, Action.REQUEST_SUPPLEMENT): (State.REVIEW_SUPPLEMENT, {Role.REVIEWER}),
    (State.SUPPLEMENT, Action.SUPPLEMENT): (State.PREREVIEW, {Role.APPLICANT, Role.CLERK}),
    (State.REVIEW_SUPPLEMENT, Action.SUPPLEMENT): (State.IN_REVIEW, {Role.APPLICANT, Role.CLERK}),
    (State.SUBMITTED, Action.ACCEPT_MATERIAL): (State.SUBMITTED, {Role.CLERK}),
    (State.PREREVIEW, Action.ACCEPT_MATERIAL): (State.PREREVIEW, {Role.CLERK}),
    (State.SUBMITTED, Action.REJECT_MATERIAL): (State.SUBMITTED, {Role.CLERK}),
    (State.PREREVIEW, Action.REJECT_MATERIAL): (State.PREREVIEW, {Role.CLERK}),
    (State.IN_REVIEW, Action.START_SPECIAL): (State.SUSPENDED, {Role.REVIEWER}),
    (State.SUSPENDED, Action.FINISH_SPECIAL): (State.IN_REVIEW, {Role.REVIEWER}),
    (State.IN_REVIEW, Action.APPROVE_TASK): (State.IN_REVIEW, {Role.REVIEWER}),
    (State.IN_REVIEW, Action.DENY_TASK): (State.IN_REVIEW, {Role.REVIEWER}),
    (State.IN_REVIEW, Action.DECIDE): (State.DECIDED, {Role.CLERK, Role.REVIEWER}),
    (State.DECIDED, Action.CLOSE): (State.CLOSED, {Role.CLERK}),
    (State.CLOSED, Action.DELIVER): (State.DELIVERED, {Role.CLERK}),
    # 电子送达: fired by the platform on the applicant's first download (送达回证).
    (State.CLOSED, Action.RECEIVE_ELECTRONIC): (State.DELIVERED, {Role.APPLICANT}),
    **{
        (s, Action.WITHDRAW): (State.WITHDRAWN, {Role.APPLICANT, Role.CLERK})
        for s in (
            State.SUBMITTED,
            State.PREREVIEW,
            State.SUPPLEMENT,
            State.IN_REVIEW,
            State.REVIEW_SUPPLEMENT,
            State.SUSPENDED,
        )
    },
}


def test_table_is_exactly_the_expected_one() -> None:
    actual = {key: (t.to_state, set(t.roles)) for key, t in TRANSITIONS.items()}
    assert actual == EXPECTED_ALLOWED


@pytest.mark.parametrize(("state", "action", "role"), list(itertools.product(State, Action, Role)))
def test_every_state_action_role(state: State, action: Action, role: Role) -> None:
    expected = EXPECTED_ALLOWED.get((state, action))
    if expected is None:
        with pytest.raises(DomainError) as caught:
            rules.transition_for(state, action, role)
        assert caught.value.code == "action_not_allowed_in_state"
        assert caught.value.status == 409
    elif role not in expected[1]:
        with pytest.raises(DomainError) as caught:
            rules.transition_for(state, action, role)
        assert caught.value.code == "role_not_allowed"
        assert caught.value.status == 403
    else:
        assert rules.transition_for(state, action, role).to_state == expected[0]


def test_internal_actions_cannot_be_requested() -> None:
    with pytest.raises(DomainError) as caught:
        rules.parse_action("receive_electronic")
    assert caught.value.code == "unknown_action"
    assert "receive_electronic" not in caught.value.details["allowed"]
    assert rules.parse_action("deliver") == Action.DELIVER
    assert Action.RECEIVE_ELECTRONIC not in rules.actions_for(State.CLOSED, Role.APPLICANT)


def test_terminal_states_allow_nothing() -> None:
    for state in rules.TERMINAL_STATES:
        for role in Role:
            assert rules.actions_for(state, role) == []


def test_every_state_and_action_has_a_label() -> None:
    assert set(rules.STATE_LABELS) == {s.value for s in State}
    assert {a.value for a in Action} <= set(rules.ACTION_LABELS)


def test_unknown_action_is_a_clear_error() -> None:
    with pytest.raises(DomainError) as caught:
        rules.parse_action("approve_everything")
    assert caught.value.code == "unknown_action"


def test_national_codes_of_key_actions() -> None:
    assert TRANSITIONS[(State.SUBMITTED, Action.ACCEPT)].national_code == 3
    assert TRANSITIONS[(State.SUBMITTED, Action.REFUSE)].national_code == 5
    assert TRANSITIONS[(State.IN_REVIEW, Action.START_SPECIAL)].national_code == 9
    assert rules.closing_code("approve") == 11
    assert rules.closing_code("deny") == 13
