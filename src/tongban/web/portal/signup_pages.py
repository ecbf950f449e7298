"""Sign-up on a confirmed mobile number and password reset, as plain forms (no script).

Step 1 sends a one-time code (SMS, and e-mail when given); the number waits in the
signed session cookie. Step 2 takes the code and the new password together: the code
is confirmed and the account created (or the password reset) in one request. A wrong
code is counted and answered on the page (the count is committed).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tongban.access import accounts
from tongban.access.dependencies import OptionalActor
from tongban.config import get_settings
from tongban.deps import SessionDep
from tongban.errors import DomainError
from tongban.web import i18n
from tongban.web.auth import start_session
from tongban.web.csrf import CsrfForm
from tongban.web.rendering import error_message, flash, redirect, render

router = APIRouter(include_in_schema=False)
_PENDING = "phone_code"  # session: {"purpose", "phone", "email"}
PAGES = {"signup": "/signup", "reset": "/password-reset"}


def _step_one(
    request: Request,
    actor: OptionalActor,
    purpose: str,
    *,
    values: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    context = {"actor": actor, "purpose": purpose, "values": values or {}, "error": error}
    return render(request, "portal/phone_code.html", context, status=status)


@router.get("/signup")
def signup_form(request: Request, actor: OptionalActor) -> Response:
    return _step_one(request, actor, "signup")


@router.get("/password-reset")
def reset_form(request: Request, actor: OptionalActor) -> Response:
    return _step_one(request, actor, "reset")


@router.post("/signup")
def signup_send(
    request: Request, session: SessionDep, actor: OptionalActor, form: CsrfForm
) -> Response:
    return _send(request, session, actor, form, "signup")


@router.post("/password-reset")
def reset_send(
    request: Request, session: SessionDep, actor: OptionalActor, form: CsrfForm
) -> Response:
    return _send(request, session, actor, form, "reset")


def _send(
    request: Request, session: Session, actor: OptionalActor, form: FormData, purpose: str
) -> Response:
    phone = str(form.get("phone") or "").strip()[:32]
    email = str(form.get("email") or "").strip()[:254] or None
    values = {"phone": phone, "email": email or ""}
    try:
        accounts.request_code(session, phone=phone, purpose=purpose, email=email)
    except DomainError as error:
        session.rollback()
        message = error_message(request, error)
        return _step_one(request, actor, purpose, values=values, error=message, status=error.status)
    request.session[_PENDING] = {"purpose": purpose, "phone": phone, "email": email or ""}
    return redirect(f"{PAGES[purpose]}/verify")


@router.get("/signup/verify")
def signup_verify_form(request: Request, actor: OptionalActor) -> Response:
    return _step_two(request, actor, "signup")


@router.get("/password-reset/verify")
def reset_verify_form(request: Request, actor: OptionalActor) -> Response:
    return _step_two(request, actor, "reset")


def _step_two(
    request: Request, actor: OptionalActor, purpose: str, error: str = "", status: int = 200
) -> Response:
    pending = request.session.get(_PENDING) or {}
    if pending.get("purpose") != purpose:
        return redirect(PAGES[purpose])
    context = {
        "actor": actor,
        "purpose": purpose,
        "phone_masked": _masked(str(pending.get("phone", ""))),
        "error": error,
        "demo_sms": get_settings().sms_gateway == "demo",
    }
    return render(request, "portal/phone_verify.html", context, status=status)


def _masked(phone: str) -> str:
    from tongban.kit.masking import mask_phone

    return mask_phone(phone)


@router.post("/signup/verify")
def signup_verify(
    request: Request, session: SessionDep, actor: OptionalActor, form: CsrfForm
) -> Response:
    return _verify(request, session, actor, form, "signup")


@router.post("/password-reset/verify")
def reset_verify(
    request: Request, session: SessionDep, actor: OptionalActor, form: CsrfForm
) -> Response:
    return _verify(request, session, actor, form, "reset")


def _verify(
    request: Request, session: Session, actor: OptionalActor, form: FormData, purpose: str
) -> Response:
    gettext = i18n.gettext_for(request)
    pending = request.session.get(_PENDING) or {}
    if pending.get("purpose") != purpose:
        return redirect(PAGES[purpose])
    password = str(form.get("password") or "")
    if password != str(form.get("password_again") or ""):
        return _step_two(request, actor, purpose, gettext("两次输入的密码不一致。"), 422)
    try:
        accounts.check_password(password)
        proof = accounts.confirm_code(
            session,
            phone=str(pending["phone"]),
            purpose=purpose,
            code=str(form.get("code") or "")[:16],
        )
        if purpose == "signup":
            email = str(pending.get("email") or "") or None
            created = accounts.register(session, proof=proof, password=password, email=email)
        else:
            accounts.reset_password(session, proof=proof, password=password)
    except accounts.CountedRefusal as refusal:  # a wrong code: counted, committed, said
        return _step_two(request, actor, purpose, error_message(request, refusal), refusal.status)
    except DomainError as error:
        session.rollback()
        return _step_two(request, actor, purpose, error_message(request, error), error.status)
    request.session.pop(_PENDING, None)
    if purpose == "reset":
        flash(request, gettext("密码已重置，所有设备上的登录已退出，请用新密码登录。"))
        return redirect("/login")
    start_session(request, session, created)
    flash(request, gettext("注册成功。请完成实名认证，即可网上办事。"))
    return redirect("/me/identity")
