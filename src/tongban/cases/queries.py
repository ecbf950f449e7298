"""Read-side use cases: lists, queues, public progress, material downloads."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.cases import repository, views
from tongban.cases.models import Case
from tongban.cases.schemas import CasePage, ProgressRead, TaskPage
from tongban.cases.storage import get_storage
from tongban.errors import Forbidden, NotFound
from tongban.kit.masking import mask_name


def require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(
            "forbidden",
            "您的角色无权执行此操作。",
            "Your role may not do this.",
            details={"permission": permission},
        )


def load(session: Session, actor: Actor, case_no: str) -> Case:
    """The case if the actor may see it; otherwise 404, so existence does not leak."""
    case = repository.case_for(session, actor, case_no)
    if case is None:
        raise NotFound(
            "case_not_found",
            f"办件不存在或无权查看：{case_no}",
            f"Case not found (or not visible to you): {case_no}",
        )
    return case


def my_cases(session: Session, *, actor: Actor, page: int = 1, size: int = 20) -> CasePage:
    require(actor, "cases.read")
    rows, total = repository.page_cases(session, actor, None, page, size)
    return CasePage(
        items=[views.summary(session, c) for c in rows], total=total, page=page, size=size
    )


def acceptance_queue(session: Session, *, actor: Actor, page: int = 1, size: int = 20) -> CasePage:
    require(actor, "workbench.queue")
    rows, total = repository.acceptance_queue(session, actor, page, size)
    return CasePage(
        items=[views.summary(session, c) for c in rows], total=total, page=page, size=size
    )


def task_queue(session: Session, *, actor: Actor, page: int = 1, size: int = 50) -> TaskPage:
    require(actor, "workbench.queue")
    rows, total = repository.task_queue(session, actor, page, size)
    return TaskPage(
        items=[views.queue_entry(session, t) for t in rows], total=total, page=page, size=size
    )


def progress(session: Session, *, case_no: str, query_code: str) -> ProgressRead:
    case = repository.case_by_no(session, case_no.strip())
    if case is None or not secrets.compare_digest(case.query_code, query_code.strip().upper()):
        raise NotFound(
            "progress_not_found", "办件编号或查询码不正确。", "Wrong case number or query code."
        )
    summary = views.summary(session, case)
    return ProgressRead(
        case_no=case.case_no,
        title=case.title,
        state=case.state,
        state_label=summary.state_label,
        applicant_name_masked=mask_name(case.applicant_name),
        submitted_at=case.submitted_at,
        clock=summary.clock,
        timeline=[
            views.event_read(e).model_copy(update={"actor_name": "", "payload": {}})
            for e in case.events
        ],
    )


def read_material(
    session: Session, *, actor: Actor, case_no: str, material_id: int
) -> tuple[str, str, bytes]:
    case = load(session, actor, case_no)
    material = next((m for m in case.materials if m.id == material_id), None)
    if material is None:
        raise NotFound("material_not_found", "材料不存在。", "Material not found.")
    upload = material.upload
    return upload.filename, upload.content_type, get_storage().get(upload.sha256)


def case_no_for_idempotency_key(session: Session, *, actor: Actor, key: str) -> str | None:
    """The case an earlier request with this Idempotency-Key created, if any.

    Lets a form that is posted again (another tab, a lost session cookie) land on
    the case it already created before anything new is uploaded.
    """
    record = repository.idempotency_record(session, actor.user_id, key)
    return record.case_no if record else None
