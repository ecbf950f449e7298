"""Pure exchange rules: provider statuses, claims, authorization decisions, backoff, percentiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tongban.errors import Forbidden, Invalid
from tongban.exchange import rules
from tongban.exchange.rules import ClaimSpec, Grant

AT = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def grant(**changes: object) -> Grant:
    base: dict[str, object] = {
        "id": 1,
        "purpose": "housing_fund_loan",
        "legal_basis": "law",
        "elements": frozenset({"DE0002"}),
        "claims": frozenset({"owns_property"}),
    }
    return Grant(**{**base, **changes})  # type: ignore[arg-type]


def decide(grants: list[Grant], **ask: object) -> Grant:
    request: dict[str, object] = {
        "purpose": "housing_fund_loan",
        "elements": [],
        "claim": "owns_property",
        "at": AT,
        "who": "item:X",
        "service": "realestate.ownership",
    }
    return rules.authorize(grants, **{**request, **ask})  # type: ignore[arg-type]


def test_provider_statuses_move_only_along_the_table() -> None:
    assert rules.next_status("pending", "approve") == "approved"
    assert rules.next_status("pending", "reject") == "rejected"
    assert rules.next_status("approved", "enable") == "enabled"
    assert rules.next_status("enabled", "disable") == "disabled"
    assert rules.next_status("disabled", "enable") == "enabled"
    for current, action in [
        ("pending", "enable"),
        ("rejected", "approve"),
        ("rejected", "enable"),
        ("approved", "approve"),
        ("enabled", "approve"),
        ("disabled", "disable"),
    ]:
        assert rules.next_status(current, action) is None, (current, action)


def test_deny_by_default_and_each_refusal_has_its_code() -> None:
    with pytest.raises(Forbidden) as none:
        decide([])
    assert none.value.code == "exchange_not_authorized"
    with pytest.raises(Forbidden) as purpose:
        decide([grant()], purpose="marketing")
    assert purpose.value.code == "exchange_not_authorized"
    assert purpose.value.details["authorized_purposes"] == ["housing_fund_loan"]
    with pytest.raises(Forbidden) as element:
        decide([grant()], elements=["DE0002", "DE0012"], claim=None)
    assert element.value.code == "exchange_element_not_authorized"
    assert element.value.details["missing"] == ["DE0012"]
    with pytest.raises(Forbidden) as claim:
        decide([grant()], claim="owns_certificate")
    assert claim.value.details["missing"] == ["claim:owns_certificate"]


def test_a_grant_covers_a_subset_and_expires() -> None:
    wide = grant(elements=frozenset({"DE0002", "DE0005"}))
    assert decide([wide], elements=["DE0005"], claim=None) is wide
    assert decide([grant(), wide], elements=["DE0002", "DE0005"], claim=None) is wide
    expired = grant(valid_until=AT - timedelta(seconds=1))
    with pytest.raises(Forbidden, match="not authorized"):
        decide([expired])
    assert decide([grant(valid_until=AT + timedelta(days=1))]).id == 1


def test_claims_take_exactly_their_values_and_add_fixed_ones() -> None:
    owner = ClaimSpec.from_json({"label": "权利人", "equals": ["DE0010"]})
    assert rules.claim_values(owner, "owns_certificate", {"DE0010": "X"}) == {"DE0010": "X"}
    enrolled = ClaimSpec.from_json({"label": "参保", "fixed": {"DE0015": "1"}})
    assert rules.claim_values(enrolled, "enrolled", {}) == {"DE0015": "1"}
    assert enrolled.elements() == ("DE0015",)
    for given in ({}, {"DE0010": "X", "DE0002": "Y"}):
        with pytest.raises(Invalid) as error:
            rules.claim_values(owner, "owns_certificate", given)
        assert error.value.code == "exchange_claim_values"
    # A claim valid "until" a date: the asker gives the agent, the date is the record's own.
    agent = ClaimSpec.from_json({"label": "经办人", "equals": ["DE0031"], "until": ["DE0032"]})
    assert (agent.until, agent.elements()) == (("DE0032",), ("DE0031", "DE0032"))
    assert rules.claim_values(agent, "authorized_agent", {"DE0031": "X"}) == {"DE0031": "X"}
    assert ClaimSpec.from_json({"label": "旧"}).until == ()  # claims stored before `until`


def test_consent_is_valid_between_given_and_expiry_until_revoked() -> None:
    given, expires = AT - timedelta(days=1), AT + timedelta(days=1)
    assert rules.consent_valid(given_at=given, expires_at=expires, revoked_at=None, at=AT)
    assert not rules.consent_valid(given_at=given, expires_at=AT, revoked_at=None, at=AT)
    assert not rules.consent_valid(given_at=given, expires_at=expires, revoked_at=AT, at=AT)
    assert rules.consent_valid(given_at=given, expires_at=expires, revoked_at=expires, at=AT)


def test_consumers_are_kind_colon_name() -> None:
    assert rules.parse_consumer(rules.consumer_label("item", "1164")) == ("item", "1164")
    for bad in ("clerk", "user:x", "role:"):
        with pytest.raises(Invalid):
            rules.parse_consumer(bad)


def test_backoff_doubles_is_capped_and_jittered_within_the_upper_half() -> None:
    delays = [rules.backoff_delay(n, base=0.1, cap=0.5, draw=lambda: 1.0) for n in (1, 2, 3, 4)]
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.5])
    assert rules.backoff_delay(3, base=0.1, cap=0.5, draw=lambda: 0.0) == pytest.approx(0.2)


def test_percentiles_by_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert [rules.percentile(values, q) for q in (50, 95, 99, 100)] == [50, 95, 99, 100]
    assert rules.percentile([7.0], 99) == 7.0
    assert rules.percentile([], 50) == 0.0
