"""verify(): claims and comparisons through the full path, deny by default, consent, audit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from exchange_support import AID, LI, LOAN, MA, demo_actor, entries, last_seq
from tongban.exchange import service
from tongban.exchange.models import ExchangeAuthorization, ExchangeCall
from tongban.exchange.rules import UNAVAILABLE_ZH
from tongban.exchange.schemas import ConsentCreate
from tongban.kit.clock import now
from tongban.privacy.crypto import person_ref


def check(session: Session, username: str = "clerk", **ask: Any) -> service.VerificationResult:
    request: dict[str, Any] = {
        "service_code": "population.person_basic",
        "subject": MA.id_number,
        "purpose": "identity_check",
        "claim": "name_matches",
        "claim_values": {"DE0002": MA.name},
    }
    return service.verify(session, actor=demo_actor(session, username), **{**request, **ask})


def test_a_claim_is_answered_yes_or_no_and_nothing_else(exchange_session: Session) -> None:
    yes = check(exchange_session)
    assert (yes.outcome, yes.code, yes.source) == ("verified", "", "公安人口库")
    assert yes.records == () and yes.fields == ()
    no = check(exchange_session, claim_values={"DE0002": "马小燕"})
    assert (no.outcome, no.code) == ("mismatch", "exchange_claim_false")
    # The identity number is cleaned on the way (lower-case x, spaces) like at the source.
    assert check(exchange_session, subject=f" {MA.id_number.lower()} ").outcome == "verified"


def test_the_loan_checks_of_the_two_demo_applicants(exchange_session: Session) -> None:
    clerk = demo_actor(exchange_session, "clerk")

    def loan(person: Any, **ask: Any) -> str:
        return service.verify(
            exchange_session,
            actor=clerk,
            consumer_item_code=LOAN,
            subject=person.id_number,
            purpose="housing_fund_loan",
            **ask,
        ).outcome

    enrolled = {"service_code": "social_insurance.enrolment", "claim": "enrolled"}
    assert loan(MA, **enrolled) == "verified"
    named = {"service_code": "population.person_basic", "claim": "name_matches"}
    assert loan(MA, **named, claim_values={"DE0002": MA.name}) == "verified"
    assert loan(LI, **named, claim_values={"DE0002": LI.name}) == "verified"


def test_deny_by_default(exchange_session: Session) -> None:
    refusals = [
        (check(exchange_session, "reviewer_gaj"), "exchange_not_authorized"),
        (check(exchange_session, purpose="marketing"), "exchange_not_authorized"),
        (
            check(exchange_session, claim="registered_in_county", claim_values={}),
            "exchange_element_not_authorized",
        ),
        (
            check(exchange_session, claim=None, claim_values={}, expected={"DE0005": "彭阳县"}),
            "exchange_element_not_authorized",
        ),
        (
            check(
                exchange_session,
                service_code="realestate.ownership",
                claim="owns_property",
                claim_values={},
            ),
            "exchange_not_authorized",
        ),
        (
            service.verify(
                exchange_session,
                actor=demo_actor(exchange_session, "clerk"),
                consumer_item_code="11640425MB00002TBX011000100100001",  # 个体工商户登记
                service_code="population.person_basic",
                subject=MA.id_number,
                purpose="identity_check",
                claim="name_matches",
                claim_values={"DE0002": MA.name},
            ),
            "exchange_not_authorized",
        ),
    ]
    for result, code in refusals:
        assert (result.outcome, result.code) == ("denied", code)
        assert result.message_zh and result.message_en


def test_a_revoked_or_expired_authorization_no_longer_covers(exchange_session: Session) -> None:
    admin = demo_actor(exchange_session, "admin")
    grant = exchange_session.scalars(
        select(ExchangeAuthorization).where(ExchangeAuthorization.consumer == "clerk")
    ).one()
    grant.valid_until = now() - timedelta(seconds=1)
    exchange_session.flush()
    assert check(exchange_session).code == "exchange_not_authorized"
    grant.valid_until = None
    exchange_session.flush()
    assert check(exchange_session).outcome == "verified"
    service.revoke_authorization(
        exchange_session, actor=admin, authorization_id=grant.id, note="停用"
    )
    assert check(exchange_session).code == "exchange_not_authorized"


def test_a_consent_basis_needs_the_persons_valid_consent(exchange_session: Session) -> None:
    def owns(person: Any) -> service.VerificationResult:
        return service.verify(
            exchange_session,
            actor=demo_actor(exchange_session, "clerk"),
            consumer_item_code=LOAN,
            service_code="realestate.ownership",
            claim="owns_property",
            subject=person.id_number,
            purpose="housing_fund_loan",
        )

    assert owns(MA).code == "exchange_consent_missing"
    consent = ConsentCreate(
        consumer=f"item:{LOAN}", service_code="realestate.ownership", purpose="housing_fund_loan"
    )
    ma = demo_actor(exchange_session, "applicant_ma")
    given = service.give_consent(exchange_session, actor=ma, data=consent)
    assert owns(MA).outcome == "mismatch"  # 马晓燕 owns no property: what the loan wants
    assert owns(LI).code == "exchange_consent_missing"  # her consent is hers only
    other_purpose = consent.model_copy(update={"purpose": "subsistence_assessment"})
    service.give_consent(
        exchange_session, actor=demo_actor(exchange_session, "applicant_li"), data=other_purpose
    )
    assert owns(LI).code == "exchange_consent_missing"
    service.revoke_consent(exchange_session, actor=ma, consent_id=given.id)
    assert owns(MA).code == "exchange_consent_missing"
    # At the window, a clerk records a consent given on paper.
    service.give_consent(
        exchange_session,
        actor=demo_actor(exchange_session, "clerk"),
        data=consent,
        id_number=LI.id_number,
    )
    assert owns(LI).outcome == "verified"


def test_values_are_compared_masked_and_only_authorized_elements_come_back(
    exchange_session: Session,
) -> None:
    def compare(expected: dict[str, str]) -> service.VerificationResult:
        return service.verify(
            exchange_session,
            actor=demo_actor(exchange_session, "clerk"),
            consumer_item_code=AID,
            service_code="population.person_basic",
            subject=LI.id_number,
            purpose="subsistence_assessment",
            expected=expected,
        )

    same = compare({"name": LI.name, "marital_status": "已婚"})  # labels are cleaned to codes
    assert same.outcome == "verified"
    assert [set(r) for r in same.records] == [{"DE0002", "DE0009"}]
    differs = compare({"DE0002": "李建君", "DE0009": "20"})
    assert (differs.outcome, differs.code) == ("mismatch", "exchange_values_differ")
    assert differs.records == ()
    name, marital = differs.fields
    assert (name.element, name.matches, name.declared, name.registered) == (
        "DE0002",
        False,
        "李**",
        "李**",
    )
    assert marital.matches and "姓名" in differs.message_zh


def test_every_exchange_is_audited_and_measured_without_the_payload(
    exchange_session: Session, exchange_db: str
) -> None:
    before = last_seq(exchange_session)
    result = check(exchange_session, case_no="640425-20261127-000001")
    denied = check(exchange_session, "reviewer_gaj")
    exchange_session.commit()
    request, response, refused = entries(exchange_session, after=before)
    assert (request.action, response.action, refused.action) == (
        "exchange_request",
        "exchange",
        "exchange_request",
    )
    assert request.subject_ref == response.subject_ref == result.request_id
    assert request.person_ref == person_ref(MA.id_number) == refused.person_ref
    assert request.fields == ["claim:name_matches"] and request.purpose_code == "exchange"
    assert (request.result, response.result, refused.result) == ("ok", "ok", "denied")
    assert refused.subject_ref == denied.request_id and "未获授权" in refused.purpose_text
    call = exchange_session.scalars(
        select(ExchangeCall).where(ExchangeCall.request_id == result.request_id)
    ).one()
    assert call.outcome == "answered" and call.side == "local" and call.latency_ms > 0
    assert call.case_no == "640425-20261127-000001" and call.consumer == "role:clerk"
    assert f"sha256:{call.request_hash}" in request.purpose_text
    assert f"sha256:{call.response_hash}" in response.purpose_text
    assert "640425-20261127-000001" in request.purpose_text
    # Neither the identity number nor the name is stored anywhere in plain text.
    dump = "\n".join(
        str(row)
        for table in ("audit_entries", "exchange_calls", "exchange_authorizations")
        for row in exchange_session.execute(text(f"SELECT * FROM {table}"))
    )
    assert MA.id_number not in dump and MA.name not in dump and MA.id_number[-8:] not in dump


def test_a_disabled_provider_means_please_provide_the_document(exchange_session: Session) -> None:
    admin = demo_actor(exchange_session, "admin")
    service.set_provider_status(exchange_session, actor=admin, code="population", enabled=False)
    result = check(exchange_session)
    assert (result.outcome, result.code) == ("unavailable", "exchange_provider_disabled")
    assert result.message_zh == UNAVAILABLE_ZH and "provide the document" in result.message_en
    stats = service.stats(exchange_session, minutes=5)
    (row,) = stats.services
    assert (row.service_code, row.requests, row.unavailable) == ("population.person_basic", 1, 1)
    assert row.errors == {"exchange_provider_disabled": 1}


def test_bad_questions_are_invalid_not_denied(exchange_session: Session) -> None:
    from tongban.errors import Invalid, NotFound

    with pytest.raises(NotFound):
        check(exchange_session, service_code="population.nothing")
    for ask, code in [
        ({"claim": "owns_property"}, "exchange_claim_not_offered"),
        ({"claim_values": {}}, "exchange_claim_values"),
        (
            {"claim": None, "claim_values": {}, "elements": ["DE0010"]},
            "exchange_element_not_offered",
        ),
        ({"claim": None, "claim_values": {}}, "exchange_bad_request"),
    ]:
        with pytest.raises(Invalid) as error:
            check(exchange_session, **ask)
        assert error.value.code == code


def test_the_full_path_works_with_sm2_node_keys(
    exchange_session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from tongban.config import get_settings
    from tongban.exchange.keys import node_identity, reset_node_keys

    monkeypatch.setenv("TONGBAN_EXCHANGE_SIGNATURE_ALGORITHM", "sm2")
    monkeypatch.setenv("TONGBAN_EXCHANGE_NODE_KEY_FILE", str(tmp_path / "node-sm2.key"))
    get_settings.cache_clear()
    reset_node_keys()
    try:
        assert node_identity().algorithm == "sm2"
        assert check(exchange_session).outcome == "verified"
        assert check(exchange_session, claim_values={"DE0002": "别人"}).outcome == "mismatch"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        reset_node_keys()
