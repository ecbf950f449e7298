"""Case use cases: submit, act, read, queues and public progress. Never commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.access.rules import Actor, Role
from tongban.cases import (
    flow,
    repository,
    rules,
    submission,
    verification,
)
from tongban.cases.acting import (  # re-exported: the domain's one service surface
    act,
    append_event,
    fire_internal,
    recompute_open_deadlines,
    refresh_deadline,
)
from tongban.cases.documents import decision_document
from tongban.cases.eventlog import EVENT_LOG_COLUMNS, event_log  # for process analysis
from tongban.cases.feedback_view import CaseFacts, case_facts
from tongban.cases.forms import (  # re-exported: the domain's one service surface
    application_plan,
    default_queue,
    issued_fields,
    pending_uploads,
    save_upload,
    supplement_choices,
)
from tongban.cases.models import Case, Task
from tongban.cases.queries import (  # re-exported: the domain's one service surface
    acceptance_queue,
    case_no_for_idempotency_key,
    count_cases,
    export_cases,
    get_case,
    my_cases,
    progress,
    queue_overview,
    read_material,
    task_queue,
    unmask,
    unmasked_case,
    work_queue,
)
from tongban.cases.queries import case_detail as _case_detail
from tongban.cases.queries import require as _require
from tongban.cases.queue_rules import QUEUE_LABELS, Queue
from tongban.cases.schemas import (
    CaseCreate,
    CaseDetail,
    MaterialIn,
)
from tongban.cases.summary import CASE_SUMMARY_COLUMNS, case_summary  # for indicators
from tongban.errors import Conflict, Invalid
from tongban.kit.clock import now
from tongban.privacy.crypto import person_ref

# What the application form asks, exactly as submit_case validates it (the web
# layer renders the same schema), and which materials must be uploaded.
application_schema = submission.submission_schema
must_upload = submission.must_upload
material_plan = submission.material_plan

__all__ = [
    "CASE_SUMMARY_COLUMNS",
    "EVENT_LOG_COLUMNS",
    "QUEUE_LABELS",
    "CaseFacts",
    "Queue",
    "acceptance_queue",
    "act",
    "application_plan",
    "application_schema",
    "case_facts",
    "case_no_for_idempotency_key",
    "case_summary",
    "count_cases",
    "decision_document",
    "default_queue",
    "event_log",
    "export_cases",
    "fire_internal",
    "get_case",
    "issued_fields",
    "material_plan",
    "must_upload",
    "my_cases",
    "pending_uploads",
    "progress",
    "queue_overview",
    "read_material",
    "recompute_open_deadlines",
    "refresh_deadline",
    "save_upload",
    "submit_case",
    "supplement_choices",
    "task_queue",
    "unmask",
    "unmasked_case",
    "work_queue",
]


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
    filing = submission.filing(session, actor, target, data.applicant)
    identity = filing.identity
    submission.validate_form(target, data.form)
    submitted_at = now()
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
        decided_by=target.decided_by,
        delivery_preference=data.delivery
        or ("pickup" if actor.role == Role.CLERK else "electronic"),
        applicant_kind=filing.kind,
        applicant_name=filing.name,
        applicant_id_number=identity,
        applicant_id_index=person_ref(identity),
        applicant_phone=(data.applicant.phone or "").strip() or filing.phone or "",
        applicant_user_id=filing.applicant_user_id,
        submitted_by_user_id=actor.user_id,
        filing_basis=filing.basis,
        delegation_id=filing.delegation_id,
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
    append_event(
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
    plan = submission.material_plan(target)
    checks = verification.verify_materials(
        session, actor=actor, case=case, items=plan.verification_items()
    )
    for check in checks:
        note, payload = verification.event_of(check)
        state = rules.State.SUBMITTED
        action = verification.EVENT_ACTION
        append_event(session, case, actor, action, state, state, None, note, payload)
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


def check_materials_complete(session: Session, *, case: Case) -> None:
    target = submission.resolve_target(
        session, item_code=case.item_code, bundle_code=case.bundle_code
    )
    present = {m.requirement_id for m in case.materials if m.status in ("submitted", "accepted")}
    missing = submission.material_plan(target).missing(present)
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
        stage = flow.stage_of(target, item.code)
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
                stage=stage,
                state=flow.initial_state(stage),
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
