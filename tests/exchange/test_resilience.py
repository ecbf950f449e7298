"""Circuit breaker with a controlled clock; retries, backoff and deadlines of ``call``."""

from __future__ import annotations

import time

import pytest

from tongban.errors import DomainError, Invalid
from tongban.exchange.resilience import CircuitBreaker, Policy, Unavailable, call


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def down() -> str:
    raise DomainError("source_unavailable", "数据源暂时无法访问", "not available", status=503)


def test_the_breaker_opens_after_n_failures_and_lets_one_trial_through_after_the_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=3, cooldown=30, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.failure()
    assert breaker.state == "closed"
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    clock.now += 29.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.state == "half_open"
    assert breaker.allow()  # the one trial
    assert not breaker.allow()  # nobody else while it is out
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    clock.now += 30
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and breaker.allow()


def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    breaker = CircuitBreaker(failures=2, cooldown=30, clock=Clock())
    breaker.failure()
    breaker.success()
    breaker.failure()
    assert breaker.state == "closed"


def test_transient_failures_are_retried_with_growing_delays_then_unavailable() -> None:
    slept: list[float] = []
    breaker = CircuitBreaker(failures=10, cooldown=30, clock=Clock())
    policy = Policy(timeout=1, retries=3, backoff=0.1, own_deadline=False)
    with pytest.raises(Unavailable) as error:
        call(down, provider="p", breaker=breaker, policy=policy, sleep=slept.append, draw=lambda: 1)
    assert error.value.code == "source_unavailable" and error.value.attempts == 4
    assert error.value.status == 503 and "请提供" in error.value.message_zh
    assert slept == pytest.approx([0.1, 0.2, 0.4])


def test_retries_stop_when_the_breaker_opens() -> None:
    breaker = CircuitBreaker(failures=2, cooldown=30, clock=Clock())
    policy = Policy(timeout=1, retries=5, backoff=0, own_deadline=False)
    with pytest.raises(Unavailable) as first:
        call(down, provider="p", breaker=breaker, policy=policy, sleep=lambda _: None)
    assert first.value.attempts == 2
    with pytest.raises(Unavailable) as second:
        call(down, provider="p", breaker=breaker, policy=policy, sleep=lambda _: None)
    assert second.value.code == "exchange_circuit_open" and second.value.attempts == 0


def test_a_wrong_question_is_not_retried_and_counts_as_an_answer() -> None:
    tries: list[int] = []

    def invalid() -> str:
        tries.append(1)
        raise Invalid("invalid_key", "查询键无效", "invalid key")

    breaker = CircuitBreaker(failures=1, cooldown=30, clock=Clock())
    policy = Policy(timeout=1, retries=3, backoff=0, own_deadline=False)
    with pytest.raises(Invalid):
        call(invalid, provider="p", breaker=breaker, policy=policy)
    assert len(tries) == 1 and breaker.state == "closed"


def test_an_unexpected_exception_becomes_unavailable_not_a_crash() -> None:
    def bug() -> str:
        raise KeyError("oops")

    breaker = CircuitBreaker(failures=5, cooldown=30, clock=Clock())
    with pytest.raises(Unavailable) as error:
        call(bug, provider="p", breaker=breaker, policy=Policy(timeout=1, retries=3, backoff=0))
    assert error.value.code == "exchange_provider_error" and error.value.attempts == 1


def test_an_attempt_over_its_deadline_is_abandoned() -> None:
    def slow() -> str:
        time.sleep(0.5)
        return "late"

    breaker = CircuitBreaker(failures=5, cooldown=30, clock=Clock())
    started = time.perf_counter()
    with pytest.raises(Unavailable) as error:
        call(slow, provider="p", breaker=breaker, policy=Policy(timeout=0.1, retries=1, backoff=0))
    assert error.value.code == "exchange_timeout" and error.value.attempts == 2
    assert time.perf_counter() - started < 0.45
    value, tries = call(lambda: "fast", provider="p", breaker=breaker, policy=Policy(1, 0, 0))
    assert (value, tries) == ("fast", 1)
