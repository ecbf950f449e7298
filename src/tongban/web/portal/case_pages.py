"""My cases (applicants) and the public progress lookup."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from tongban.access.dependencies import OptionalActor
from tongban.cases import service as cases_service
from tongban.cases.schemas import ActionIn, CaseDetail, MaterialIn
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import MaterialRead
from tongban.deps import SessionDep
from tongban.errors import DomainError
from tongban.web import confirm, i18n
from tongban.web.auth import Applicant
from tongban.web.csrf import CsrfForm
from tongban.web.rendering import error_message, flash, paged, redirect, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
# The applicant's own actions; anything else in allowed_actions belongs to staff.
APPLICANT_ACTIONS = ("supplement", "withdraw")


@router.get("/my/cases")
def my_cases(request: Request, session: SessionDep, actor: Applicant, page: int = 1) -> Response:
    page = max(page, 1)
    cases = cases_service.my_cases(session, actor=actor, page=page, size=PAGE_SIZE)
    context = {"actor": actor, "cases": cases, **paged(cases)}
    return render(request, "portal/my_cases.html", context)


@router.get("/my/cases/{case_no}")
def my_case(request: Request, case_no: str, session: SessionDep, actor: Applicant) -> Response:
    case = cases_service.get_case(session, actor=actor, case_no=case_no)
    actions = [a for a in case.allowed_actions if a in APPLICANT_ACTIONS]
    context = {
        "actor": actor,
        "case": case,
        "actions": actions,
        "requirements": _requirements(session, case) if "supplement" in actions else [],
        "requested": _requested(case),
    }
    return render(request, "portal/my_case.html", context)


@router.get("/my/cases/{case_no}/decision.pdf")
def my_decision_pdf(case_no: str, session: SessionDep, actor: Applicant) -> Response:
    """The decision document; the first download of an electronic delivery is its receipt."""
    from tongban.web.workbench.case_page import pdf_response

    return pdf_response(*cases_service.decision_document(session, actor=actor, case_no=case_no))


@router.post("/my/cases/{case_no}/actions")
def my_case_action(
    request: Request, case_no: str, session: SessionDep, actor: Applicant, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    name = str(form.get("action") or "")
    version = str(form.get("version") or "")
    back = redirect(f"/my/cases/{case_no}")
    if name not in APPLICANT_ACTIONS:
        flash(request, gettext("不支持的操作。"), "error")
        return back
    if consequence := confirm.consequence_of(form):
        return confirm.confirmation_page(
            request,
            actor=actor,
            consequence=consequence,
            form=form,
            case_url=f"/my/cases/{case_no}",
            case_no=case_no,
        )
    payload: dict[str, object] = {}
    try:
        if name == "supplement":
            materials = []
            for key, value in form.multi_items():
                if key.startswith("material_") and isinstance(value, UploadFile) and value.filename:
                    saved = cases_service.save_upload(
                        session, actor=actor, filename=value.filename, content=value.file.read()
                    )
                    requirement_id = int(key.removeprefix("material_"))
                    materials.append(
                        MaterialIn(requirement_id=requirement_id, upload_id=saved.upload_id)
                    )
            if not materials:
                flash(request, gettext("请选择要补正的材料文件。"), "error")
                return back
            payload["materials"] = [m.model_dump() for m in materials]
        action = ActionIn(
            action=name,
            version=int(version) if version.isdigit() else None,
            note=str(form.get("note") or "")[:2000],
            payload=payload,
        )
        cases_service.act(session, actor=actor, case_no=case_no, action=action)
    except (DomainError, ValueError) as error:
        session.rollback()
        text = error_message(request, error) if isinstance(error, DomainError) else str(error)
        flash(request, text, "error")
        return back
    flash(request, gettext("操作成功：%(action)s。", action=gettext(_action_label(name))))
    return back


def _requirements(session: Session, case: CaseDetail) -> list[MaterialRead]:
    if case.item_code:
        return list(catalog_service.get_item(session, code=case.item_code).materials)
    bundle = catalog_service.get_bundle(session, code=case.bundle_code or "")
    return [m for item in bundle.items for m in item.materials]


def _requested(case: CaseDetail) -> set[str]:
    """Names in the latest one-time supplement notice, plus materials sent back."""
    names = {m.requirement_name for m in case.materials if m.status == "rejected"}
    for event in reversed(case.events):
        if event.payload.get("missing"):
            names.update(str(n) for n in event.payload["missing"])
            break
    return names


def _action_label(name: str) -> str:
    return {"supplement": "补正材料", "withdraw": "撤回申请"}.get(name, name)


@router.get("/progress")
def progress_form(request: Request, actor: OptionalActor) -> Response:
    return render(request, "portal/progress.html", {"actor": actor, "values": {}})


@router.post("/progress")
def progress_lookup(
    request: Request, session: SessionDep, actor: OptionalActor, form: CsrfForm
) -> Response:
    """POST, so the query code stays out of addresses, history and server logs."""
    gettext = i18n.gettext_for(request)
    case_no = str(form.get("case_no") or "").strip()[:40]
    code = str(form.get("query_code") or "").strip()[:16]
    values = {"case_no": case_no, "query_code": code}
    context: dict[str, object]
    if not case_no or not code:
        context = {
            "actor": actor,
            "values": values,
            "error": gettext("请填写办件编号和查询码。"),
        }
        return render(request, "portal/progress.html", context, status=422)
    try:
        result = cases_service.progress(session, case_no=case_no, query_code=code)
    except DomainError as error:
        context = {"actor": actor, "values": values, "error": error_message(request, error)}
        return render(request, "portal/progress.html", context, status=error.status)
    context = {"actor": actor, "values": values, "result": result}
    return render(request, "portal/progress.html", context)
