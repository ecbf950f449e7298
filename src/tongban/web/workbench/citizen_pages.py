"""Window and village service-station staff: register a citizen in person (实名认证 level 3,
the citizen's consent recorded) and record a delegation (委托) with the principal present."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tongban.access import delegations, identity
from tongban.access.rules import Actor
from tongban.catalog import service as catalog_service
from tongban.deps import SessionDep
from tongban.errors import DomainError
from tongban.web import i18n
from tongban.web.auth import Clerk
from tongban.web.csrf import CsrfForm
from tongban.web.portal.account_pages import parse_until
from tongban.web.rendering import error_message, flash, redirect, render

router = APIRouter(prefix="/workbench", include_in_schema=False)
# Recorded with the check in Chinese (the record is the center's); shown translated.
CONSENT_TEXT = i18n._(
    "本人已知悉并同意：由工作人员当面核验本人居民身份证，为本人注册政务服务账号，"
    "并按规定向公安人口库核验身份信息。"
)
DELEGATION_CONSENT = i18n._(
    "委托人本人到场，出示居民身份证，同意委托受托人在有效期内代为申请所列事项。"
)


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    template: str,
    *,
    values: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
    done: dict[str, str] | None = None,
) -> Response:
    items = catalog_service.list_items(session, size=catalog_service.MAX_PAGE_SIZE).items
    context = {
        "actor": actor,
        "values": values or {},
        "error": error,
        "done": done,
        "consent_text": CONSENT_TEXT,
        "delegation_consent": DELEGATION_CONSENT,
        "items": items,
    }
    return render(request, template, context, status=status)


@router.get("/citizens/register")
def register_form(request: Request, session: SessionDep, actor: Clerk) -> Response:
    return _page(request, session, actor, "workbench/register_citizen.html")


@router.post("/citizens/register")
def register_citizen(
    request: Request, session: SessionDep, actor: Clerk, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    values = {k: str(form.get(k) or "")[:128] for k in ("name", "id_number", "phone", "place")}
    if form.get("consent") != "yes":
        message = gettext("请向本人宣读并确认其同意后勾选。")
        return _page(request, session, actor, "workbench/register_citizen.html",
                     values=values, error=message, status=422)  # fmt: skip
    try:
        user, _ = identity.register_in_person(
            session,
            clerk=actor,
            person=identity.InPerson(
                values["name"], values["id_number"], values["place"], CONSENT_TEXT
            ),
            password=str(form.get("password") or ""),
            phone=values["phone"] or None,
        )
    except DomainError as error:
        session.rollback()
        return _page(request, session, actor, "workbench/register_citizen.html",
                     values=values, error=error_message(request, error),
                     status=error.status)  # fmt: skip
    done = {"name": user.display_name, "username": user.username}
    return _page(request, session, actor, "workbench/register_citizen.html", done=done)


@router.get("/delegations/new")
def delegation_form(request: Request, session: SessionDep, actor: Clerk) -> Response:
    return _page(request, session, actor, "workbench/delegation.html")


@router.post("/delegations/new")
def record_delegation(
    request: Request, session: SessionDep, actor: Clerk, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    keys = ("principal_name", "principal_id_number", "agent_phone", "valid_until")
    values = {k: str(form.get(k) or "")[:64] for k in keys}
    codes = [str(v)[:64] for v in form.getlist("item_codes") if str(v).strip()]
    if form.get("consent") != "yes":
        message = gettext("请确认委托人本人到场并同意委托后勾选。")
        return _page(request, session, actor, "workbench/delegation.html",
                     values=values, error=message, status=422)  # fmt: skip
    try:
        for code in codes:
            catalog_service.get_item(session, code=code)
        delegations.record_at_window(
            session,
            clerk=actor,
            principal_name=values["principal_name"],
            principal_id_number=values["principal_id_number"],
            agent_phone=values["agent_phone"],
            item_codes=codes,
            valid_until=parse_until(values["valid_until"]),
            consent=DELEGATION_CONSENT,
        )
    except DomainError as error:
        session.rollback()
        return _page(request, session, actor, "workbench/delegation.html",
                     values=values, error=error_message(request, error),
                     status=error.status)  # fmt: skip
    flash(request, gettext("委托已登记，受托人可在有效期内代为申请。"))
    return redirect("/workbench")
