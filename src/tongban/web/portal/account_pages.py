"""My account (我的账号): 实名认证, password, signing out everywhere, enterprises, delegations.

Every form posts and redirects back with a message (post/redirect/get). Refusals that
counted an attempt (a failed identity check) are shown without rolling back, so the
attempt stays counted.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tongban.access import accounts, delegations, enterprises, identity
from tongban.access.rules import Actor
from tongban.access.throttle import CountedRefusal
from tongban.catalog import service as catalog_service
from tongban.deps import SessionDep
from tongban.errors import DomainError, Invalid
from tongban.kit.clock import SHANGHAI
from tongban.web import i18n
from tongban.web.auth import Applicant, SignedIn
from tongban.web.csrf import CsrfForm
from tongban.web.rendering import error_message, flash, redirect, render

router = APIRouter(prefix="/me", include_in_schema=False)


@router.get("/identity")
def identity_form(request: Request, session: SessionDep, actor: Applicant) -> Response:
    return _identity_page(request, session, actor)


def _identity_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    account = accounts.account_view(session, actor=actor)
    context = {"actor": actor, "account": account, "values": values or {}, "error": error}
    return render(request, "portal/identity.html", context, status=status)


@router.post("/identity")
def identity_submit(
    request: Request, session: SessionDep, actor: Applicant, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    name = str(form.get("name") or "")[:64]
    number = str(form.get("id_number") or "")[:32]
    values = {"name": name, "id_number": number}
    try:
        identity.verify_identity(session, actor=actor, name=name, id_number=number)
    except CountedRefusal as refusal:  # counted: the transaction commits
        message = error_message(request, refusal)
        return _identity_page(request, session, actor, values=values, error=message,
                              status=refusal.status)  # fmt: skip
    except DomainError as error:
        session.rollback()
        message = error_message(request, error)
        return _identity_page(request, session, actor, values=values, error=message,
                              status=error.status)  # fmt: skip
    flash(request, gettext("实名认证成功：身份已经人口库核验（二级），可以网上办事了。"))
    return redirect("/me/account")


@router.get("/account")
def account_page(request: Request, session: SessionDep, actor: SignedIn) -> Response:
    context: dict[str, Any] = {
        "actor": actor,
        "account": accounts.account_view(session, actor=actor),
        "enterprises": [],
        "given": [],
        "received": [],
    }
    if actor.role.value == "applicant":
        context |= {
            "enterprises": enterprises.linked(session, actor=actor),
            "given": delegations.given(session, actor=actor),
            "received": delegations.received(session, actor=actor),
            "capacities": enterprises.CAPACITY_LABELS,
            "item_names": _item_names(session),
        }
    return render(request, "portal/account.html", context)


def _item_names(session: Session) -> dict[str, str]:
    page = catalog_service.list_items(session, size=catalog_service.MAX_PAGE_SIZE)
    return {item.code: item.name for item in page.items}


def _back(request: Request, session: Session, error: DomainError) -> Response:
    if not isinstance(error, CountedRefusal):
        session.rollback()
    flash(request, error_message(request, error), "error")
    return redirect("/me/account")


@router.post("/password")
def change_password(
    request: Request, session: SessionDep, actor: SignedIn, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    new = str(form.get("new_password") or "")
    if new != str(form.get("new_password_again") or ""):
        flash(request, gettext("两次输入的密码不一致。"), "error")
        return redirect("/me/account")
    try:
        accounts.change_password(
            session, actor=actor, old=str(form.get("old_password") or ""), new=new
        )
    except DomainError as error:
        return _back(request, session, error)
    request.session.clear()
    flash(request, gettext("密码已修改，所有设备上的登录已退出，请重新登录。"))
    return redirect("/login")


@router.post("/sign-out-everywhere")
def sign_out_everywhere(
    request: Request, session: SessionDep, actor: SignedIn, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    accounts.sign_out_everywhere(session, actor=actor)
    request.session.clear()
    flash(request, gettext("已退出所有设备上的登录。"))
    return redirect("/login")


@router.post("/enterprises")
def link_enterprise(
    request: Request, session: SessionDep, actor: Applicant, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    try:
        linked = enterprises.link(
            session,
            actor=actor,
            credit_code=str(form.get("credit_code") or "")[:32],
            capacity=str(form.get("capacity") or ""),
        )
    except DomainError as error:
        return _back(request, session, error)
    flash(request, gettext("已关联企业：%(name)s（经企业登记信息核验）。", name=linked.name))
    return redirect("/me/account")


@router.post("/enterprises/{credit_code}/unlink")
def unlink_enterprise(
    request: Request, credit_code: str, session: SessionDep, actor: Applicant, form: CsrfForm
) -> Response:
    enterprises.unlink(session, actor=actor, credit_code=credit_code[:32])
    flash(request, i18n.gettext_for(request)("已取消关联。"))
    return redirect("/me/account")


def parse_until(text: str) -> datetime:
    """The last day a delegation is valid, as the end of that day in Beijing."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(
            "delegation_expiry_invalid",
            "请填写委托截止日期，格式如 2027-06-30。",
            "Enter the delegation's last day, e.g. 2027-06-30.",
            details={"field": "valid_until"},
        ) from None
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)


@router.post("/delegations")
def give_delegation(
    request: Request, session: SessionDep, actor: Applicant, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    codes = [str(v) for v in form.getlist("item_codes") if str(v).strip()]
    try:
        for code in codes:
            catalog_service.get_item(session, code=code[:64])
        delegations.give(
            session,
            principal=actor,
            agent_phone=str(form.get("agent_phone") or "")[:32],
            item_codes=codes,
            valid_until=parse_until(str(form.get("valid_until") or "")),
            note=str(form.get("note") or "")[:500],
        )
    except DomainError as error:
        return _back(request, session, error)
    flash(request, gettext("委托已生效：受托人可在有效期内为您申请所选事项。"))
    return redirect("/me/account")


@router.post("/delegations/{delegation_id}/revoke")
def revoke_delegation(
    request: Request, delegation_id: int, session: SessionDep, actor: Applicant, form: CsrfForm
) -> Response:
    try:
        delegations.revoke(session, actor=actor, delegation_id=delegation_id)
    except DomainError as error:
        return _back(request, session, error)
    flash(request, i18n.gettext_for(request)("委托已终止。"))
    return redirect("/me/account")
