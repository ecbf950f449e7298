"""Timeouts, retries with backoff and a circuit breaker per provider.

A provider that is down must cost the case a clear "please provide the document",
not a crash, a hang or a silent pass. ``call`` runs one question against a provider:

* every attempt has a deadline — HTTP sources through their client's timeout, SQL
  and file sources by running the attempt on a worker thread and waiting at most
  that long (a stuck query keeps its thread, but the request moves on);
* transient failures (``rules.TRANSIENT``: down, timed out, unreachable) are tried
  again after an exponential, jittered delay; a wrong question is not;
* each provider has a circuit breaker: after N consecutive failures it opens and
  answers "unavailable" at once; after a cool-down one trial call is let through
  (half-open) and its result closes or re-opens the circuit.

Breakers live in the process (each worker learns on its own, which is the usual
trade-off: no shared state to fail). The clock is injectable for tests.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TypeVar

from tongban.errors import DomainError
from tongban.exchange.rules import TRANSIENT, UNAVAILABLE_EN, UNAVAILABLE_ZH, backoff_delay

log = logging.getLogger(__name__)
T = TypeVar("T")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class Unavailable(DomainError):
    """The provider could not answer; the case falls back to the paper document."""

    status = 503

    def __init__(self, cause: str, *, attempts: int, provider: str) -> None:
        super().__init__(
            cause,
            UNAVAILABLE_ZH,
            UNAVAILABLE_EN,
            details={"provider": provider, "attempts": attempts},
        )
        self.attempts = attempts


class CircuitBreaker:
    def __init__(
        self, *, failures: int, cooldown: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failures = failures
        self.cooldown = cooldown
        self.clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._consecutive = 0
        self._opened_at = 0.0
        self._trial_started = 0.0

    @property
    def state(self) -> str:
        with self._lock:
            if self._state == OPEN and self.clock() - self._opened_at >= self.cooldown:
                return HALF_OPEN
            return self._state

    def allow(self) -> bool:
        """May a call go to the provider now? In half-open state, one trial at a time."""
        with self._lock:
            moment = self.clock()
            if self._state == CLOSED:
                return True
            if self._state == OPEN and moment - self._opened_at < self.cooldown:
                return False
            if self._state == HALF_OPEN and moment - self._trial_started < self.cooldown:
                return False  # a trial is out (one that never reported is given up on)
            self._state, self._trial_started = HALF_OPEN, moment
            return True

    def success(self) -> None:
        with self._lock:
            self._state, self._consecutive = CLOSED, 0

    def failure(self) -> None:
        with self._lock:
            self._consecutive += 1
            if self._state == HALF_OPEN or self._consecutive >= self.failures:
                self._state, self._opened_at = OPEN, self.clock()


class Breakers:
    """One breaker per provider code, configured from the provider's row."""

    def __init__(self) -> None:
        self.clock: Callable[[], float] = time.monotonic
        self._lock = threading.Lock()
        self._by_provider: dict[str, CircuitBreaker] = {}

    def get(self, provider: str, *, failures: int, cooldown: float) -> CircuitBreaker:
        with self._lock:
            breaker = self._by_provider.get(provider)
            if breaker is None:
                breaker = CircuitBreaker(failures=failures, cooldown=cooldown, clock=self.clock)
                self._by_provider[provider] = breaker
            breaker.failures, breaker.cooldown = failures, cooldown
            return breaker

    def states(self) -> dict[str, str]:
        with self._lock:
            breakers = dict(self._by_provider)
        return {code: breaker.state for code, breaker in breakers.items()}

    def reset(self, clock: Callable[[], float] = time.monotonic) -> None:
        with self._lock:
            self._by_provider.clear()
            self.clock = clock


breakers = Breakers()


@dataclass(frozen=True)
class Policy:
    timeout: float
    retries: int
    backoff: float
    backoff_cap: float = 2.0
    own_deadline: bool = True  # False: the attempt enforces its timeout itself (HTTP)


_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="exchange")


def _with_deadline(attempt: Callable[[], T], timeout: float) -> T:
    future = _pool.submit(attempt)
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()
        raise DomainError(
            "exchange_timeout",
            f"数据源在 {timeout:g} 秒内未应答",
            f"The source did not answer within {timeout:g} s",
            status=504,
        ) from None


def call(
    attempt: Callable[[], T],
    *,
    provider: str,
    breaker: CircuitBreaker,
    policy: Policy,
    sleep: Callable[[float], None] = time.sleep,
    draw: Callable[[], float] = random.random,
) -> tuple[T, int]:
    """``attempt()``'s value and the number of tries; ``Unavailable`` when it cannot be had.

    A DomainError that is not transient (a bad key, an unverifiable record) means the
    provider did answer: it closes the breaker's count and is raised as it is.
    """
    if not breaker.allow():
        raise Unavailable("exchange_circuit_open", attempts=0, provider=provider)
    tries = 0
    while True:
        tries += 1
        try:
            value = _with_deadline(attempt, policy.timeout) if policy.own_deadline else attempt()
        except DomainError as error:
            if error.code not in TRANSIENT:
                breaker.success()
                raise
            breaker.failure()
            cause = error.code
        except Exception:  # a bug or an unexpected driver error: no retry, but no crash
            log.exception("exchange provider %s failed unexpectedly", provider)
            breaker.failure()
            raise Unavailable(
                "exchange_provider_error", attempts=tries, provider=provider
            ) from None
        else:
            breaker.success()
            return value, tries
        if tries > policy.retries or not breaker.allow():
            raise Unavailable(cause, attempts=tries, provider=provider)
        sleep(backoff_delay(tries, base=policy.backoff, cap=policy.backoff_cap, draw=draw))
