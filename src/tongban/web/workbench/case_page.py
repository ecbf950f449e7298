"""Case detail for staff: everything about the case and only the actions allowed now."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tongban.access.rules import Actor
from tongban.cases import service as cases_service
from tongban.cases.schemas import ActionIn, CaseDetail
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemRead
from tongban.deps import SessionDep
from tongban.errors import DomainError
from tongban.privacy import service as privacy_service
from tongban.web import confirm, forms, i18n
from tongban.web.auth import Staff
from tongban.web.csrf import CsrfForm
from tongban.web.rendering import error_message, flash, redirect, render

router = APIRouter(prefix="/workbench", include_in_schema=False)

# Actions shown inline next to the material or task they concern, not as case-level forms.
MATERIAL_ACTIONS = ("accept_material", "reject_material")
TASK_ACTIONS = ("approve_task", "deny_task")
# Fields each action reads from the posted form into its payload.
PAYLOAD_FIELDS: dict[str, tuple[str, ...]] = {
    "request_supplement": ("missing",),
    "accept": ("paper_checked",),
    "start_special": ("kind",),
    "decide": ("decision",),
    "deliver": ("method",),
    "approve_task": ("task_id",),
    "deny_task": ("task_id",),
    "accept_material": ("material_id",),
    "reject_material": ("material_id",),
}
INT_FIELDS = frozenset({"task_id", "material_id", "paper_checked"})
# Labels of the applicant's fields in the unmask form (form fields use their titles).
APPLICANT_FIELD_LABELS = {
    "case.applicant_name": "姓名",
    "case.applicant_id_number": "证件号码",
    "case.applicant_phone": "联系电话",
}
LIST_FIELDS = frozenset({"missing", "paper_checked"})


def _items(session: Session, case: CaseDetail) -> list[ItemRead]:
    if case.item_code:
        return [catalog_service.get_item(session, code=case.item_code)]
    return list(catalog_service.get_bundle(session, code=case.bundle_code or "").items)


def _form_titles(items: list[ItemRead]) -> dict[str, str]:
    schema = cases_service.application_schema(items)
    return {f.name: f.title for f in forms.fields_from_schema(schema)}


def _form_rows(case: CaseDetail, titles: dict[str, str]) -> list[tuple[str, Any, str]]:
    """(title, value, visibility) for the answers shown, in the schema's order."""
    ordered = [name for name in titles if name in case.form]
    ordered += [name for name in case.form if name not in titles]
    return [
        (titles.get(name, name), case.form[name], case.form_visibility[name]) for name in ordered
    ]


def _field_labels(case: CaseDetail, titles: dict[str, str]) -> list[tuple[str, str]]:
    """(policy field, label) of the masked fields the reader may ask to see plain."""
    labels = dict(APPLICANT_FIELD_LABELS)
    return [
        (field, labels.get(field) or titles.get(field.removeprefix("form."), field))
        for field in case.unmaskable_fields
    ]


def _case_page(
    request: Request, session: Session, actor: Actor, case: CaseDetail, *, unmasked: bool = False
) -> Response:
    items = _items(session, case)
    titles = _form_titles(items)
    allowed = set(case.allowed_actions)
    gettext = i18n.gettext_for(request)
    context = {
        "actor": actor,
        "case": case,
        "form_rows": _form_rows(case, titles),
        "requirements": cases_service.supplement_choices(session, case=case),
        "issued_fields": cases_service.issued_fields(session, case=case),
        "case_actions": [
            a for a in case.allowed_actions if a not in MATERIAL_ACTIONS + TASK_ACTIONS
        ],
        "material_actions": [a for a in MATERIAL_ACTIONS if a in allowed],
        "task_actions": [a for a in TASK_ACTIONS if a in allowed],
        "unmask_fields": [(f, gettext(label)) for f, label in _field_labels(case, titles)],
        "unmask_reasons": privacy_service.unmask_reasons(),
        "unmasked": unmasked,
        # Failed shared-data checks the clerk must tick (paper checked) to accept.
        "open_checks": [v for v in case.verifications if v.ask_for_paper and not v.paper_checked],
    }
    response = render(request, "workbench/case.html", context)
    if unmasked:  # plain values are for this response only: no cache may keep them
        response.headers["cache-control"] = "no-store"
    return response


@router.get("/cases/{case_no}")
def case_detail(request: Request, case_no: str, session: SessionDep, actor: Staff) -> Response:
    case = cases_service.get_case(session, actor=actor, case_no=case_no)
    return _case_page(request, session, actor, case)


@router.post("/cases/{case_no}/unmask")
def case_unmask(
    request: Request, case_no: str, session: SessionDep, actor: Staff, form: CsrfForm
) -> Response:
    """The case page once, with the chosen masked fields plain; the purpose is recorded."""
    fields = [str(v) for v in form.getlist("fields") if str(v).strip()]
    try:
        case = cases_service.unmasked_case(
            session,
            actor=actor,
            case_no=case_no,
            fields=fields or ["*"],
            reason_code=str(form.get("reason_code") or ""),
            reason_text=str(form.get("reason_text") or "").strip()[:500],
        )
    except DomainError as error:
        session.rollback()
        flash(request, error_message(request, error), "error")
        return redirect(f"/workbench/cases/{case_no}")
    return _case_page(request, session, actor, case, unmasked=True)


@router.get("/cases/{case_no}/materials/{material_id}")
def material_file(case_no: str, material_id: int, session: SessionDep, actor: Staff) -> Response:
    filename, content_type, content = cases_service.read_material(
        session, actor=actor, case_no=case_no, material_id=material_id
    )
    # RFC 6266/5987: a UTF-8 filename for Chinese names, and never rendered inline here.
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    headers = {"content-disposition": disposition, "cache-control": "no-store"}
    return Response(content, media_type=content_type, headers=headers)


@router.get("/cases/{case_no}/decision.pdf")
def decision_pdf(case_no: str, session: SessionDep, actor: Staff) -> Response:
    """The decision document, to print for pickup or mail (an audited download)."""
    return pdf_response(*cases_service.decision_document(session, actor=actor, case_no=case_no))


def pdf_response(filename: str, content: bytes) -> Response:
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    headers = {"content-disposition": disposition, "cache-control": "no-store"}
    return Response(content, media_type="application/pdf", headers=headers)


def action_from_form(form: FormData) -> ActionIn:
    name = str(form.get("action") or "")
    version = str(form.get("version") or "")
    payload: dict[str, Any] = {}
    issued = {
        key.removeprefix("issued_"): str(value).strip()
        for key, value in form.items()
        if key.startswith("issued_") and isinstance(value, str) and value.strip()
    }
    if name == "approve_task" and issued:
        payload["issued"] = issued
    for key in PAYLOAD_FIELDS.get(name, ()):
        if key in LIST_FIELDS:
            values = [str(v).strip() for v in form.getlist(key) if str(v).strip()]
            payload[key] = [int(v) if key in INT_FIELDS and v.isdigit() else v for v in values]
        elif (value := str(form.get(key) or "").strip()) != "":
            payload[key] = int(value) if key in INT_FIELDS and value.isdigit() else value
    return ActionIn(
        action=name,
        version=int(version) if version.isdigit() else None,
        note=str(form.get("note") or "").strip()[:2000],
        payload=payload,
    )


@router.post("/cases/{case_no}/actions")
def case_action(
    request: Request, case_no: str, session: SessionDep, actor: Staff, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    if consequence := confirm.consequence_of(form):
        if confirm.missing_reason(form, consequence):
            flash(request, gettext("请填写理由。"), "error")
            return redirect(f"/workbench/cases/{case_no}")
        return confirm.confirmation_page(
            request,
            actor=actor,
            consequence=consequence,
            form=form,
            case_url=f"/workbench/cases/{case_no}",
            case_no=case_no,
        )
    action = action_from_form(form)
    try:
        case = cases_service.act(session, actor=actor, case_no=case_no, action=action)
    except DomainError as error:
        session.rollback()
        flash(request, error_message(request, error), "error")
        return redirect(f"/workbench/cases/{case_no}")
    label = next((e.action_label for e in reversed(case.events)), action.action)
    flash(request, gettext("已完成：%(action)s。", action=gettext(label)))
    return redirect(f"/workbench/cases/{case_no}")
