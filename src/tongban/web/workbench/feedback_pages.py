"""Staff pages for feedback: complaints to handle, 差评 follow-ups, appeals, the rating pad."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tongban.access.rules import Role
from tongban.cases import service as cases_service
from tongban.deps import SessionDep
from tongban.errors import DomainError, NotFound
from tongban.feedback import rules as feedback_rules
from tongban.feedback import service as feedback_service
from tongban.feedback.schemas import (
    AppealDecisionIn,
    AppealIn,
    ComplaintActionIn,
    FollowUpActionIn,
)
from tongban.regions import service as regions_service
from tongban.web import i18n
from tongban.web.auth import CenterAdmin, Clerk, Handler
from tongban.web.csrf import CsrfForm
from tongban.web.i18n import _
from tongban.web.portal.feedback_pages import (
    feedback_context,
    form_text,
    invalid_message,
    rating_from_form,
)
from tongban.web.rendering import flash, paged, redirect, render

router = APIRouter(prefix="/workbench", include_in_schema=False)
PAGE_SIZE = 20
STAFF_ACTIONS = ("assign", "respond", "resolve")
FOLLOW_UP_ACTIONS = tuple(action for _state, action in feedback_rules.FOLLOW_UP_TRANSITIONS)

# Labels of the feedback domain (feedback.rules) shown on these pages, for translation.
LABELS = (
    _("待回访"),
    _("已回访"),
    _("已整改"),
    _("已说明"),
    _("已反馈评价人"),
    _("申诉成立，差评作废"),
    _("差评生成整改任务"),
    _("回访核实"),
    _("整改"),
    _("解释说明"),
    _("反馈评价人"),
    _("提出申诉"),
    _("申诉成立"),
    _("申诉不成立"),
    _("整改超期"),
    _("误评"),
    _("恶意差评"),
    _("线上"),
    _("线下"),
    _("待决定"),
)
CHANNELS = {"online": "线上", "offline": "线下"}
APPEAL_STATES = {"pending": "待决定", "upheld": "申诉成立", "rejected": "申诉不成立"}


def _after(
    request: Request, session: Session, target: str, work: Callable[[], object], done: str
) -> Response:
    """Run one form's use case; flash its outcome (or its error, rolled back) and go back."""
    try:
        work()
    except (DomainError, ValidationError, ValueError) as error:
        session.rollback()
        flash(request, invalid_message(request, error), "error")
        return redirect(target)
    flash(request, done)
    return redirect(target)


def _staff_context(request: Request) -> dict[str, object]:
    return {
        **feedback_context(request),
        "follow_up_actions": feedback_rules.FOLLOW_UP_ACTION_LABELS,
        "complaint_actions": feedback_rules.COMPLAINT_ACTION_LABELS,
        "appeal_reasons": feedback_rules.APPEAL_REASONS,
        "appeal_states": APPEAL_STATES,
        "channels": CHANNELS,
    }


# --- complaints -------------------------------------------------------------------------


@router.get("/complaints")
def complaints(
    request: Request, session: SessionDep, actor: Handler, page: int = 1, show: str = "open"
) -> Response:
    page = max(page, 1)
    found = feedback_service.list_complaints(
        session, actor=actor, page=page, size=PAGE_SIZE, open_only=show != "all"
    )
    context = {
        "actor": actor,
        "complaints": found,
        "show": show,
        # What the worker raised for me: deadlines coming up, and escalations.
        "alarms": feedback_service.alarms(session, actor=actor)[:ALARMS_SHOWN],
        "alarm_levels": feedback_rules.LEVEL_NAMES,
        "alarm_deadlines": ALARM_DEADLINES,
        **paged(found),
    }
    return render(request, "workbench/complaints.html", {**context, **_staff_context(request)})


ALARMS_SHOWN = 20
ALARM_DEADLINES = {"response": "首次响应", "result": "办理结果", "follow_up": "差评整改"}


@router.get("/complaints/{complaint_no}")
def complaint(request: Request, complaint_no: str, session: SessionDep, actor: Handler) -> Response:
    found = feedback_service.get_complaint(session, actor=actor, complaint_no=complaint_no)
    departments = []
    if "assign" in found.actions and actor.role == Role.ADMIN:
        departments = regions_service.list_departments(session, actor.region_code)
    context = {"actor": actor, "complaint": found, "departments": departments}
    return render(
        request, "workbench/complaints_detail.html", {**context, **_staff_context(request)}
    )


@router.post("/complaints/{complaint_no}/actions")
def complaint_action(
    request: Request, complaint_no: str, session: SessionDep, actor: Handler, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    name = form_text(form, "action", 16)

    def work() -> object:
        if name not in STAFF_ACTIONS:
            raise ValueError(name)
        data = ComplaintActionIn.model_validate(
            {
                "action": name,
                "note": form_text(form, "note"),
                "department_code": form_text(form, "department_code", 18) or None,
            }
        )
        return feedback_service.act(session, actor=actor, complaint_no=complaint_no, data=data)

    label = gettext(feedback_rules.COMPLAINT_ACTION_LABELS.get(name, name))
    done = gettext("操作成功：%(action)s。", action=label)
    return _after(request, session, f"/workbench/complaints/{complaint_no}", work, done)


# --- 差评 follow-ups and appeals ---------------------------------------------------------


@router.get("/follow-ups")
def follow_ups(
    request: Request, session: SessionDep, actor: Handler, show: str = "open"
) -> Response:
    found = feedback_service.follow_ups(session, actor=actor, open_only=show != "all")
    context = {"actor": actor, "ratings": found, "show": show}
    return render(request, "workbench/followups.html", {**context, **_staff_context(request)})


@router.post("/follow-ups/{follow_up_id}/actions")
def follow_up_action(
    request: Request, follow_up_id: int, session: SessionDep, actor: Handler, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    name = form_text(form, "action", 16)

    def work() -> object:
        data = FollowUpActionIn.model_validate({"action": name, "note": form_text(form, "note")})
        return feedback_service.act_on_follow_up(
            session, actor=actor, follow_up_id=follow_up_id, data=data
        )

    label = gettext(feedback_rules.FOLLOW_UP_ACTION_LABELS.get(name, name))
    done = gettext("操作成功：%(action)s。", action=label)
    return _after(request, session, "/workbench/follow-ups", work, done)


@router.post("/ratings/{rating_id}/appeal")
def appeal(
    request: Request, rating_id: int, session: SessionDep, actor: Handler, form: CsrfForm
) -> Response:
    def work() -> object:
        data = AppealIn.model_validate(
            {"reason_code": form_text(form, "reason_code", 16), "reason": form_text(form, "reason")}
        )
        return feedback_service.appeal(session, actor=actor, rating_id=rating_id, data=data)

    done = i18n.gettext_for(request)("申诉已提交，等待中心决定。")
    return _after(request, session, "/workbench/follow-ups", work, done)


@router.get("/appeals")
def appeals(request: Request, session: SessionDep, actor: CenterAdmin) -> Response:
    found = feedback_service.pending_appeals(session, actor=actor)
    context = {"actor": actor, "ratings": found}
    return render(request, "workbench/appeals.html", {**context, **_staff_context(request)})


@router.post("/ratings/{rating_id}/appeal/decision")
def decide_appeal(
    request: Request, rating_id: int, session: SessionDep, actor: CenterAdmin, form: CsrfForm
) -> Response:
    uphold = form_text(form, "uphold", 3) == "yes"

    def work() -> object:
        data = AppealDecisionIn(uphold=uphold, reason=form_text(form, "reason", 1000))
        return feedback_service.decide_appeal(session, actor=actor, rating_id=rating_id, data=data)

    gettext = i18n.gettext_for(request)
    decision = APPEAL_STATES["upheld" if uphold else "rejected"]
    done = gettext("已决定：%(decision)s。", decision=gettext(decision))
    return _after(request, session, "/workbench/appeals", work, done)


# --- the window's rating pad (offline 好差评) --------------------------------------------


@router.get("/cases/{case_no}/rating")
def rating_pad(request: Request, case_no: str, session: SessionDep, actor: Clerk) -> Response:
    facts = cases_service.get_case(session, actor=actor, case_no=case_no)
    try:
        rating = feedback_service.get_rating(session, actor=actor, case_no=case_no)
    except NotFound:
        rating = None
    context = {
        "actor": actor,
        "case": facts,
        "rating": rating,
        "rateable": facts.state in feedback_rules.RATEABLE_CASE_STATES,
    }
    return render(request, "workbench/rating_pad.html", {**context, **_staff_context(request)})


@router.post("/cases/{case_no}/rating")
def record_rating(
    request: Request, case_no: str, session: SessionDep, actor: Clerk, form: CsrfForm
) -> Response:
    def work() -> object:
        data = rating_from_form(form, feedback_rules.OFFLINE_INDICATORS)
        return feedback_service.rate_case(session, actor=actor, case_no=case_no, data=data)

    done = i18n.gettext_for(request)("已记录评价器评价。")
    return _after(request, session, f"/workbench/cases/{case_no}/rating", work, done)
