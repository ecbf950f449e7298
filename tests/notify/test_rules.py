"""Pure delivery rules: keys, retries, outcomes, addresses."""

from __future__ import annotations

from tongban.notify import rules
from tongban.notify.rules import Outcome


def test_row_keys_are_unique_bounded_and_stable() -> None:
    key = rules.row_key("case:640425-20261203-000001:7:u12", "email", "u12")
    assert key == "case:640425-20261203-000001:7:u12:email:u12"
    long_a = rules.row_key("x" * 400 + "a", "sms", "u1")
    long_b = rules.row_key("x" * 400 + "b", "sms", "u1")
    assert len(long_a) <= rules.KEY_LIMIT and len(long_b) <= rules.KEY_LIMIT
    assert long_a != long_b
    assert rules.row_key("x" * 400 + "a", "sms", "u1") == long_a


def test_gateway_and_mail_keys_are_opaque_and_stable() -> None:
    key = "case:640425-20261203-000001:7:u12:sms:u12"
    assert rules.idempotency_key(key) == rules.idempotency_key(key)
    assert "640425" not in rules.idempotency_key(key)
    assert len(rules.idempotency_key(key)) == 64
    message_id = rules.message_id(key, "通办 <noreply@zwfw.example.cn>")
    assert message_id.startswith("<") and message_id.endswith("@zwfw.example.cn>")
    assert message_id == rules.message_id(key, "noreply@zwfw.example.cn")


def test_retries_back_off_exponentially_up_to_a_cap() -> None:
    delays = [rules.retry_delay(n, base=60, cap=3600) for n in range(1, 9)]
    assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert rules.after_failure(Outcome("retry", "http_503"), 1, 6) == "pending"
    assert rules.after_failure(Outcome("retry", "http_503"), 6, 6) == "failed"
    assert rules.after_failure(Outcome("failed", "http_400"), 1, 6) == "failed"


def test_the_gateway_contract() -> None:
    assert rules.http_outcome(200, "gw-1") == Outcome("sent", ref="gw-1")
    assert rules.http_outcome(202).kind == "sent"
    assert rules.http_outcome(400) == Outcome("failed", "http_400")
    assert rules.http_outcome(401).kind == "failed"
    assert rules.http_outcome(429).kind == "retry"
    assert rules.http_outcome(500).kind == "retry"
    assert rules.http_outcome(503) == Outcome("retry", "http_503")


def test_smtp_replies() -> None:
    assert rules.smtp_outcome(451).kind == "retry"
    assert rules.smtp_outcome(421).kind == "retry"
    assert rules.smtp_outcome(550) == Outcome("failed", "smtp_550")
    assert rules.smtp_outcome(535).kind == "retry"  # bad credentials: fixed by the operator


def test_addresses_are_checked_and_masked() -> None:
    assert rules.normalize_phone("139 1234 5678") == "13912345678"
    assert rules.normalize_phone("+86 139-1234-5678") == "+8613912345678"
    assert rules.normalize_phone("not a phone") is None
    assert rules.valid_email("ma.xiaoyan@example.cn")
    assert not rules.valid_email("ma@example.cn\r\nBcc: x@evil.example")
    assert not rules.valid_email("no-at-sign")
    assert rules.mask_address("sms", "13912345678") == "139****5678"
    assert rules.mask_address("email", "ma.xiaoyan@example.cn") == "m***@example.cn"


def test_parameters_are_cleaned() -> None:
    assert rules.clean("a\x00b\x1bc\n") == "abc"
    assert len(rules.clean("x" * 1000)) == 500
