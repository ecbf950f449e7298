"""Read-side use cases: a case, lists, queues, progress, downloads, unmasking and export.

Each shows personal data only through the masking policy (``disclosure.Viewer``) and
records what it showed in the audit log, in the caller's transaction, before it
returns: no audit record, no data.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from tongban.access import throttle
from tongban.access.rules import Actor, Role
from tongban.audit import service as audit_service
from tongban.audit.service import Access
from tongban.cases import actions, disclosure, export, queues, repository, rules, submission, views
from tongban.cases.clock import Clock
from tongban.cases.disclosure import Viewer
from tongban.cases.models import Case
from tongban.cases.queue_rules import Queue
from tongban.cases.schemas import (
    CaseDetail,
    CasePage,
    CaseSummary,
    ProgressRead,
    QueueOverview,
    TaskPage,
)
from tongban.cases.storage import get_storage
from tongban.errors import DomainError, Forbidden, Invalid, NotFound
from tongban.kit.clock import local_today
from tongban.privacy import service as privacy_service


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


# --- one case ------------------------------------------------------------------------


def form_schema(session: Session, case: Case) -> dict[str, Any]:
    """The case's application form, whose fields declare their privacy class."""
    try:
        target = submission.resolve_target(
            session, item_code=case.item_code, bundle_code=case.bundle_code
        )
    except NotFound:  # the item left the catalog: its answers count as undeclared
        return {}
    return submission.merged_schema(target.items)


def _detail(
    session: Session,
    actor: Actor,
    case: Case,
    *,
    clock: Clock | None = None,
    unmasked: Sequence[str] = (),
) -> tuple[CaseDetail, Access]:
    viewer = Viewer(actor, case, form_schema=form_schema(session, case), unmasked=unmasked)
    related = case.id in disclosure.related_ids(session, actor, [case])
    allowed = actions.visible_actions(actor, case)
    detail = views.detail(session, case, viewer, allowed, clock=clock, may_unmask=related)
    return detail, disclosure.access(case, viewer, related=related)


def case_detail(
    session: Session, actor: Actor, case: Case, *, clock: Clock | None = None
) -> CaseDetail:
    """The case as the actor may see it, recorded as read before it is returned."""
    detail, access = _detail(session, actor, case, clock=clock)
    disclosure.record(session, actor, [access])
    return detail


def get_case(session: Session, *, actor: Actor, case_no: str) -> CaseDetail:
    require(actor, "cases.read")
    return case_detail(session, actor, load(session, actor, case_no))


# --- lists and queues ----------------------------------------------------------------


def _state_filter(state: str | None) -> list[str] | None:
    if not state:
        return None
    if state not in rules.STATE_LABELS:
        raise Invalid(
            "unknown_state",
            f"未知的办件状态：{state}",
            f"Unknown case state: {state}",
            details={"allowed": sorted(rules.STATE_LABELS)},
        )
    return [state]


def _summaries(
    session: Session, actor: Actor, cases: list[Case], *, in_own_queue: bool = False
) -> list[CaseSummary]:
    """The list rows, with one audit entry per case shown (one append for the page).

    ``in_own_queue``: the cases were listed by one of the reader's own work queues, so
    each is tied to their work by definition.
    """
    related = (
        {c.id for c in cases} if in_own_queue else disclosure.related_ids(session, actor, cases)
    )
    summaries, accesses = [], []
    for case in cases:
        viewer = Viewer(actor, case)
        summaries.append(views.summary(session, case, viewer))
        accesses.append(disclosure.access(case, viewer, related=case.id in related))
    disclosure.record(session, actor, accesses)
    return summaries


def my_cases(
    session: Session,
    *,
    actor: Actor,
    page: int = 1,
    size: int = 20,
    item_code: str | None = None,
    state: str | None = None,
) -> CasePage:
    require(actor, "cases.read")
    states = _state_filter(state)
    rows, total = repository.page_cases(session, actor, states, page, size, item_code=item_code)
    return CasePage(items=_summaries(session, actor, rows), total=total, page=page, size=size)


def acceptance_queue(session: Session, *, actor: Actor, page: int = 1, size: int = 20) -> CasePage:
    page_ = work_queue(session, actor=actor, kind=Queue.ACCEPTANCE, page=page, size=size)
    assert isinstance(page_, CasePage)
    return page_


def queue_overview(session: Session, *, actor: Actor) -> QueueOverview:
    """The reader's queues with their counts (no personal data is read)."""
    require(actor, "workbench.queue")
    return queues.overview(session, actor=actor)


def work_queue(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    page: int = 1,
    size: int = 20,
    channel: str | None = None,
) -> CasePage | TaskPage:
    """One of the reader's queues; the department task queue lists tasks, the others cases."""
    require(actor, "workbench.queue")
    queue = queues.parse_queue(actor, kind)
    if queue == Queue.TASKS:
        return task_queue(session, actor=actor, page=page, size=size)
    rows, total = queues.cases_in(
        session, actor=actor, queue=queue, page=page, size=size, channel=channel
    )
    items = _summaries(session, actor, rows, in_own_queue=True)
    return CasePage(items=items, total=total, page=page, size=size)


def task_queue(session: Session, *, actor: Actor, page: int = 1, size: int = 50) -> TaskPage:
    require(actor, "workbench.queue")
    rows, total = repository.task_queue(session, actor, page, size)
    cases = list({task.case.id: task.case for task in rows}.values())
    # A reviewer's own department tasks are their work; others look on (related_ids decides).
    related = (
        {c.id for c in cases}
        if actor.role == Role.REVIEWER
        else disclosure.related_ids(session, actor, cases)
    )
    viewers = {case.id: Viewer(actor, case) for case in cases}
    items = [views.queue_entry(session, task, viewers[task.case_id]) for task in rows]
    disclosure.record(
        session,
        actor,
        [disclosure.access(c, viewers[c.id], related=c.id in related) for c in cases],
    )
    return TaskPage(items=items, total=total, page=page, size=size)


def count_cases(session: Session, *, actor: Actor) -> int:
    """How many cases the actor may see: a number, not a read of anyone's data."""
    require(actor, "cases.read")
    return repository.count_cases(session, actor)


# --- the public progress query --------------------------------------------------------


def progress(session: Session, *, case_no: str, query_code: str) -> ProgressRead:
    # Throttled per address and per case before the code is compared (docs/cases.md).
    found = throttle.reserve_lookup(session, subject=f"case:{case_no.strip()}")
    case = repository.case_by_no(session, case_no.strip())
    # Compared as bytes: compare_digest refuses a str with non-ASCII characters (TypeError).
    given = query_code.strip().upper().encode()
    if case is None or not secrets.compare_digest((case.query_code or "").encode(), given):
        raise NotFound(
            "progress_not_found", "办件编号或查询码不正确。", "Wrong case number or query code."
        )
    found()
    viewer = Viewer(None, case)
    summary = views.summary(session, case, viewer)
    timeline = [
        views.event_read(e, viewer).model_copy(update={"actor_name": "", "payload": {}})
        for e in case.events
    ]
    # Whoever holds the query code: not tied to anyone's work, nor unrelated to it.
    disclosure.record(session, None, [disclosure.access(case, viewer, related=None)])
    return ProgressRead(
        case_no=case.case_no,
        title=case.title,
        state=case.state,
        state_label=summary.state_label,
        applicant_name_masked=summary.applicant_name,
        submitted_at=case.submitted_at,
        clock=summary.clock,
        timeline=timeline,
    )


# --- material files -------------------------------------------------------------------


def read_material(
    session: Session, *, actor: Actor, case_no: str, material_id: int
) -> tuple[str, str, bytes]:
    """(filename as the reader may see it, content type, content); an audited download."""
    require(actor, "cases.read")
    case = load(session, actor, case_no)
    material = next((m for m in case.materials if m.id == material_id), None)
    if material is None:
        raise NotFound("material_not_found", "材料不存在。", "Material not found.")
    viewer = Viewer(actor, case)
    if viewer.show(disclosure.CONTENT, material.upload.sha256)[0] == "hidden":
        raise Forbidden(
            "material_hidden",
            "您的角色无权下载申请材料文件。",
            "Your role may not download material files.",
        )
    upload = material.upload
    filename = viewer.show(disclosure.FILENAME, upload.filename)[1] or f"material-{material.id}"
    related = case.id in disclosure.related_ids(session, actor, [case])
    download = disclosure.access(
        case, viewer, related=related, action="download", fields=(disclosure.CONTENT,)
    )
    disclosure.record(session, actor, [download])
    return filename, upload.content_type, get_storage().get(upload.sha256)


# --- unmasking ------------------------------------------------------------------------


def _checked_unmask(
    session: Session,
    actor: Actor,
    case_no: str,
    fields: Sequence[str],
    reason_code: str,
    reason_text: str,
) -> tuple[Case, list[str], Access]:
    """The case and the fields to show plain, once every check passed; the entry to record."""
    require(actor, "privacy.unmask")
    privacy_service.check_unmask_request(reason_code, reason_text)
    case = load(session, actor, case_no)
    if case.id not in disclosure.related_ids(session, actor, [case]):
        raise Forbidden(
            "unmask_not_related",
            "该办件与您承办的工作无关，不能查看明文。",
            "This case is not tied to your work; you may not see its plain values.",
        )
    viewer = Viewer(actor, case, form_schema=form_schema(session, case))
    known = disclosure.case_fields(case)
    allowed = viewer.unmaskable(known)
    wanted = allowed if "*" in fields else list(dict.fromkeys(fields))
    for field in wanted:
        if field not in known:
            raise Invalid(
                "unknown_field",
                f"办件没有该字段：{field}",
                f"The case has no field {field}.",
                details={"allowed": known},
            )
        if field not in allowed:
            raise privacy_service.unmask_forbidden(field)
    if not wanted:
        raise Invalid(
            "nothing_to_unmask", "没有可查看明文的字段。", "No masked field you may see plain."
        )
    entry = disclosure.access(
        case,
        viewer,
        related=True,
        action="unmask",
        fields=wanted,
        purpose_code=reason_code,
        purpose_text=reason_text.strip(),
    )
    return case, wanted, entry


def unmask(
    session: Session,
    *,
    actor: Actor,
    case_no: str,
    fields: Sequence[str],
    reason_code: str,
    reason_text: str,
) -> dict[str, str]:
    """The plain values of masked fields, for this response only; an audited request."""
    case, wanted, entry = _checked_unmask(session, actor, case_no, fields, reason_code, reason_text)
    disclosure.record(session, actor, [entry])
    return {field: _plain(case, field) for field in wanted}


def unmasked_case(
    session: Session,
    *,
    actor: Actor,
    case_no: str,
    fields: Sequence[str],
    reason_code: str,
    reason_text: str,
) -> CaseDetail:
    """The case with ``fields`` shown plain (the workbench page), read and unmask recorded."""
    case, wanted, entry = _checked_unmask(session, actor, case_no, fields, reason_code, reason_text)
    detail, read = _detail(session, actor, case, unmasked=wanted)
    disclosure.record(session, actor, [entry, read])
    return detail


def _plain(case: Case, field: str) -> str:
    values = {
        disclosure.NAME: case.applicant_name,
        disclosure.ID_NUMBER: case.applicant_id_number,
        disclosure.PHONE: case.applicant_phone,
    }
    if field in values:
        return values[field] or ""
    return str((case.form_data or {}).get(field.removeprefix(disclosure.FORM), ""))


# --- export ---------------------------------------------------------------------------


def export_cases(
    session: Session, *, actor: Actor, item_code: str | None = None, state: str | None = None
) -> export.Export | DomainError:
    """The actor's cases as CSV, masked; or the refusal (already recorded) to return as is.

    A refusal is returned, not raised, so that the request's transaction commits the
    audit entry and the alert that the refusal itself wrote.
    """
    require(actor, "cases.export")
    cases = repository.cases_for_export(
        session, actor, _state_filter(state), item_code, export.MAX_ROWS + 1
    )
    if len(cases) > export.MAX_ROWS:
        raise Invalid(
            "export_too_large",
            f"一次最多导出 {export.MAX_ROWS} 件，请按事项或状态缩小范围。",
            f"At most {export.MAX_ROWS} cases per export; filter by item or state.",
        )
    persons = list(dict.fromkeys(c.applicant_id_index for c in cases if c.applicant_id_index))
    scope = f"item={item_code or '*'};state={state or '*'}"[:64]
    refusal = audit_service.export_decision(
        session, actor=actor, person_refs=persons, subject_ref=scope
    )
    if refusal is not None:
        return refusal
    related = disclosure.related_ids(session, actor, cases)
    rows, entries = [], []
    for case in cases:
        viewer = Viewer(actor, case)
        rows.append(export.row(case, viewer))
        entries.append(
            disclosure.access(
                case, viewer, related=case.id in related, action="export", purpose_code="export"
            )
        )
    disclosure.record(session, actor, entries)
    name = f"cases-{item_code or 'all'}-{local_today():%Y%m%d}.csv"
    return export.Export(content=export.to_csv(rows), rows=len(rows), filename=name)


def case_no_for_idempotency_key(session: Session, *, actor: Actor, key: str) -> str | None:
    """The case an earlier request with this Idempotency-Key created, if any.

    Lets a form that is posted again (another tab, a lost session cookie) land on
    the case it already created before anything new is uploaded.
    """
    record = repository.idempotency_record(session, actor.user_id, key)
    return record.case_no if record else None
