"""The exchange domain's use cases as other domains call them.

``verify`` is what a case calls to replace a paper proof (免提交): a yes/no claim
("does the applicant own any property?"), or elements fetched and compared with what
the applicant declared. It never raises because a provider is down or refuses: the
outcome says so (``unavailable``: please provide the document; ``denied``: the
consumer is not authorized), and every call is signed, audited and measured.

Registry, authorization, consent and peer management live in ``registry`` and
``consents`` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.config import get_settings
from tongban.errors import Forbidden, Invalid, NotFound
from tongban.exchange import repository
from tongban.exchange.cleaning import Problem, clean_value
from tongban.exchange.consents import give_consent, my_consents, revoke_consent
from tongban.exchange.elements import demo_gazetteer, load_registry
from tongban.exchange.flow import Ask, Exchanged, exchange
from tongban.exchange.keys import NodeIdentity, node_identity
from tongban.exchange.metrics import stats
from tongban.exchange.openapi import service_openapi
from tongban.exchange.registry import (
    add_authorization,
    add_peer,
    authorizations,
    decide_provider,
    peers,
    providers,
    register_provider,
    revoke_authorization,
    revoke_peer,
    set_provider_status,
)
from tongban.exchange.rules import (
    DENIED,
    MISMATCH,
    UNAVAILABLE,
    UNAVAILABLE_EN,
    UNAVAILABLE_ZH,
    VERIFIED,
    Outcome,
)
from tongban.privacy.service import mask_value

__all__ = [
    "Ask",
    "Exchanged",
    "FieldCheck",
    "NodeIdentity",
    "VerificationResult",
    "add_authorization",
    "add_peer",
    "authorizations",
    "decide_provider",
    "exchange",
    "give_consent",
    "my_consents",
    "node_identity",
    "openapi_of",
    "peers",
    "providers",
    "register_provider",
    "revoke_authorization",
    "revoke_consent",
    "revoke_peer",
    "set_provider_status",
    "stats",
    "verify",
]


@dataclass(frozen=True)
class FieldCheck:
    """One compared element: values masked per the element's classification."""

    element: str
    name: str
    matches: bool
    declared: str
    registered: str


@dataclass(frozen=True)
class VerificationResult:
    outcome: Outcome  # verified, mismatch, unavailable, denied
    code: str  # "" when verified; else why (exchange_not_authorized, source_timeout …)
    message_zh: str
    message_en: str
    service_code: str
    provider_code: str
    source: str  # the source's title, e.g. 公安人口库
    at: datetime
    request_id: str
    claim: str | None = None
    fields: tuple[FieldCheck, ...] = ()
    records: tuple[dict[str, str | int], ...] = ()  # fetched values (authorized elements only)


def verify(
    session: Session,
    *,
    actor: Actor | None,
    service_code: str,
    subject: str,
    purpose: str,
    consumer_item_code: str | None = None,
    consumer_role: str | None = None,
    consumer_platform: str | None = None,
    claim: str | None = None,
    claim_values: Mapping[str, str] | None = None,
    expected: Mapping[str, str] | None = None,
    elements: Sequence[str] = (),
    case_no: str = "",
    related: bool | None = None,
) -> VerificationResult:
    """Check a claim, or compare ``expected`` element values, with the provider's record.

    The consumer is the service item (a case's item), a platform function (实名核验 at
    sign-up, an enterprise link) or, without either, a staff role (the actor's own by
    default). Elements may be named by code or id.
    """
    if consumer_platform is not None:
        consumer_kind, consumer = "platform", consumer_platform
    else:
        consumer_kind, consumer = _consumer(actor, consumer_item_code, consumer_role)
    wanted = {_code(e): str(v) for e, v in (expected or {}).items()}
    asked = tuple(dict.fromkeys([*wanted, *(_code(e) for e in elements)]))
    result = exchange(
        session,
        actor=actor,
        ask=Ask(
            consumer_kind=consumer_kind,
            consumer=consumer,
            service_code=service_code,
            subject=subject,
            purpose=purpose,
            elements=() if claim else asked,
            claim=claim,
            claim_values=dict(claim_values or {}),
            case_no=case_no,
            related=related,
        ),
    )
    return _verdict(result, claim, wanted)


def _consumer(actor: Actor | None, item_code: str | None, role: str | None) -> tuple[str, str]:
    if item_code:
        return "item", item_code
    if actor is not None and role is not None and role != actor.role.value:
        raise Forbidden(
            "exchange_role_mismatch",
            "只能以本人角色作为共享数据使用方。",
            "A staff member can ask only in their own role.",
        )
    if role is None and actor is None:
        raise Invalid(
            "exchange_no_consumer",
            "请指明使用方（事项编码或角色）。",
            "Name the consumer (a service item or a role).",
        )
    return "role", role or (actor.role.value if actor else "")


def _code(code_or_id: str) -> str:
    try:
        return load_registry().element(code_or_id).code
    except KeyError:
        return code_or_id


def _verdict(result: Exchanged, claim: str | None, wanted: dict[str, str]) -> VerificationResult:
    def verdict(
        outcome: Outcome,
        code: str,
        zh: str,
        en: str,
        fields: tuple[FieldCheck, ...] = (),
        records: tuple[dict[str, str | int], ...] = (),
    ) -> VerificationResult:
        return VerificationResult(
            outcome=outcome,
            code=code,
            message_zh=zh,
            message_en=en,
            service_code=result.service_code,
            provider_code=result.provider_code,
            source=result.source,
            at=result.at,
            request_id=result.request_id,
            claim=claim,
            fields=fields,
            records=records,
        )

    if result.outcome == "denied" and result.error is not None:
        error = result.error
        return verdict(DENIED, error.code, error.message_zh, error.message_en)
    if result.outcome != "answered":
        code = result.error.code if result.error else "exchange_unavailable"
        return verdict(UNAVAILABLE, code, UNAVAILABLE_ZH, UNAVAILABLE_EN)
    if claim is not None:
        if result.claim_holds:
            return verdict(VERIFIED, "", "核验通过。", "Verified.")
        return verdict(
            MISMATCH,
            "exchange_claim_false",
            "登记信息与申报内容不符。",
            "The register does not confirm what was declared.",
        )
    if not result.records:
        source = result.source or "数据源"
        return verdict(
            MISMATCH,
            "exchange_no_record",
            f"{source}中没有该对象的记录。",
            f"{result.source or 'The source'} holds no record for this subject.",
        )
    fields = _best_comparison(result.records, wanted)
    differing = [f for f in fields if not f.matches]
    if not differing:
        return verdict(VERIFIED, "", "核验通过。", "Verified.", fields, result.records)
    return verdict(
        MISMATCH,
        "exchange_values_differ",
        "申报内容与登记信息不一致：" + "、".join(f.name for f in differing),
        "What was declared differs from the register: " + ", ".join(f.element for f in differing),
        fields,
    )


def _best_comparison(
    records: Sequence[dict[str, str | int]], wanted: dict[str, str]
) -> tuple[FieldCheck, ...]:
    """The comparison with the record that matches most (a person may own several houses)."""
    registry = load_registry()
    declared = {code: _clean(code, value) for code, value in wanted.items()}
    best: tuple[FieldCheck, ...] = ()
    for record in records:
        checks = tuple(
            FieldCheck(
                element=code,
                name=registry.elements[code].name,
                matches=record.get(code) == declared[code],
                declared=str(mask_value(registry.elements[code].mask, str(wanted[code]))),
                registered=str(mask_value(registry.elements[code].mask, str(record.get(code, "")))),
            )
            for code in wanted
        )
        if not best or sum(c.matches for c in checks) > sum(c.matches for c in best):
            best = checks
    return best


def _clean(code: str, value: str) -> str | int | None:
    """The declared value as the register's cleaning would write it (None if it is invalid)."""
    registry = load_registry()
    result = clean_value(
        registry.elements[code], value, registry=registry, gazetteer=demo_gazetteer()
    )
    return None if isinstance(result, Problem) else result


def openapi_of(session: Session, *, service_code: str) -> dict[str, object]:
    found = repository.service(session, service_code)
    if found is None:
        raise NotFound(
            "exchange_service_not_found",
            f"共享服务不存在：{service_code}",
            f"No such exchange service: {service_code}",
        )
    return service_openapi(found, found.provider, get_settings().exchange_node_id)
