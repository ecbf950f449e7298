"""好差评 and 吐槽专区 for citizens: rate a closed case, file and follow a complaint.

Anonymous complainants keep a query code; it travels only in POST bodies (never in an
address), as on the progress page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from tongban.access.dependencies import OptionalActor
from tongban.access.rules import Actor, Role
from tongban.cases import service as cases_service
from tongban.config import get_settings
from tongban.deps import SessionDep
from tongban.errors import DomainError, NotFound
from tongban.feedback import rules as feedback_rules
from tongban.feedback import service as feedback_service
from tongban.feedback.schemas import ComplaintActionIn, ComplaintCreate, Countdown, RatingCreate
from tongban.web import i18n
from tongban.web.auth import Applicant
from tongban.web.csrf import CsrfForm
from tongban.web.i18n import Gettext, _
from tongban.web.portal import complaint_targets
from tongban.web.rendering import error_message, flash, paged, redirect, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
COMPLAINANT_ACTIONS = ("confirm", "reopen")

# Labels the feedback domain sends (feedback.rules); listed so that they are translated.
LABELS = (
    _("非常满意"),
    _("满意"),
    _("基本满意"),
    _("不满意"),
    _("非常不满意"),
    _("整体满意度"),
    _("办事效率"),
    _("办事指南精确度"),
    _("办事便捷度"),
    _("平台操作性"),
    _("服务效率"),
    _("服务水平"),
    _("服务态度"),
    _("办事指南"),
    _("系统故障"),
    _("政策咨询"),
    _("其他"),
    _("投诉"),
    _("建议"),
    _("服务事项"),
    _("部门"),
    _("办件"),
    _("平台"),
    _("已提交"),
    _("已分派"),
    _("已响应"),
    _("已办结待确认"),
    _("已确认"),
    _("提交"),
    _("分派"),
    _("首次响应"),
    _("办理完毕"),
    _("确认满意"),
    _("逾期自动确认"),
    _("重新办理"),
    _("临期提醒"),
    _("超时升级"),
)


def duration(gettext: Gettext, seconds: int) -> str:
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return gettext("%(d)s 天 %(h)s 小时", d=days, h=hours)
    return gettext("%(h)s 小时 %(m)s 分钟", h=hours, m=mins)


def countdown_view(gettext: Gettext, countdown: Countdown) -> tuple[str, str]:
    """(CSS class, text) for one deadline; the colour never stands alone (design §4.9)."""
    if countdown.status == "met":
        return "clock-normal", gettext("按时完成")
    if countdown.status == "late":
        return "clock-overdue", gettext("超时完成")
    if countdown.seconds is None:
        return "clock-idle", "—"
    left = duration(gettext, countdown.seconds)
    if countdown.status == "overdue":
        return "clock-overdue", gettext("已超时 %(time)s", time=left)
    warn = countdown.seconds < get_settings().complaint_warning_hours * 3600
    return ("clock-warning" if warn else "clock-normal"), gettext("剩余 %(time)s", time=left)


def feedback_context(request: Request) -> dict[str, Any]:
    """Label tables and helpers the feedback templates share."""
    gettext = i18n.gettext_for(request)
    return {
        "countdown": lambda c: countdown_view(gettext, c),
        "level_labels": feedback_rules.LEVEL_LABELS,
        "categories": feedback_rules.CATEGORIES,
        "kinds": feedback_rules.COMPLAINT_KINDS,
        "target_kinds": feedback_rules.TARGET_KINDS,
        "online_indicators": feedback_rules.ONLINE_INDICATORS,
        "offline_indicators": feedback_rules.OFFLINE_INDICATORS,
        "feedback_states": {
            **{str(state): label for state, label in feedback_rules.COMPLAINT_STATE_LABELS.items()},
            **feedback_rules.FOLLOW_UP_STATE_LABELS,
        },
    }


def form_text(form: FormData, name: str, limit: int = 2000) -> str:
    return str(form.get(name) or "").strip()[:limit]


def rating_from_form(form: FormData, indicators: dict[str, str]) -> RatingCreate:
    """Level and the indicators the rater chose (an unset one is simply left out)."""
    chosen = {
        name: int(form_text(form, f"ind_{name}"))
        for name in indicators
        if form_text(form, f"ind_{name}").isdigit()
    }
    level = form_text(form, "level")
    return RatingCreate(
        level=int(level) if level.isdigit() else 0,
        indicators=chosen,
        comment=form_text(form, "comment", 500),
    )


def invalid_message(request: Request, error: DomainError | ValidationError | ValueError) -> str:
    if isinstance(error, DomainError):
        return error_message(request, error)
    return i18n.gettext_for(request)("请检查填写的内容。")


# --- 好差评 -----------------------------------------------------------------------------


@router.get("/my/cases/{case_no}/rate")
def rate_form(request: Request, case_no: str, session: SessionDep, actor: Applicant) -> Response:
    case = cases_service.get_case(session, actor=actor, case_no=case_no)
    try:
        rating = feedback_service.get_rating(session, actor=actor, case_no=case_no)
    except NotFound:
        rating = None
    context = {
        "actor": actor,
        "case": case,
        "rating": rating,
        "rateable": case.state in feedback_rules.RATEABLE_CASE_STATES,
        **feedback_context(request),
    }
    return render(request, "portal/rate.html", context)


@router.post("/my/cases/{case_no}/rate")
def rate(
    request: Request, case_no: str, session: SessionDep, actor: Applicant, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    back = redirect(f"/my/cases/{case_no}/rate")
    try:
        data = rating_from_form(form, feedback_rules.ONLINE_INDICATORS)
        feedback_service.rate_case(session, actor=actor, case_no=case_no, data=data)
    except (DomainError, ValidationError) as error:
        session.rollback()
        flash(request, invalid_message(request, error), "error")
        return back
    flash(request, gettext("感谢您的评价！"))
    return back


# --- 吐槽专区 ---------------------------------------------------------------------------


def _complaints_page(
    request: Request,
    session: SessionDep,
    actor: Actor | None,
    values: dict[str, str],
    *,
    page: int = 1,
    error: str = "",
    status: int = 200,
) -> Response:
    mine = None
    if actor is not None and actor.role == Role.APPLICANT:
        mine = feedback_service.list_complaints(session, actor=actor, page=page, size=PAGE_SIZE)
    targets = complaint_targets.choices(
        session, actor, item_query=values.get("item_q", ""), keep_item=values.get("item_ref", "")
    )
    context = {
        "actor": actor,
        "values": values,
        "mine": mine,
        "error": error,
        "targets": targets,
        **(paged(mine) if mine else {}),
        **feedback_context(request),
    }
    return render(request, "portal/complaints.html", context, status=status)


@router.get("/complaints")
def complaints_home(
    request: Request,
    session: SessionDep,
    actor: OptionalActor,
    target_kind: str = "platform",
    target_ref: str = "",
    item_q: str = "",
    page: int = 1,
) -> Response:
    kind = target_kind if target_kind in complaint_targets.TARGET_KINDS else "platform"
    values = {"target_kind": kind, f"{kind}_ref": target_ref[:64], "category": "efficiency"}
    if item_q:
        values |= {"target_kind": "item", "item_q": item_q[:40]}
    return _complaints_page(request, session, actor, values, page=max(page, 1))


COMPLAINT_FIELDS = ("kind", "category", "target_kind", "text", "contact_name", "contact_phone")
TARGET_FIELDS = ("item_ref", "department_ref", "case_ref", "target_ref", "item_q")


@router.post("/complaints")
def file_complaint(
    request: Request, session: SessionDep, actor: OptionalActor, form: CsrfForm
) -> Response:
    values = {name: form_text(form, name) for name in (*COMPLAINT_FIELDS, *TARGET_FIELDS)}
    if form.get("find"):  # 查找事项: show the narrowed list, keep everything typed so far
        values["target_kind"] = "item"
        return _complaints_page(request, session, actor, values)
    try:
        ref = complaint_targets.chosen_ref(values)
        data = ComplaintCreate.model_validate({**values, "target_ref": ref})
        filed = feedback_service.file_complaint(session, actor=actor, data=data)
    except (DomainError, ValidationError) as error:
        session.rollback()
        status = error.status if isinstance(error, DomainError) else 422
        message = invalid_message(request, error)
        return _complaints_page(request, session, actor, values, error=message, status=status)
    if actor is None:  # the query code is shown once, on this page, and never put in a URL
        context = {"actor": None, "complaint": filed, "code": filed.query_code, "just_filed": True}
        return render(request, "portal/complaint.html", {**context, **feedback_context(request)})
    gettext = i18n.gettext_for(request)
    flash(request, gettext("已收到您的诉求，编号 %(no)s。", no=filed.complaint_no))
    return redirect(f"/complaints/{filed.complaint_no}")


@router.get("/complaints/lookup")
def lookup_form(request: Request, actor: OptionalActor) -> Response:
    return render(request, "portal/complaint_lookup.html", {"actor": actor, "values": {}})


@router.post("/complaints/lookup")
def lookup(request: Request, session: SessionDep, actor: OptionalActor, form: CsrfForm) -> Response:
    values = {
        "complaint_no": form_text(form, "complaint_no", 40),
        "code": form_text(form, "code", 8),
    }
    try:
        found = feedback_service.get_complaint(
            session, actor=actor, complaint_no=values["complaint_no"], code=values["code"]
        )
    except DomainError as error:
        context = {"actor": actor, "values": values, "error": error_message(request, error)}
        return render(request, "portal/complaint_lookup.html", context, status=error.status)
    return _complaint_page(request, actor, found, values["code"])


def _complaint_page(request: Request, actor: Actor | None, complaint: Any, code: str) -> Response:
    context = {"actor": actor, "complaint": complaint, "code": code, **feedback_context(request)}
    return render(request, "portal/complaint.html", context)


@router.get("/complaints/{complaint_no}")
def complaint_page(
    request: Request, complaint_no: str, session: SessionDep, actor: OptionalActor
) -> Response:
    if actor is None:
        return redirect("/complaints/lookup")
    found = feedback_service.get_complaint(session, actor=actor, complaint_no=complaint_no)
    return _complaint_page(request, actor, found, "")


@router.post("/complaints/{complaint_no}/actions")
def complaint_action(
    request: Request, complaint_no: str, session: SessionDep, actor: OptionalActor, form: CsrfForm
) -> Response:
    """The complainant confirms the result or reopens the complaint."""
    gettext = i18n.gettext_for(request)
    code = form_text(form, "code", 8) or None
    name = form_text(form, "action", 16)
    try:
        if name not in COMPLAINANT_ACTIONS:
            raise ValueError(name)
        data = ComplaintActionIn(action=name, note=form_text(form, "note"))
        done = feedback_service.act(
            session, actor=actor, complaint_no=complaint_no, data=data, code=code
        )
    except (DomainError, ValidationError, ValueError) as error:
        session.rollback()
        flash(request, invalid_message(request, error), "error")
        if code:  # anonymous: show the page again without putting the code in an address
            found = feedback_service.get_complaint(
                session, actor=actor, complaint_no=complaint_no, code=code
            )
            return _complaint_page(request, actor, found, code)
        return redirect(f"/complaints/{complaint_no}")
    label = gettext(feedback_rules.COMPLAINT_ACTION_LABELS[name])
    flash(request, gettext("操作成功：%(action)s。", action=label))
    if code and actor is None:
        return _complaint_page(request, actor, done, code)
    return redirect(f"/complaints/{complaint_no}")
