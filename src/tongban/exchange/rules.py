"""Pure exchange rules: provider statuses, claims, authorization decisions, retries, statistics.

Nothing here does I/O; the service feeds it rows turned into plain values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from tongban.errors import Forbidden, Invalid

PROVIDER_KINDS = ("sql", "file", "rest", "node")
LEGAL_BASES = ("law", "consent")
CONSUMER_KINDS = ("item", "role", "platform")
# Platform functions that ask on their own account, not for a case or a staff role:
# 实名核验 at sign-up and the link between a person and an enterprise.
PLATFORM_CONSUMERS = ("real_name_verification", "enterprise_link")

# provider action → (statuses it may start from, status it leads to)
PROVIDER_ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({"pending"}), "approved"),
    "reject": (frozenset({"pending"}), "rejected"),
    "enable": (frozenset({"approved", "disabled"}), "enabled"),
    "disable": (frozenset({"enabled"}), "disabled"),
}
STATUS_LABELS_ZH = {
    "pending": "待审核",
    "approved": "已批准",
    "rejected": "已驳回",
    "enabled": "已启用",
    "disabled": "已停用",
}

Outcome = Literal["verified", "mismatch", "unavailable", "denied"]
VERIFIED: Outcome = "verified"
MISMATCH: Outcome = "mismatch"
UNAVAILABLE: Outcome = "unavailable"
DENIED: Outcome = "denied"

# Failures worth another try: the source or the network, not the question.
TRANSIENT = frozenset(
    {"source_unavailable", "source_timeout", "exchange_timeout", "exchange_node_unreachable"}
)

UNAVAILABLE_ZH = "暂时无法通过数据共享核验，请提供相应的证明材料。"
UNAVAILABLE_EN = "Could not verify through data sharing right now; please provide the document."


def next_status(current: str, action: str) -> str | None:
    """The status ``action`` leads to from ``current``; None when it may not be taken."""
    starts, target = PROVIDER_ACTIONS[action]
    return target if current in starts else None


def consumer_label(kind: str, consumer: str) -> str:
    return f"{kind}:{consumer}"


def parse_consumer(label: str) -> tuple[str, str]:
    kind, _, consumer = label.partition(":")
    if kind not in CONSUMER_KINDS or not consumer:
        raise Invalid(
            "exchange_bad_consumer",
            f"使用方格式应为 item:<事项编码>、role:<角色> 或 platform:<平台功能>：{label}",
            f"The consumer must read item:<item code>, role:<role> or platform:<function>: {label}",
        )
    return kind, consumer


# ----------------------------------------------------------------- claims


@dataclass(frozen=True)
class ClaimSpec:
    """A yes/no question a service answers: the values the asker supplies and fixed ones.

    ``until``: date elements that end a record's validity — a record counts only while
    each of them is today or later (an agent's authorization, a licence's term).
    """

    label: str
    equals: tuple[str, ...] = ()
    fixed: Mapping[str, str] = field(default_factory=dict)
    until: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClaimSpec:
        return cls(
            label=str(data.get("label", "")),
            equals=tuple(data.get("equals", ())),
            fixed=dict(data.get("fixed", {})),
            until=tuple(data.get("until", ())),
        )

    def elements(self) -> tuple[str, ...]:
        return (*self.equals, *self.fixed, *self.until)


def claim_values(spec: ClaimSpec, name: str, values: Mapping[str, str]) -> dict[str, str]:
    """The element values a claim compares: the asker's (exactly those named) and fixed ones."""
    given, wanted = set(values), set(spec.equals)
    if given != wanted:
        raise Invalid(
            "exchange_claim_values",
            f"核验项{name}需要且只需要这些数据元的值：{sorted(wanted)}",
            f"Claim {name} takes values for exactly these elements: {sorted(wanted)}",
            details={"claim": name, "expected": sorted(wanted), "given": sorted(given)},
        )
    return {**{code: str(values[code]) for code in spec.equals}, **dict(spec.fixed)}


# ----------------------------------------------------------------- authorization


@dataclass(frozen=True)
class Grant:
    """An authorization as the decision needs it."""

    id: int
    purpose: str
    legal_basis: str
    elements: frozenset[str]
    claims: frozenset[str]
    valid_until: datetime | None = None
    purpose_label: str = ""


def authorize(
    grants: Sequence[Grant],
    *,
    purpose: str,
    elements: Sequence[str],
    claim: str | None,
    at: datetime,
    who: str,
    service: str,
) -> Grant:
    """The grant that covers this request, or Forbidden with the reason (deny by default)."""
    current = [g for g in grants if g.valid_until is None or g.valid_until > at]
    for_purpose = [g for g in current if g.purpose == purpose]
    if not for_purpose:
        raise Forbidden(
            "exchange_not_authorized",
            f"{who}未获授权以“{purpose}”为目的使用共享服务{service}。",
            f"{who} is not authorized to use {service} for the purpose '{purpose}'.",
            details={
                "service": service,
                "consumer": who,
                "purpose": purpose,
                "authorized_purposes": sorted({g.purpose for g in current}),
            },
        )
    wanted = set(elements)
    for grant in for_purpose:
        if wanted <= grant.elements and (claim is None or claim in grant.claims):
            return grant
    covered = set().union(*(g.elements for g in for_purpose))
    claims = set().union(*(g.claims for g in for_purpose))
    missing = sorted(wanted - covered) + (
        [f"claim:{claim}"] if claim and claim not in claims else []
    )
    raise Forbidden(
        "exchange_element_not_authorized",
        f"{who}未获授权获取这些数据元或核验项：{'、'.join(missing) or '（组合）'}",
        f"{who} is not authorized for these data elements or claims: {missing or '(combination)'}",
        details={"service": service, "consumer": who, "purpose": purpose, "missing": missing},
    )


def consent_missing(who: str, service: str, purpose: str) -> Forbidden:
    return Forbidden(
        "exchange_consent_missing",
        f"该共享以本人同意为依据，但未找到申请人对{who}使用{service}（{purpose}）的有效同意。",
        f"This exchange rests on consent, and the person has given no valid consent for "
        f"{who} to use {service} ({purpose}).",
        details={"service": service, "consumer": who, "purpose": purpose},
    )


def consent_valid(
    *, given_at: datetime, expires_at: datetime, revoked_at: datetime | None, at: datetime
) -> bool:
    return given_at <= at < expires_at and (revoked_at is None or revoked_at > at)


# ----------------------------------------------------------------- retries and statistics


def backoff_delay(attempt: int, *, base: float, cap: float, draw: Callable[[], float]) -> float:
    """Delay before retry number ``attempt`` (1, 2, …): exponential, capped, "equal jitter".

    Half of the exponential step is kept so retries never bunch at zero; the other
    half is random so that many consumers do not retry in lockstep.
    """
    step = min(cap, base * 2 ** (attempt - 1))
    return step / 2 + draw() * step / 2


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence (0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
