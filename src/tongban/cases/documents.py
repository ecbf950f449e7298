"""The decision document (决定书): issued once when first asked for, then kept as issued.

Rendered from a Chinese template (an official document, like the half-year report) to
PDF by WeasyPrint, stored by content hash (encrypted like every file) and named on the
case, so every later download returns the same bytes. The applicant's first download of
a case whose result is delivered electronically is the 送达回证: the platform records
the delivery (``receive_electronic``) in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tongban.access.rules import Actor, Role
from tongban.cases import disclosure, repository, rules, submission
from tongban.cases.acting import fire_internal
from tongban.cases.disclosure import Viewer
from tongban.cases.models import Case
from tongban.cases.queries import load, require
from tongban.cases.storage import get_storage
from tongban.catalog.schemas import ItemRead
from tongban.errors import Conflict, Forbidden
from tongban.kit.clock import to_local
from tongban.kit.masking import mask_id_number

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates" / "documents"
PURPOSE_DELIVERY = "decision_document"
ISSUED_LABELS = {"uscc": "统一社会信用代码"}


@dataclass(frozen=True)
class DecisionDocument:
    case_no: str
    issuer: str
    title: str
    number: str
    applicant_name: str
    enterprise: bool
    item_title: str
    submitted_on: str
    accepted_on: str
    decided_on: str
    approved: bool
    legal_basis: str
    result_name: str
    reason: str
    delivery: str
    tasks: list[dict[str, str]] = field(default_factory=list)
    issued: list[tuple[str, str]] = field(default_factory=list)


def may_read(actor: Actor, case: Case) -> bool:
    """The applicant, the person who filed it for them, and the staff handling it."""
    if actor.role == Role.APPLICANT:
        return actor.user_id in (case.applicant_user_id, case.submitted_by_user_id)
    return actor.role in (Role.CLERK, Role.REVIEWER)


def _day(moment: object) -> str:
    return to_local(moment).strftime("%Y年%m月%d日") if moment is not None else ""  # type: ignore[arg-type]


def build(session: Session, case: Case) -> DecisionDocument:
    target = submission.resolve_target(
        session, item_code=case.item_code, bundle_code=case.bundle_code
    )
    approved = case.decision == "approve"
    licensing = all(item.item_type == "01" for item in target.items)
    kind = "许可决定书" if licensing else "办理决定书"
    name = case.applicant_name
    if case.applicant_kind == "person" and case.applicant_id_number:
        name = f"{name}（公民身份号码 {mask_id_number(case.applicant_id_number)}）"
    return DecisionDocument(
        case_no=case.case_no,
        issuer=case.lead_department_name,
        title=("准予" if approved else "不予") + kind,
        number=f"〔{to_local(case.decided_at or case.submitted_at).year}〕第 {case.case_no} 号",
        applicant_name=name,
        enterprise=case.applicant_kind == "enterprise",
        item_title=case.title,
        submitted_on=_day(case.submitted_at),
        accepted_on=_day(case.accepted_at),
        decided_on=_day(case.decided_at),
        approved=approved,
        legal_basis=_legal_basis(target.items),
        result_name="、".join(i.result_name for i in target.items if i.result_name),
        reason=case.decision_note,
        delivery=rules.DELIVERY_LABELS.get(case.delivery_preference, case.delivery_preference),
        tasks=[
            {
                "item": t.item_name,
                "department": t.department_name,
                "result": rules.TASK_STATE_LABELS.get(t.state, t.state),
            }
            for t in case.tasks
        ]
        if len(target.items) > 1
        else [],
        issued=[
            (ISSUED_LABELS.get(f, f), str((case.form_data or {}).get(f, "")))
            for item in target.items
            for f in item.issues
            if (case.form_data or {}).get(f)
        ],
    )


def _legal_basis(items: list[ItemRead]) -> str:
    bases = [item.legal_basis.strip().rstrip("。；;") for item in items if item.legal_basis]
    return "；".join(dict.fromkeys(bases))


def render_html(document: DecisionDocument) -> str:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
    )
    return environment.get_template("decision.html").render(doc=document)


def render_pdf(document: DecisionDocument) -> bytes:
    from weasyprint import HTML  # imported here: only the PDF needs pango and cairo

    pdf: bytes = HTML(string=render_html(document)).write_pdf()
    return pdf


def issued_pdf(session: Session, case: Case) -> tuple[str, bytes]:
    """(content hash, PDF) of the case's decision document, issued now if it was not yet."""
    storage = get_storage()
    if case.decision_document_sha256:
        return case.decision_document_sha256, storage.get(case.decision_document_sha256)
    content = render_pdf(build(session, case))
    sha256 = repository.set_decision_document(session, case.id, storage.put(content))
    set_committed_value(case, "decision_document_sha256", sha256)
    return sha256, storage.get(sha256)


def check_ready(actor: Actor, case: Case) -> None:
    if not may_read(actor, case):
        raise Forbidden(
            "decision_document_forbidden",
            "您无权下载该办件的决定书。",
            "You may not download this case's decision document.",
        )
    if case.decision is None or case.state not in (rules.State.CLOSED, rules.State.DELIVERED):
        raise Conflict(
            "decision_document_not_ready",
            "办件尚未办结，暂无决定书。",
            "The case is not closed yet: there is no decision document.",
            details={"state": case.state},
        )


def record_download(session: Session, actor: Actor, case: Case) -> None:
    viewer = Viewer(actor, case)
    viewer.show(disclosure.NAME, case.applicant_name)
    related = case.id in disclosure.related_ids(session, actor, [case])
    entry = disclosure.access(
        case, viewer, related=related, action="download", purpose_code=PURPOSE_DELIVERY
    )
    disclosure.record(session, actor, [entry])


def is_electronic_receipt(actor: Actor, case: Case) -> bool:
    """The applicant's (or their filer's) first download of an electronically delivered result."""
    return (
        actor.role == Role.APPLICANT
        and case.state == rules.State.CLOSED
        and case.delivery_preference == "electronic"
    )


def decision_document(session: Session, *, actor: Actor, case_no: str) -> tuple[str, bytes]:
    """(file name, PDF) of the case's decision document; an audited download.

    The applicant's first download of a result delivered electronically records the
    delivery (送达回证) in this transaction.
    """
    require(actor, "cases.read")
    case = load(session, actor, case_no)
    check_ready(actor, case)
    sha256, content = issued_pdf(session, case)
    record_download(session, actor, case)
    if is_electronic_receipt(actor, case):
        payload = {"document_sha256": sha256, "receipt": "电子送达回证：申请人下载决定书"}
        fire_internal(
            session, actor=actor, case=case, action=rules.Action.RECEIVE_ELECTRONIC, payload=payload
        )
    return f"决定书-{case.case_no}.pdf", content
