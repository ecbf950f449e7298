"""Case use cases: submit, act, read, queues and public progress. Never commits."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tongban import events
from tongban.access import service as access_service
from tongban.access.rules import Actor, Role
from tongban.cases import actions, repository, rules, submission, verification, views
from tongban.cases.eventlog import EVENT_LOG_COLUMNS, event_log  # for process analysis
from tongban.cases.feedback_view import CaseFacts, case_facts
from tongban.cases.models import Case, CaseEvent, Task, Upload
from tongban.cases.queries import (  # re-exported: the domain's one service surface
    acceptance_queue,
    case_no_for_idempotency_key,
    count_cases,
    export_cases,
    get_case,
    my_cases,
    progress,
    read_material,
    task_queue,
    unmask,
    unmasked_case,
)
from tongban.cases.queries import case_detail as _case_detail
from tongban.cases.queries import load as _load
from tongban.cases.queries import require as _require
from tongban.cases.schemas import (
    ActionIn,
    CaseCreate,
    CaseDetail,
    MaterialIn,
    UploadRead,
)
from tongban.cases.storage import get_storage, sniff_content_type
from tongban.cases.summary import CASE_SUMMARY_COLUMNS, case_summary  # for indicators
from tongban.config import get_settings
from tongban.errors import Conflict, DomainError, Invalid
from tongban.kit.clock import now
from tongban.privacy.crypto import person_ref

# What the application form asks, exactly as submit_case validates it (the web
# layer renders the same schema), and which materials must be uploaded.
application_schema = submission.merged_schema
must_upload = submission.must_upload

__all__ = [
    "CASE_SUMMARY_COLUMNS",
    "EVENT_LOG_COLUMNS",
    "CaseFacts",
    "acceptance_queue",
    "act",
    "application_schema",
    "case_facts",
    "case_no_for_idempotency_key",
    "case_summary",
    "count_cases",
    "event_log",
    "export_cases",
    "get_case",
    "must_upload",
    "my_cases",
    "progress",
    "read_material",
    "save_upload",
    "submit_case",
    "task_queue",
    "unmask",
    "unmasked_case",
]


def save_upload(session: Session, *, actor: Actor, filename: str, content: bytes) -> UploadRead:
    _require(actor, "uploads.create")
    limit = get_settings().max_upload_bytes
    if len(content) > limit:
        raise DomainError(
            "file_too_large",
            f"单个文件不能超过 {limit // (1024 * 1024)} MB。",
            f"A file may not exceed {limit // (1024 * 1024)} MB.",
            status=413,
            details={"max_bytes": limit, "size": len(content)},
        )
    content_type = sniff_content_type(content)
    if content_type is None:
        raise DomainError(
            "unsupported_file_type",
            "仅支持 PDF、JPEG、PNG、OFD 格式的文件（按文件内容识别）。",
            "Only PDF, JPEG, PNG and OFD files are accepted (checked by content).",
            status=415,
            details={"filename": filename},
        )
    sha256 = get_storage().put(content)
    upload = Upload(
        token=secrets.token_hex(16),
        sha256=sha256,
        size=len(content),
        content_type=content_type,
        filename=filename[:255] or "file",
        owner_user_id=actor.user_id,
    )
    session.add(upload)
    session.flush()
    return UploadRead(
        upload_id=upload.token,
        filename=upload.filename,
        content_type=content_type,
        size=upload.size,
        sha256=sha256,
    )


def submit_case(
    session: Session, *, actor: Actor, data: CaseCreate, idempotency_key: str | None = None
) -> CaseDetail:
    _require(actor, "cases.submit")
    fingerprint = submission.request_hash(data) if idempotency_key else ""
    if idempotency_key:
        previous = repository.idempotency_record(session, actor.user_id, idempotency_key)
        if previous is not None:
            if previous.request_hash != fingerprint:
                raise Invalid(
                    "idempotency_key_reused",
                    "该幂等键已用于另一份不同的申请。",
                    "This Idempotency-Key was already used with a different request body.",
                )
            return get_case(session, actor=actor, case_no=previous.case_no)
    target = submission.resolve_target(
        session, item_code=data.item_code, bundle_code=data.bundle_code
    )
    identity = submission.applicant_identity(data.applicant)
    submission.validate_form(target, data.form)
    submitted_at = now()
    applicant_user_id = (
        actor.user_id
        if actor.role == Role.APPLICANT
        else access_service.user_id_for_identity(session, id_number=identity)
    )
    case = Case(
        case_no=submission.new_case_no(session, target.region_code, submitted_at),
        query_code=submission.new_query_code(),
        region_code=target.region_code,
        item_code=target.item_code,
        bundle_code=target.bundle_code,
        title=target.title,
        lead_department_code=target.lead_department_code,
        lead_department_name=target.lead_department_name,
        state=rules.State.SUBMITTED,
        channel=submission.channel_for(actor, data.channel),
        elder_mode=data.elder_mode,
        applicant_kind=data.applicant.kind,
        applicant_name=data.applicant.name.strip(),
        applicant_id_number=identity,
        applicant_id_index=person_ref(identity),
        applicant_phone=data.applicant.phone or "",
        applicant_user_id=applicant_user_id,
        submitted_by_user_id=actor.user_id,
        form_data=data.form,
        limit_days=target.limit_days,
        statutory_limit_days=target.statutory_days,
        submitted_at=submitted_at,
        # empty collections up front: appending to them then needs no lazy load
        events=[],
        tasks=[],
        materials=[],
    )
    # Built in memory, never added to the session: repository.insert_case writes
    # it with its materials and first event in one statement each.
    uploads = submission.attach_materials(
        session,
        actor=actor,
        case=case,
        target=target,
        materials=data.materials,
        require_complete=True,
    )
    _append_event(
        session,
        case,
        actor,
        "submit",
        None,
        rules.State.SUBMITTED,
        1,
        "",
        {"channel": case.channel},
    )
    # 免提交: shared data checked now, in this transaction; never fails the submission.
    checks = verification.verify_materials(session, actor=actor, case=case, items=target.items)
    for check in checks:
        note, payload = verification.event_of(check)
        state = rules.State.SUBMITTED
        action = verification.EVENT_ACTION
        _append_event(session, case, actor, action, state, state, None, note, payload)
    repository.insert_case(session, case)
    verification.store(session, case=case, rows=checks)
    if idempotency_key:
        repository.insert_idempotency_record(
            session,
            user_id=actor.user_id,
            key=idempotency_key,
            request_hash=fingerprint,
            case_no=case.case_no,
        )
    submission.claim_uploads(session, case=case, uploads=uploads)
    return _case_detail(session, actor, case)


def _append_event(
    session: Session,
    case: Case,
    actor: Actor,
    action: str,
    from_state: str | None,
    to_state: str,
    national_code: int | None,
    note: str,
    payload: dict[str, Any],
) -> CaseEvent:
    # The counter lives on the case row, which every action updates under its
    # version check; the (case_id, seq) unique key backs it up.
    case.last_event_seq = (case.last_event_seq or 0) + 1
    event = CaseEvent(
        case_id=case.id,  # None for a new case: repository.insert_case fills it in
        seq=case.last_event_seq,
        at=now(),
        actor_user_id=actor.user_id,
        actor_name=actor.display_name or actor.username,
        actor_role=actor.role.value,
        action=action,
        from_state=from_state,
        to_state=to_state,
        national_code=national_code,
        department_code=actor.department_code,
        note=note,
        payload=payload,
        task_id=payload.get("task_id"),
    )
    case.events.append(event)
    return event


def act(session: Session, *, actor: Actor, case_no: str, action: ActionIn) -> CaseDetail:
    _require(actor, "cases.act")
    case = _load(session, actor, case_no)
    if action.version is not None and action.version != case.version:
        raise _version_conflict(action.version, case.version)
    # The action changes the case in memory; repository.save_case writes the changes.
    repository.detach(session, case)
    try:
        return _act(session, actor, case, action)
    except (StaleDataError, IntegrityError):
        # Another request changed the case between our read and our write.
        raise _version_conflict(action.version, None) from None


def _version_conflict(expected: int | None, current: int | None) -> Conflict:
    return Conflict(
        "version_conflict",
        "办件已被他人更新，请刷新后再操作。",
        "The case changed since you loaded it; reload and try again.",
        details={"expected": expected, "current": current},
    )


def _act(session: Session, actor: Actor, case: Case, action: ActionIn) -> CaseDetail:
    name = rules.parse_action(action.action)
    from_state = rules.State(case.state)
    transition = rules.transition_for(from_state, name, actor.role)
    checked: dict[str, Any] = {}
    if name == rules.Action.ACCEPT:  # failed shared-data checks need their paper checked
        checked = verification.resolve_for_acceptance(
            session, actor=actor, case=case, paper_checked=action.payload.get("paper_checked", [])
        )
    payload = actions.EFFECTS[name](session, actor, case, action) | checked
    case.state = transition.to_state
    case.updated_at = now()  # bumps the version even when only a task changed
    code = payload.pop("national_code", transition.national_code)
    _append_event(
        session,
        case,
        actor,
        name.value,
        from_state,
        transition.to_state,
        code,
        action.note,
        payload,
    )
    clock = refresh_deadline(session, case)
    repository.save_case(session, case)  # inside act()'s conflict handling
    events.publish(
        session,
        events.CaseTransitioned(
            case_no=case.case_no,
            action=name.value,
            from_state=from_state.value,
            to_state=case.state,
            actor_id=actor.user_id,
        ),
    )
    return _case_detail(session, actor, case, clock=clock)


def refresh_deadline(session: Session, case: Case) -> views.Clock:
    """Store the clock's deadline as absolute timestamps (recomputed on calendar changes).

    Returns the clock, which the response shows too.
    """
    clock = views.clock_of(session, case)
    case.deadline_at = views.end_of_day(clock.deadline_on)
    case.statutory_deadline_at = views.end_of_day(clock.statutory_deadline_on)
    case.deadline_provisional = clock.provisional
    return clock


def recompute_open_deadlines(session: Session) -> int:
    """After an official calendar is loaded: recompute every open case's deadline."""
    changed = 0
    for case in repository.open_accepted_cases(session):
        before = (case.deadline_at, case.deadline_provisional)
        refresh_deadline(session, case)
        if (case.deadline_at, case.deadline_provisional) != before:
            changed += 1
    session.flush()
    return changed


def check_materials_complete(session: Session, *, case: Case) -> None:
    target = submission.resolve_target(
        session, item_code=case.item_code, bundle_code=case.bundle_code
    )
    present = {m.requirement_id for m in case.materials if m.status in ("submitted", "accepted")}
    missing = [
        m.name
        for _, m in submission.requirements_of(target).values()
        if submission.must_upload(m) and m.id not in present
    ]
    if missing:
        raise Conflict(
            "materials_incomplete",
            "材料不齐全，不能受理：" + "、".join(missing),
            "Materials are incomplete: " + ", ".join(missing),
            details={"missing": missing},
        )


def create_tasks(session: Session, *, case: Case) -> list[Task]:
    target = submission.resolve_target(
        session, item_code=case.item_code, bundle_code=case.bundle_code
    )
    tasks = []
    for item in target.items:
        for department_code in [item.department_code, *item.joint_department_codes]:
            department = (
                item.department_name
                if department_code == item.department_code
                else (_department_name(session, department_code))
            )
            task = Task(
                item_code=item.code,
                item_name=item.name,
                department_code=department_code,
                department_name=department,
            )
            case.tasks.append(task)
            tasks.append(task)
    return tasks


def _department_name(session: Session, code: str) -> str:
    from tongban.regions import service as regions_service

    return regions_service.get_department(session, code).name


def attach_supplement(
    session: Session, *, actor: Actor, case: Case, materials: list[MaterialIn]
) -> None:
    target = submission.resolve_target(
        session, item_code=case.item_code, bundle_code=case.bundle_code
    )
    resubmitted = {m.requirement_id for m in materials}
    uploads = submission.attach_materials(
        session, actor=actor, case=case, target=target, materials=materials, require_complete=False
    )
    submission.claim_uploads(session, case=case, uploads=uploads)
    for material in case.materials:
        # the new materials have no status until they are inserted
        if material.status == "rejected" and material.requirement_id in resubmitted:
            material.status = "replaced"
