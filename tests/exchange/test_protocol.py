"""Signed envelopes: canonical bytes, Ed25519 and SM2 signatures, binding, freshness."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from tongban.audit.signing import generate
from tongban.exchange import protocol
from tongban.exchange.protocol import ProtocolError, RequestBody, ResponseBody

AT = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def request_body(**changes: object) -> RequestBody:
    return RequestBody(
        request_id=protocol.new_id(),
        consumer_node="county-a",
        consumer="item:11640425MB00009TBM201007100100001",
        provider_node="county-b",
        service="realestate.ownership",
        claim="owns_property",
        subject="640425199003159981",
        purpose="housing_fund_loan",
        legal_basis="law",
        case_no="640425-20261127-000001",
        issued_at=protocol.iso(AT),
        nonce=protocol.new_id(),
        **changes,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("algorithm", ["ed25519", "sm2"])
def test_a_signed_request_verifies_and_any_change_breaks_it(algorithm: str) -> None:
    signer = generate(algorithm)
    message = protocol.signed_request(request_body(), signer)
    assert protocol.signature_holds(message, protocol.REQUEST_CONTEXT, signer)
    assert protocol.parse_request(message).subject == "640425199003159981"
    for field, value in [("purpose", "marketing"), ("subject", "640425196509209997")]:
        altered = copy.deepcopy(message)
        altered["body"][field] = value
        assert not protocol.signature_holds(altered, protocol.REQUEST_CONTEXT, signer)
    # A request signature is no response signature, and another key is another key.
    assert not protocol.signature_holds(message, protocol.RESPONSE_CONTEXT, signer)
    assert not protocol.signature_holds(message, protocol.REQUEST_CONTEXT, generate(algorithm))


def test_canonical_bytes_do_not_depend_on_key_order_or_spacing() -> None:
    assert protocol.canonical({"b": 1, "a": "彭阳"}) == '{"a":"彭阳","b":1}'.encode()


def test_the_response_is_bound_to_the_whole_signed_request() -> None:
    signer = generate("ed25519")
    message = protocol.signed_request(request_body(), signer)
    other = protocol.signed_request(request_body(), signer)
    assert protocol.message_hash(message) != protocol.message_hash(other)
    response = ResponseBody(
        request_id=message["body"]["request_id"],
        request_hash=protocol.message_hash(message),
        provider_node="county-b",
        status="answered",
        claim_holds=False,
        issued_at=protocol.iso(AT),
    )
    reply = protocol.signed_response(response, signer)
    assert protocol.signature_holds(reply, protocol.RESPONSE_CONTEXT, signer)
    assert protocol.parse_response(reply).request_hash == protocol.message_hash(message)
    flipped = copy.deepcopy(reply)
    flipped["body"]["claim_holds"] = True
    assert not protocol.signature_holds(flipped, protocol.RESPONSE_CONTEXT, signer)


def test_malformed_messages_are_refused_with_a_code() -> None:
    signer = generate("ed25519")
    good = protocol.signed_request(request_body(), signer)
    extra = copy.deepcopy(good)
    extra["body"]["unexpected"] = 1
    for bad in (None, {}, {"body": good["body"]}, extra, {**good, "more": 1}):
        with pytest.raises(ProtocolError) as error:
            protocol.parse_request(bad)
        assert error.value.code == "exchange_malformed_message" and error.value.status == 400
    broken = copy.deepcopy(good)
    broken["signature"]["value"] = "not base64!"
    assert not protocol.signature_holds(broken, protocol.REQUEST_CONTEXT, signer)


def test_stale_or_future_timestamps_are_refused() -> None:
    protocol.check_fresh(protocol.iso(AT - timedelta(seconds=299)), now=AT, max_skew_seconds=300)
    for moment in ("2026-11-27T01:54:00Z", "2026-11-27T02:06:00Z", "yesterday", "2026-11-27T02:00"):
        with pytest.raises(ProtocolError) as error:
            protocol.check_fresh(moment, now=AT, max_skew_seconds=300)
        assert error.value.code == "exchange_stale_message"
