"""Read views of the audit log: 我的数据被谁用了 as the data subject sees it, the log's status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.access.rules import ROLE_LABELS_ZH, STAFF_ROLES, Actor, Role
from tongban.audit import queue, repository
from tongban.audit import rules as audit_rules
from tongban.audit.schemas import (
    AccessPage,
    AccessRead,
    AuditStatusRead,
    CheckpointRead,
    DataAccessPage,
    DataAccessRead,
    VerificationRead,
)
from tongban.config import get_settings
from tongban.errors import Forbidden, NotFound
from tongban.exchange.elements import load_registry
from tongban.privacy import crypto
from tongban.privacy import service as privacy_service
from tongban.privacy.policy import load_policy
from tongban.regions import service as regions_service

STAFF_ROLE_VALUES = tuple(sorted(role.value for role in STAFF_ROLES))
AGENT_PURPOSE = "agent"  # a citizen reading the case they filed for the person (委托)
AGENT_LABEL_ZH = "受托代办人"
CENTER_NAME_ZH = "政务服务中心"  # staff without a department work at the center's windows


def access_page(rows: Sequence[Any], total: int, page: int, size: int) -> AccessPage:
    items = [AccessRead.model_validate(row) for row in rows]
    return AccessPage(items=items, total=total, page=page, size=size)


def accesses_of_person(session: Session, *, person_ref: str, page: int, size: int) -> AccessPage:
    """Staff accesses to one person's data and their agents' (委托), newest first (the
    person's own reads left out)."""
    rows, total = repository.person_accesses(
        session,
        person_ref=person_ref,
        roles=STAFF_ROLE_VALUES,
        purposes=(AGENT_PURPOSE,),
        offset=(page - 1) * size,
        limit=size,
    )
    return access_page(rows, total, page, size)


def my_data_accesses(session: Session, *, actor: Actor, page: int, size: int) -> DataAccessPage:
    """我的数据被谁用了: who read the signed-in applicant's data, and why (staff masked)."""
    if actor.role != Role.APPLICANT:
        raise Forbidden(
            "applicants_only",
            "只有申请人本人可以查看自己的数据被谁使用。",
            "Only applicants can see who used their own data.",
        )
    id_number = access_service.applicant_id_number(session, actor.user_id)
    if not id_number:
        return DataAccessPage(items=[], total=0, page=page, size=size)
    found = accesses_of_person(
        session, person_ref=crypto.person_ref(id_number), page=page, size=size
    )
    departments = _department_names(
        session, {e.actor_department_code for e in found.items if e.actor_department_code}
    )
    items = [_as_seen_by_subject(entry, actor, departments) for entry in found.items]
    return DataAccessPage(items=items, total=found.total, page=page, size=size)


def _as_seen_by_subject(
    entry: AccessRead, actor: Actor, departments: dict[str, str]
) -> DataAccessRead:
    _, name = privacy_service.present("audit.actor_name", entry.actor_name, actor, own=True)
    role = Role(entry.actor_role) if entry.actor_role in STAFF_ROLE_VALUES else None
    department = entry.actor_department_code
    agent = entry.purpose_code == AGENT_PURPOSE
    if agent:
        role_label, place = AGENT_LABEL_ZH, ""
    else:
        role_label = ROLE_LABELS_ZH[role] if role else entry.actor_role
        place = departments.get(department, department) if department else CENTER_NAME_ZH
    return DataAccessRead(
        at=entry.at,
        actor_name=name,
        actor_role=entry.actor_role,
        role_label=role_label,
        department_name=place,
        action=entry.action,
        action_label=audit_rules.ACTION_LABELS_ZH.get(entry.action, entry.action),
        purpose_code=entry.purpose_code,
        purpose_label=purpose_label(entry.purpose_code),
        purpose_text=entry.purpose_text,
        subject_kind=entry.subject_kind,
        subject_ref=entry.subject_ref,
        fields=entry.fields,
        field_labels=field_labels(entry.fields),
    )


FORM_FIELDS_LABEL_ZH = "申请表填写的内容"
CLAIM_LABEL_ZH = "共享核验结果"


def field_labels(fields: Sequence[str]) -> list[str]:
    """Policy fields and shared data elements in words (申请人姓名/名称, 不动产权证号 …);
    a service item's form fields as one."""
    labels: list[str] = []
    for name in fields:
        label = _field_label(name)
        if label not in labels:
            labels.append(label)
    return labels


def _field_label(name: str) -> str:
    known = load_policy().fields
    if name in known:
        return known[name].label
    if name.startswith("claim:"):
        return CLAIM_LABEL_ZH  # a yes/no answer from another department, never the data
    if name.startswith("DE"):
        try:
            return load_registry().element(name).name
        except KeyError:
            return name
    return FORM_FIELDS_LABEL_ZH


def purpose_label(code: str) -> str:
    known = {**audit_rules.PURPOSE_LABELS_ZH, **privacy_service.unmask_reasons()}
    return known.get(code, code)


def _department_names(session: Session, codes: set[str]) -> dict[str, str]:
    names = {}
    for code in codes:
        try:
            names[code] = regions_service.get_department(session, code).name
        except NotFound:
            names[code] = code
    return names


def audit_status(session: Session, *, recent: int = 10) -> AuditStatusRead:
    """The log's size, its latest checkpoints and verification runs, and alerts by status."""
    head = repository.head(session)
    return AuditStatusRead(
        tree_size=head.tree_size if head else 0,
        last_checkpoint_size=head.last_checkpoint_size if head else 0,
        last_checkpoint_at=head.last_checkpoint_at if head else None,
        verifications=[
            VerificationRead.model_validate(v)
            for v in repository.latest_verifications(session, recent)
        ],
        checkpoints=[
            CheckpointRead.model_validate(c) for c in repository.latest_checkpoints(session, recent)
        ],
        alerts=repository.alert_counts_by_status(session),
        queued=queue.pending_count(session),
        max_merge_delay_seconds=get_settings().audit_max_merge_delay_seconds,
    )
