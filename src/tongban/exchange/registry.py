"""The provider registry, authorizations, consents and peer nodes: the administrators' use cases.

Registering a provider leaves it pending; another administrator approves or rejects
it (four eyes: the registrant may not decide), then it is enabled or disabled.
Every one of these privileged actions is written to the audit log in the same
transaction. ``actor=None`` is the operator at the command line (``tongban …``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from tongban.access.rules import Actor, Role
from tongban.audit import service as audit_service
from tongban.catalog import service as catalog_service
from tongban.config import get_settings
from tongban.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.exchange import repository, rules
from tongban.exchange.elements import load_registry
from tongban.exchange.mapping import MAPPINGS_DIR, load_mapping
from tongban.exchange.models import (
    ExchangeAuthorization,
    ExchangePeer,
    ExchangeProvider,
    ExchangeService,
)
from tongban.exchange.resilience import breakers
from tongban.exchange.schemas import (
    AuthorizationCreate,
    AuthorizationRead,
    ProviderCreate,
    ProviderRead,
    ServiceCreate,
)
from tongban.kit.clock import now

SYSTEM = "system"  # the operator at the command line


def _require(actor: Actor | None, permission: str = "exchange.manage") -> None:
    if actor is not None and not actor.can(permission):
        raise Forbidden(
            "forbidden",
            "您的角色无权执行此操作。",
            "Your role may not do this.",
            details={"permission": permission, "role": actor.role.value},
        )


def _name(actor: Actor | None) -> str:
    return actor.username if actor else SYSTEM


def _audit(action: str, kind: str, ref: str, text: str = "") -> audit_service.Access:
    return audit_service.Access(
        action=action,
        subject_kind=kind,
        subject_ref=ref,
        purpose_code="exchange_admin",
        purpose_text=text,
    )


# ----------------------------------------------------------------- providers


def register_provider(
    session: Session, *, actor: Actor | None, data: ProviderCreate
) -> ProviderRead:
    _require(actor)
    if repository.provider(session, data.code) is not None:
        raise Conflict(
            "exchange_provider_exists",
            f"数据提供方已登记：{data.code}",
            f"Provider already registered: {data.code}",
        )
    offered = _offered_elements(data)
    for service in data.services:
        _check_service(service, offered)
        if repository.service(session, service.code) is not None:
            raise Conflict(
                "exchange_service_exists",
                f"共享服务已登记：{service.code}",
                f"Service already registered: {service.code}",
            )
    settings = get_settings()
    provider = ExchangeProvider(
        code=data.code,
        name=data.name,
        department_code=data.department_code,
        kind=data.kind,
        location=data.location,
        mapping=data.mapping,
        status="pending",
        timeout_seconds=data.timeout_seconds or settings.exchange_timeout_seconds,
        retries=settings.exchange_retries if data.retries is None else data.retries,
        breaker_failures=data.breaker_failures or settings.exchange_breaker_failures,
        breaker_cooldown_seconds=data.breaker_cooldown_seconds
        or settings.exchange_breaker_cooldown_seconds,
        registered_by=_name(actor),
    )
    provider.services = [
        ExchangeService(
            code=s.code,
            name=s.name,
            elements=list(s.elements),
            claims={name: claim.model_dump() for name, claim in s.claims.items()},
            description=s.description,
        )
        for s in data.services
    ]
    repository.add(session, provider)
    services = ", ".join(s.code for s in data.services)
    record = _audit("exchange.provider.register", "provider", data.code, f"服务 {services}")
    audit_service.record(session, actor=actor, access=record)
    return provider_read(provider)


def shipped_mappings() -> list[str]:
    """The mappings that come with the platform (src/tongban/exchange/mappings/*.toml)."""
    return sorted(path.stem for path in MAPPINGS_DIR.glob("*.toml"))


def _offered_elements(data: ProviderCreate) -> set[str] | None:
    """Elements the provider's mapping can give (None for a peer node: it says for itself)."""
    if data.kind == "node":
        return None
    unknown = Invalid(
        "exchange_unknown_mapping",
        f"映射不存在或有误：{data.mapping}（须为平台自带映射的名称）",
        f"Unknown or invalid mapping: {data.mapping} (the name of a mapping shipped "
        "with the platform)",
        details={"shipped": shipped_mappings()},
    )
    # A name, never a path: the server reads no file an admin points at, and the
    # answer never carries a file's content (issue 11 §3).
    if data.mapping not in shipped_mappings():
        raise unknown
    try:
        mapping = load_mapping(data.mapping)
    except (OSError, ValueError):
        raise unknown from None
    if mapping.kind != data.kind:
        raise Invalid(
            "exchange_mapping_kind",
            f"映射{data.mapping}用于 {mapping.kind} 数据源，而非 {data.kind}",
            f"Mapping {data.mapping} is for a {mapping.kind} source, not {data.kind}",
        )
    return set(mapping.elements)


def _check_service(service: ServiceCreate, offered: set[str] | None) -> None:
    registry = load_registry()
    known = set(registry.elements)
    claimed = {
        code
        for claim in service.claims.values()
        for code in (*claim.equals, *claim.fixed, *claim.until)
    }
    wanted = set(service.elements) | claimed
    unknown = sorted(wanted - known)
    missing = sorted(wanted - offered) if offered is not None else []
    undated = sorted(
        code
        for claim in service.claims.values()
        for code in claim.until
        if code in known and registry.elements[code].type != "date"
    )
    if undated:
        raise Invalid(
            "exchange_claim_until",
            f"共享服务{service.code}的核验项有效期须为日期型数据元：{undated}",
            f"Service {service.code}: a claim's 'until' names date elements only: {undated}",
            details={"not_dates": undated},
        )
    if unknown or missing or not (service.elements or service.claims):
        raise Invalid(
            "exchange_service_elements",
            f"共享服务{service.code}的数据元有误：未知 {unknown}，数据源不提供 {missing}",
            f"Service {service.code}: unknown elements {unknown}, not in the source {missing}",
            details={"unknown": unknown, "not_in_source": missing},
        )


def _provider(session: Session, code: str) -> ExchangeProvider:
    provider = repository.provider(session, code)
    if provider is None:
        raise NotFound(
            "exchange_provider_not_found", f"数据提供方不存在：{code}", f"No such provider: {code}"
        )
    return provider


def decide_provider(
    session: Session, *, actor: Actor | None, code: str, approve: bool, note: str = ""
) -> ProviderRead:
    """Approve or reject a pending provider; the registrant may not decide on it."""
    _require(actor)
    provider = _provider(session, code)
    if _name(actor) == provider.registered_by:
        raise Forbidden(
            "exchange_self_approval",
            "登记数据提供方的管理员不能自行审批，请由另一名管理员审批。",
            "The administrator who registered a provider may not decide on it; "
            "another administrator must.",
            details={"registered_by": provider.registered_by},
        )
    action = "approve" if approve else "reject"
    _move(provider, action)
    provider.decided_by, provider.decided_at, provider.decision_note = _name(actor), now(), note
    session.flush()
    record = _audit(f"exchange.provider.{action}", "provider", code, note)
    audit_service.record(session, actor=actor, access=record)
    return provider_read(provider)


def set_provider_status(
    session: Session, *, actor: Actor | None, code: str, enabled: bool, note: str = ""
) -> ProviderRead:
    _require(actor)
    provider = _provider(session, code)
    action = "enable" if enabled else "disable"
    _move(provider, action)
    provider.status_changed_by, provider.status_changed_at = _name(actor), now()
    session.flush()
    record = _audit(f"exchange.provider.{action}", "provider", code, note)
    audit_service.record(session, actor=actor, access=record)
    return provider_read(provider)


def _move(provider: ExchangeProvider, action: str) -> None:
    target = rules.next_status(provider.status, action)
    if target is None:
        labels = rules.STATUS_LABELS_ZH
        raise Conflict(
            "exchange_provider_status",
            f"数据提供方当前为“{labels[provider.status]}”，不能执行此操作（{action}）。",
            f"The provider is {provider.status}; it cannot be {action}d.",
            details={"status": provider.status, "action": action},
        )
    provider.status = target


def providers(session: Session) -> list[ProviderRead]:
    return [provider_read(p) for p in repository.providers(session)]


def provider_read(provider: ExchangeProvider) -> ProviderRead:
    read = ProviderRead.model_validate(provider)
    read.location = _shown_location(provider.kind, provider.location)
    read.status_label = rules.STATUS_LABELS_ZH.get(provider.status, provider.status)
    read.breaker = breakers.states().get(provider.code, "closed")
    return read


def _shown_location(kind: str, location: str) -> str:
    if kind != "sql":
        return location
    try:
        return make_url(location).render_as_string(hide_password=True)
    except ArgumentError:
        return "***"


# ----------------------------------------------------------------- authorizations


def add_authorization(
    session: Session, *, actor: Actor | None, data: AuthorizationCreate
) -> AuthorizationRead:
    _require(actor)
    service = repository.service(session, data.service_code)
    if service is None:
        raise NotFound(
            "exchange_service_not_found",
            f"共享服务不存在：{data.service_code}",
            f"No such exchange service: {data.service_code}",
        )
    strays = sorted(set(data.elements) - set(service.elements))
    strays += [f"claim:{c}" for c in sorted(set(data.claims) - set(service.claims))]
    if strays or not (data.elements or data.claims):
        raise Invalid(
            "exchange_authorization_scope",
            f"授权须指明该服务提供的数据元或核验项；不提供：{strays}",
            f"An authorization names elements or claims the service offers; not offered: {strays}",
            details={"not_offered": strays},
        )
    if data.legal_basis == "law" and len(data.legal_reference.strip()) < 4:
        raise Invalid(
            "exchange_legal_reference",
            "以法律法规为依据的授权须写明具体条款。",
            "An authorization on a legal basis must cite the provision.",
        )
    _check_consumer(session, data)
    row = ExchangeAuthorization(**data.model_dump(), status="active", created_by=_name(actor))
    repository.add(session, row)
    who = f"{data.consumer_kind}:{data.consumer}@{data.consumer_node or '本节点'}"
    text = f"{who} → {data.service_code}；目的 {data.purpose}；"
    text += f"依据 {data.legal_basis} {data.legal_reference}"
    record = _audit("exchange.authorization.grant", "authorization", str(row.id), text)
    audit_service.record(session, actor=actor, access=record)
    return AuthorizationRead.model_validate(row)


def _check_consumer(session: Session, data: AuthorizationCreate) -> None:
    if data.consumer_kind == "role":
        if data.consumer not in {role.value for role in Role} - {Role.APPLICANT.value}:
            raise Invalid(
                "exchange_bad_consumer",
                f"使用方角色无效：{data.consumer}",
                f"Not a staff role: {data.consumer}",
            )
    elif data.consumer_kind == "platform":
        if data.consumer not in rules.PLATFORM_CONSUMERS:
            raise Invalid(
                "exchange_bad_consumer",
                f"未知的平台功能使用方：{data.consumer}",
                f"Not a platform function: {data.consumer}",
                details={"allowed": list(rules.PLATFORM_CONSUMERS)},
            )
    elif not data.consumer_node:  # another node's items are that node's business
        catalog_service.get_item(session, code=data.consumer)  # NotFound if there is none
    if data.consumer_node and repository.peer(session, data.consumer_node) is None:
        raise Invalid(
            "exchange_unknown_node",
            f"未登记的节点：{data.consumer_node}",
            f"Unknown node: {data.consumer_node}",
        )


def revoke_authorization(
    session: Session, *, actor: Actor | None, authorization_id: int, note: str
) -> AuthorizationRead:
    _require(actor)
    row = repository.authorization(session, authorization_id)
    if row is None:
        raise NotFound(
            "exchange_authorization_not_found",
            f"授权不存在：{authorization_id}",
            f"No such authorization: {authorization_id}",
        )
    if row.status != "revoked":
        row.status, row.revoked_by, row.revoked_at = "revoked", _name(actor), now()
        session.flush()
        record = _audit("exchange.authorization.revoke", "authorization", str(row.id), note)
        audit_service.record(session, actor=actor, access=record)
    return AuthorizationRead.model_validate(row)


def authorizations(session: Session, *, service_code: str | None = None) -> list[AuthorizationRead]:
    rows = repository.authorizations(session, service_code=service_code)
    return [AuthorizationRead.model_validate(row) for row in rows]


# ----------------------------------------------------------------- peer nodes


def add_peer(
    session: Session,
    *,
    actor: Actor | None,
    node_id: str,
    name: str,
    base_url: str,
    algorithm: str,
    public_key: str,
) -> ExchangePeer:
    """Trust another node's key (or replace it after the peer rotated its key)."""
    _require(actor)
    from tongban.exchange.provider import peer_verifier

    try:
        key_id = peer_verifier(algorithm, public_key).key_id
    except (KeyError, ValueError) as exc:
        raise Invalid(
            "exchange_bad_peer_key",
            "节点公钥或算法无效。",
            "The node's public key or algorithm is invalid.",
            details={"problem": str(exc)[:200]},
        ) from None
    peer = repository.peer(session, node_id) or ExchangePeer(node_id=node_id)
    peer.name, peer.base_url, peer.algorithm, peer.public_key = (
        name,
        base_url,
        algorithm,
        public_key,
    )
    peer.status, peer.added_by = "active", _name(actor)
    repository.add(session, peer)
    record = _audit("exchange.peer.trust", "peer", node_id, f"{algorithm} key {key_id}")
    audit_service.record(session, actor=actor, access=record)
    return peer


def revoke_peer(session: Session, *, actor: Actor | None, node_id: str) -> None:
    _require(actor)
    peer = repository.peer(session, node_id)
    if peer is None:
        raise NotFound(
            "exchange_peer_not_found", f"节点不存在：{node_id}", f"No such node: {node_id}"
        )
    peer.status = "revoked"
    session.flush()
    audit_service.record(
        session, actor=actor, access=_audit("exchange.peer.revoke", "peer", node_id)
    )


def peers(session: Session) -> Sequence[ExchangePeer]:
    return repository.peers(session)
