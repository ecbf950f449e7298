"""The audit log's use cases: record accesses (same transaction as the data), and more.

"No audit entry, no data": callers record before they return personal data, in the
request's own transaction, so a failed append rolls the read back with it.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.access.rules import Actor
from tongban.audit import context, repository
from tongban.audit import rules as audit_rules
from tongban.audit.models import AuditAlert
from tongban.audit.schemas import (
    AccountHistory,
    AlertPage,
    AlertRead,
)
from tongban.audit.views import (  # noqa: F401 — re-exported: the domain's one service surface
    access_page,
    accesses_of_person,
    audit_status,
    field_labels,
    my_data_accesses,
    purpose_label,
)
from tongban.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from tongban.kit.clock import now
from tongban.privacy import crypto
from tongban.privacy.scanner import mask_text

if TYPE_CHECKING:
    from pathlib import Path

    from tongban.audit.checkpoints import Checkpoint
    from tongban.audit.proofs import ConsistencyProof, InclusionProof
    from tongban.audit.verify import VerifyReport


@dataclass(frozen=True)
class Access:
    """One access to record: what was touched, whose data, which fields, why."""

    action: str  # read, unmask, download, export, exchange, or a privileged action
    subject_kind: str  # case, upload, user, item, calendar, key, alert …
    subject_ref: str = ""
    person_ref: str | None = None  # crypto.person_ref of the data subject
    fields: tuple[str, ...] = ()
    purpose_code: str = ""
    purpose_text: str = ""
    result: str = "ok"  # ok, denied, refused
    related: bool | None = None  # tied to a case or task assigned to the reader?


# The entry's fields that its leaf hash covers, in this order.
HASHED_FIELDS = (
    "seq",
    "at",
    "actor_user_id",
    "actor_username",
    "actor_name",
    "actor_role",
    "actor_department_code",
    "action",
    "subject_kind",
    "subject_ref",
    "person_ref",
    "fields",
    "purpose_code",
    "purpose_text",
    "result",
    "related",
    "client_addr",
)


# Built once: json.dumps with options would build an encoder per call (verify makes millions).
_CANONICAL_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical(entry: dict[str, Any]) -> bytes:
    """The bytes a leaf hashes: the entry's fields as compact, key-sorted JSON."""
    data = {name: entry[name] for name in HASHED_FIELDS}
    at = data["at"]
    if isinstance(at, datetime):
        data["at"] = at.astimezone(UTC).isoformat(timespec="microseconds")
    data["fields"] = list(data["fields"] or [])
    return _CANONICAL_JSON.encode(data).encode()


# The same bytes as ``canonical``, assembled directly from a row's values in HASHED_FIELDS
# order (``at`` already as its ISO text, ``fields`` as ``fields_fragment`` gives it,
# ``related`` a bool or None): verification builds millions of them, and the encoder's
# dict walk was its largest cost. Strings go through the very function the encoder uses
# for them (ensure_ascii=False); a value of an unexpected type raises TypeError.
_quote: Callable[[str], str] = json.encoder.encode_basestring


def fields_fragment(fields: Sequence[str] | None) -> str:
    """The inside of the canonical ``fields`` list."""
    return ",".join(map(_quote, fields or ()))


def canonical_values(
    seq: int,
    at_iso: str,
    actor_user_id: int | None,
    actor_username: str,
    actor_name: str,
    actor_role: str,
    actor_department_code: str | None,
    action: str,
    subject_kind: str,
    subject_ref: str,
    person_ref: str | None,
    fields: str,
    purpose_code: str,
    purpose_text: str,
    result: str,
    related: bool | None,
    client_addr: str | None,
) -> bytes:
    """``canonical`` of an entry given as values (keys in sorted order, as the encoder)."""
    if type(seq) is not int or not (actor_user_id is None or type(actor_user_id) is int):
        raise TypeError("seq and actor_user_id must be integers")
    quote = _quote
    user = "null" if actor_user_id is None else int.__repr__(actor_user_id)
    flag = "null" if related is None else ("true" if related else "false")
    department = "null" if actor_department_code is None else quote(actor_department_code)
    person = "null" if person_ref is None else quote(person_ref)
    client = "null" if client_addr is None else quote(client_addr)
    return (
        f'{{"action":{quote(action)},"actor_department_code":{department},'
        f'"actor_name":{quote(actor_name)},"actor_role":{quote(actor_role)},'
        f'"actor_user_id":{user},"actor_username":{quote(actor_username)},'
        f'"at":{quote(at_iso)},"client_addr":{client},"fields":[{fields}],'
        f'"person_ref":{person},"purpose_code":{quote(purpose_code)},'
        f'"purpose_text":{quote(purpose_text)},"related":{flag},'
        f'"result":{quote(result)},"seq":{int.__repr__(seq)},'
        f'"subject_kind":{quote(subject_kind)},"subject_ref":{quote(subject_ref)}}}'
    ).encode()


def mac_key() -> bytes:
    """The entry MAC key, derived from the key file (outside the database)."""
    return crypto.keyring().derive(b"tongban audit entry mac")


def entry_mac(leaf_hex: str, key: bytes | None = None) -> str:
    """A keyed hash of the leaf: without the key (outside the database) it cannot be forged."""
    return hmac.digest(key or mac_key(), bytes.fromhex(leaf_hex), "sha256").hex()


def record(session: Session, *, actor: Actor | None, access: Access) -> int | None:
    """Append one entry; returns its sequence number (None: queued, docs/audit.md)."""
    return record_many(session, actor=actor, accesses=[access])[-1]


def record_action(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    subject_kind: str,
    subject_ref: str,
    purpose_code: str = "administration",
) -> int | None:
    """A privileged action (an item saved, a user created, a calendar loaded …); actor
    None means the command line run by an operator."""
    return record(
        session,
        actor=actor,
        access=Access(
            action=action,
            subject_kind=subject_kind,
            subject_ref=subject_ref,
            purpose_code=purpose_code,
        ),
    )


def record_many(
    session: Session, *, actor: Actor | None, accesses: Sequence[Access]
) -> list[int | None]:
    """Record entries in order, in the caller's transaction; returns their sequence numbers.

    When the head is free (always on SQLite) the entries are appended to the tree here,
    after any queued ones; when another transaction holds it (PostgreSQL) they are
    queued, MACed, and integrated within the maximum merge delay — their numbers are
    then None. Either way the misuse rules run now, on these rows.
    """
    if not accesses:
        return []
    from tongban.audit import alerts, queue

    # In UTC, as the database gives it back: the canonical bytes must read the same later.
    at = now().astimezone(UTC)
    rows = [_row(actor, access, at=at) for access in accesses]
    key = mac_key()
    head = queue.head_if_free(session)
    seqs: list[int | None]
    if head is None:
        queue.enqueue(session, rows, key)
        seqs = [None] * len(rows)
    else:
        if queue.may_hold_queued(session):  # queued entries first: they are older
            head, _ = queue.integrate_locked(session, head, key)
        head, appended = queue.append_locked(session, head, rows, key)
        queue.checkpoint_if_due(session, head)
        seqs = list(appended)
    alerts.evaluate(session, actor, rows, log_id=head.log_id if head else "")
    return seqs


def integrate_pending(url: str | None = None) -> int:
    """Integrate every queued entry into the tree, in batches of their own transactions;
    returns how many were integrated. For the job runner and ``tongban audit integrate``;
    cheap when nothing is queued (one read, no lock)."""
    from tongban.audit import integrator

    return integrator.integrate_pending(url)


def _row(actor: Actor | None, access: Access, *, at: datetime) -> dict[str, Any]:
    return {
        "at": at,
        "actor_user_id": actor.user_id if actor else None,
        "actor_username": actor.username if actor else "",
        "actor_name": (actor.display_name or actor.username) if actor else "",
        "actor_role": actor.role.value if actor else "anonymous",
        "actor_department_code": actor.department_code if actor else None,
        "action": access.action,
        "subject_kind": access.subject_kind,
        "subject_ref": access.subject_ref,
        "person_ref": access.person_ref,
        "fields": list(access.fields),
        "purpose_code": access.purpose_code,
        # a reason typed by staff may itself hold a number: keep it masked
        "purpose_text": mask_text(access.purpose_text),
        "result": access.result,
        "related": access.related,
        "client_addr": context.client_addr.get(),
    }


# --- The tree: checkpoints, verification and proofs (audit.checkpoints/verify/proofs) ---


def create_checkpoint(session: Session) -> Checkpoint | None:
    """Sign the tree head now (None if nothing was added since the last checkpoint)."""
    from tongban.audit import checkpoints

    return checkpoints.create_checkpoint(session)


def verify_log(target: Session | str, *, witness_file: Path | None = None) -> VerifyReport:
    """Check the whole log and its checkpoints; the outcome is kept (audit_verifications)."""
    from tongban.audit import verify

    return verify.verify(target, witness_file=witness_file)


def inclusion_proof(session: Session, *, seq: int, size: int | None = None) -> InclusionProof:
    from tongban.audit import proofs

    return proofs.inclusion_proof(session, seq=seq, size=size)


def consistency_proof(session: Session, *, first: int, second: int) -> ConsistencyProof:
    from tongban.audit import proofs

    return proofs.consistency_proof(session, first=first, second=second)


# --- Misuse alerts, the auditor's views and 我的数据被谁用了 --------------------------------

EXPORT_BLOCKED = "export_blocked"


def export_decision(
    session: Session, *, actor: Actor, person_refs: Sequence[str], subject_ref: str = ""
) -> DomainError | None:
    """None when ``actor`` may export these persons' data now; else the 403 to answer with.

    Refused while the account has a bulk-read alert not yet closed, or when the export would
    take it over alert_bulk_persons distinct persons in the window. The refusal is
    recorded (action "export", result "refused") and raises the bulk-read alert in
    this transaction; it is returned, not raised, so the caller can answer 403 and
    still commit both. When allowed, the caller records the export as it hands out
    the data (an "export" entry per person).
    """
    from tongban.audit import alerts

    wanted = {ref for ref in person_refs if ref}
    open_alert, finding = alerts.export_check(session, actor=actor, person_refs=wanted)
    if not open_alert and finding is None:
        return None
    reason = "open_alert" if open_alert else "bulk_threshold"
    record(
        session,
        actor=actor,
        access=Access(
            action="export",
            subject_kind="cases",
            subject_ref=subject_ref,
            purpose_code="export",
            purpose_text=f"导出 {len(wanted)} 人的数据被拒绝："
            + ("存在尚未关闭的批量读取告警" if open_alert else "超过批量读取阈值"),
            result="refused",
        ),
    )
    if finding is not None:
        alerts.raise_alert(session, actor=actor, finding=finding, at=now())
    return _export_blocked(reason, len(wanted), alerts.thresholds())


def _export_blocked(reason: str, persons: int, limits: audit_rules.Thresholds) -> Forbidden:
    details = {
        "reason": reason,
        "persons": persons,
        "threshold": limits.bulk_persons,
        "window_minutes": limits.window_minutes,
    }
    if reason == "open_alert":
        return Forbidden(
            EXPORT_BLOCKED,
            "您的账号有尚未关闭的批量读取告警，导出已被拒绝；请联系安全审计员核查。",
            "Your account has a bulk-read alert that is not closed yet, so the export is "
            "refused; ask a security auditor to review it.",
            details=details,
        )
    return Forbidden(
        EXPORT_BLOCKED,
        f"导出这 {persons} 人的数据将使您 {limits.window_minutes} 分钟内读取的人数超过"
        f" {limits.bulk_persons} 人的上限，导出已被拒绝，并已告警安全审计员。",
        f"Exporting these {persons} persons would take you over the limit of "
        f"{limits.bulk_persons} persons in {limits.window_minutes} minutes; the export is "
        "refused and the security auditors have been alerted.",
        details=details,
    )


def _require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(
            "forbidden",
            "您的角色无权执行此操作。",
            "Your role may not do this.",
            details={"permission": permission, "role": actor.role.value},
        )


def alert_read(alert: AuditAlert) -> AlertRead:
    read = AlertRead.model_validate(alert)
    read.rule_label = audit_rules.RULE_LABELS_ZH.get(alert.rule, alert.rule)
    return read


def _check_status(status: str | None) -> None:
    if status and status not in audit_rules.STATUS_LABELS_ZH:
        raise Invalid(
            "unknown_alert_status",
            f"告警状态无效：{status}",
            f"Unknown alert status: {status}",
            details={"allowed": sorted(audit_rules.STATUS_LABELS_ZH)},
        )


def alerts(session: Session, *, status: str | None, page: int, size: int) -> AlertPage:
    """Alerts, newest first, optionally of one status; with the count of each status."""
    _check_status(status)
    rows, total = repository.alerts_page(
        session, status=status or None, offset=(page - 1) * size, limit=size
    )
    return AlertPage(
        items=[alert_read(row) for row in rows],
        total=total,
        page=page,
        size=size,
        counts=repository.alert_counts_by_status(session),
    )


def set_alert_status(
    session: Session, *, actor: Actor, alert_id: int, status: str, note: str
) -> AlertRead:
    """Acknowledge or close an alert (a closing note is required); itself an audited action."""
    _require(actor, "audit.manage")
    _check_status(status)
    alert = repository.alert(session, alert_id)
    if alert is None:
        raise NotFound("alert_not_found", f"告警不存在：{alert_id}", f"Alert not found: {alert_id}")
    note = note.strip()
    if status == audit_rules.CLOSED and len(note) < 2:
        raise Invalid(
            "alert_note_required",
            "关闭告警须写明核查结论。",
            "Closing an alert needs a note saying what was found.",
        )
    if not audit_rules.may_move(alert.status, status):
        labels = audit_rules.STATUS_LABELS_ZH
        raise Conflict(
            "alert_status_conflict",
            f"告警当前为“{labels[alert.status]}”，不能改为“{labels.get(status, status)}”。",
            f"The alert is {alert.status}; it cannot become {status}.",
            details={"status": alert.status},
        )
    alert.status = status
    alert.resolved_by = actor.username
    alert.resolved_at = now()
    if note:
        alert.resolution_note = mask_text(note)
    session.flush()
    record(
        session,
        actor=actor,
        access=Access(
            action=f"alert_{status}",
            subject_kind="alert",
            subject_ref=str(alert.id),
            purpose_code="audit",
            purpose_text=note,
        ),
    )
    return alert_read(alert)


def account_history(
    session: Session, *, actor: Actor, username: str, page: int, size: int
) -> AccountHistory:
    """One account's entries, newest first; the auditor's look is itself recorded."""
    _require(actor, "audit.read")
    account = access_service.actor_by_username(session, username)
    rows, total = repository.account_entries(
        session,
        user_id=account.user_id if account else None,
        username=username,
        offset=(page - 1) * size,
        limit=size,
    )
    if account is None and total == 0:
        raise NotFound(
            "account_not_found", f"账号不存在：{username}", f"Account not found: {username}"
        )
    record(
        session,
        actor=actor,
        access=Access(
            action="read",
            subject_kind="account_history",
            subject_ref=username,
            purpose_code="audit",
        ),
    )
    found = access_page(rows, total, page, size)
    return AccountHistory(
        **found.model_dump(),
        username=username,
        display_name=(account.display_name or account.username) if account else "",
        role=account.role.value if account else "",
    )
