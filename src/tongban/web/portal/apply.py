"""The application form: generated from the item's schema, validated here, submitted once.

Flow: GET renders the form with a fresh idempotency key; POST checks the applicant, the
form and the files (nothing is stored while anything is wrong), saves the uploads,
submits the case and redirects to a receipt page (post/redirect/get).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from tongban.access.rules import Actor, Role
from tongban.cases import service as cases_service
from tongban.cases.schemas import ApplicantIn, CaseCreate, MaterialIn, UploadRead
from tongban.cases.submission import MaterialPlan
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemRead, MaterialRead
from tongban.deps import SessionDep
from tongban.errors import DomainError
from tongban.web import elder, forms, i18n, labels
from tongban.web.auth import Filer, SignedIn
from tongban.web.csrf import CsrfForm
from tongban.web.portal import applying_as
from tongban.web.rendering import error_message, redirect, render

router = APIRouter(include_in_schema=False)
_SUBMITTED_KEY = "submitted"  # idempotency key → case number, for a resubmitted page


@dataclass
class Target:
    """What is being applied for: one item, or a bundle of items."""

    kind: str  # "item" | "bundle"
    code: str
    name: str
    items: list[ItemRead]
    schema: dict[str, Any] = field(default_factory=dict)

    @property
    def action_url(self) -> str:
        return f"/apply/{self.code}" if self.kind == "item" else f"/apply/bundle/{self.code}"

    plan: MaterialPlan | None = None

    @property
    def materials(self) -> list[tuple[ItemRead, MaterialRead]]:
        """Each material the application asks once (a bundle repeats none)."""
        assert self.plan is not None
        return self.plan.asked


def _item_target(session: Session, code: str) -> Target:
    item = catalog_service.get_item(session, code=code)
    plan = cases_service.application_plan(session, item_code=code)
    return Target("item", item.code, item.name, [item], item.form_schema, plan)


def _bundle_target(session: Session, code: str) -> Target:
    bundle = catalog_service.get_bundle(session, code=code)
    schema = cases_service.application_schema(list(bundle.items))
    plan = cases_service.application_plan(session, bundle_code=code)
    return Target("bundle", bundle.code, bundle.name, list(bundle.items), schema, plan)


def _show_form(
    request: Request,
    session: Session,
    actor: Actor,
    target: Target,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    general_error: str = "",
    key: str | None = None,
    status: int = 200,
    attached: dict[int, UploadRead] | None = None,
) -> Response:
    values = dict(values or {})
    gettext = i18n.gettext_for(request)
    offer = None
    if actor.role == Role.APPLICANT:
        # Who the citizen may apply for comes from their account, never from typing.
        offer = applying_as.offer(session, actor, [i.code for i in target.items], gettext)
        values.setdefault("applicant_choice", offer.choices[0].value if offer.choices else "")
    context = {
        "offer": offer,
        "required_level": max((i.assurance_level for i in target.items), default=1),
        "actor": actor,
        "target": target,
        "fields": forms.fields_from_schema(target.schema),
        "materials": target.materials,
        "must_upload": target.plan.must_upload if target.plan else cases_service.must_upload,
        "delivery": values.get("delivery")
        or ("electronic" if actor.role == Role.APPLICANT else "pickup"),
        "values": values,
        "errors": errors or {},
        "general_error": general_error,
        "idempotency_key": key or secrets.token_urlsafe(16),
        "attached": attached or {},
        "labels": labels,
    }
    return render(request, "portal/apply.html", context, status=status)


@router.get("/apply/{code}")
def apply_item_form(request: Request, code: str, session: SessionDep, actor: Filer) -> Response:
    return _show_form(request, session, actor, _item_target(session, code))


@router.get("/apply/bundle/{code}")
def apply_bundle_form(request: Request, code: str, session: SessionDep, actor: Filer) -> Response:
    return _show_form(request, session, actor, _bundle_target(session, code))


@router.post("/apply/{code}")
def apply_item(
    request: Request, code: str, session: SessionDep, actor: Filer, form: CsrfForm
) -> Response:
    return _submit(request, session, actor, _item_target(session, code), form)


@router.post("/apply/bundle/{code}")
def apply_bundle(
    request: Request, code: str, session: SessionDep, actor: Filer, form: CsrfForm
) -> Response:
    return _submit(request, session, actor, _bundle_target(session, code), form)


def _attach(
    request: Request,
    session: Session,
    actor: Actor,
    target: Target,
    form: FormData,
    errors: dict[str, str],
) -> dict[int, UploadRead]:
    """Each material's file: a newly chosen one (saved now, checked by its content), or the
    one kept from an earlier try (``pending_<id>``, the person's own unattached upload)."""
    ids = {m.id for _, m in target.materials}
    tokens = {
        int(key.removeprefix("pending_")): str(value)
        for key, value in form.items()
        if key.startswith("pending_") and key.removeprefix("pending_").isdigit()
    }
    kept = cases_service.pending_uploads(session, actor=actor, tokens=list(tokens.values()))
    attached = {r: kept[t] for r, t in tokens.items() if r in ids and t in kept}
    for requirement_id in ids:
        chosen = form.get(f"material_{requirement_id}")
        if not isinstance(chosen, UploadFile) or not chosen.filename:
            continue
        try:
            attached[requirement_id] = cases_service.save_upload(
                session, actor=actor, filename=chosen.filename, content=chosen.file.read()
            )
        except DomainError as error:
            errors[f"material_{requirement_id}"] = error_message(request, error)
            attached.pop(requirement_id, None)
    return attached


def _submit(
    request: Request, session: Session, actor: Actor, target: Target, form: FormData
) -> Response:
    gettext = i18n.gettext_for(request)
    key = str(form.get("idempotency_key") or "")[:64] or None
    done = dict(request.session.get(_SUBMITTED_KEY, {}))
    if key and key in done:  # the same page submitted again (back button, double click)
        return redirect(f"/apply/done/{done[key]}")
    earlier = (
        cases_service.case_no_for_idempotency_key(session, actor=actor, key=key) if key else None
    )
    if earlier:  # posted again from another tab or after the session cookie was lost
        return redirect(f"/apply/done/{earlier}")
    raw = {k: v for k, v in form.items() if isinstance(v, str)}
    applicant, applicant_errors = _applicant(session, actor, raw, gettext)
    answers = forms.validate(target.schema, raw, gettext)
    errors = {**applicant_errors, **answers.errors}
    attached = _attach(request, session, actor, target, form, errors)
    must_upload = target.plan.must_upload if target.plan else cases_service.must_upload
    for _item, material in target.materials:
        name = f"material_{material.id}"
        if must_upload(material) and material.id not in attached and name not in errors:
            errors[name] = gettext("请上传%(name)s。", name=material.name)

    def again(general: str = "", status: int = 422) -> Response:
        # The application is not stored; the files that were fine are kept as the
        # person's pending uploads and shown attached, so they need not be chosen again.
        return _show_form(
            request, session, actor, target, values=raw, errors=errors,
            general_error=general, key=key, status=status, attached=attached,
        )  # fmt: skip

    if errors:
        return again()
    data = CaseCreate(
        item_code=target.code if target.kind == "item" else None,
        bundle_code=target.code if target.kind == "bundle" else None,
        applicant=applicant,
        form=answers.data,
        materials=[
            MaterialIn(requirement_id=r, upload_id=u.upload_id) for r, u in attached.items()
        ],
        channel="online" if actor.role == Role.APPLICANT else "window",
        elder_mode=elder.is_on(request),
        delivery=_delivery(raw.get("delivery")),
    )
    try:
        with session.begin_nested():  # a refused submission leaves only the pending uploads
            case = cases_service.submit_case(session, actor=actor, data=data, idempotency_key=key)
    except DomainError as error:
        if error.code == "idempotency_key_reused":
            return again(gettext("这份申请已经提交过了，请到“我的办件”查看。"), status=409)
        return again(error_message(request, error), status=error.status)
    if key:
        done[key] = case.case_no
        request.session[_SUBMITTED_KEY] = dict(list(done.items())[-5:])
    return redirect(f"/apply/done/{case.case_no}")


def _applicant(
    session: Session, actor: Actor, raw: dict[str, str], gettext: i18n.Gettext
) -> tuple[ApplicantIn, dict[str, str]]:
    """Staff type the person's details (checked here); a citizen picks one of the options
    their account offers, with an optional other contact number."""
    if actor.role != Role.APPLICANT:
        checked = forms.validate_applicant(raw, gettext)
        return ApplicantIn(**checked.data), checked.errors
    errors: dict[str, str] = {}
    phone = re.sub(r"\s", "", raw.get("applicant_phone") or "")[:20]
    if phone and not forms.PHONE_RE.match(phone):
        errors["applicant_phone"] = gettext(
            "联系电话格式不正确：手机号 11 位，座机如 0954-1234567。"
        )
    choice = raw.get("applicant_choice") or applying_as.SELF
    applicant = applying_as.applicant_for(session, actor, choice, phone or None)
    if applicant is None:
        errors["applicant_choice"] = gettext("请选择为谁申请。")
        applicant = ApplicantIn()
    return applicant, errors


def _delivery(value: str | None) -> Literal["pickup", "mail", "electronic"] | None:
    if value == "pickup":
        return "pickup"
    if value == "mail":
        return "mail"
    if value == "electronic":
        return "electronic"
    return None


@router.get("/apply/done/{case_no}")
def receipt(request: Request, case_no: str, session: SessionDep, actor: SignedIn) -> Response:
    case = cases_service.get_case(session, actor=actor, case_no=case_no)
    return render(request, "portal/done.html", {"actor": actor, "case": case, "labels": labels})
