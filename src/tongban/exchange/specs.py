"""Plain snapshots of a provider and a service, as the request path reads them.

The hot path reads both in one Core query and works with these values: no ORM
objects to track, and nothing that lazily loads outside the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProviderConfig:
    code: str
    name: str
    department_code: str
    kind: str
    location: str
    mapping: str
    status: str
    timeout_seconds: float
    retries: int
    breaker_failures: int
    breaker_cooldown_seconds: float


@dataclass(frozen=True)
class ServiceSpec:
    code: str
    name: str
    elements: list[str]
    claims: dict[str, Any]
