"""我的消息 (in-site messages, for every signed-in user), the header's unread count, and
the demo SMS gateway's page (only while TONGBAN_SMS_GATEWAY=demo)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tongban.access.dependencies import OptionalActor
from tongban.access.rules import Actor
from tongban.config import get_settings
from tongban.deps import SessionDep
from tongban.errors import DomainError, NotFound
from tongban.notify import service as notify_service
from tongban.notify import unread
from tongban.web import i18n
from tongban.web.auth import SignedIn
from tongban.web.csrf import CsrfForm
from tongban.web.i18n import _
from tongban.web.rendering import env, error_message, flash, paged, redirect, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
DEMO_SMS_SHOWN = 50

# The texts of notify/templates.toml, marked here so that `pybabel extract` finds them
# (tests/notify/test_texts.py checks that the two lists agree).
MESSAGE_TEXTS = (
    _("此邮件由通办系统自动发送，请勿直接回复。"),
    _("请登录通办，在“我的办件”中查看详情。"),
    _("可在通办“办件查询”页面凭办件编号和查询码 %(query_code)s 查看进度。"),
    _("请登录通办，在“吐槽专区”中查看。"),
    _("可在通办“吐槽专区”凭诉求编号和查询码查看。"),
    _("请登录通办工作台及时办理。"),
    _("注册通办账号"),
    _("重置通办账号密码"),
    _("验证手机号码"),
    _("登录通办"),
    _("窗口领取"),
    _("邮寄送达"),
    _("电子送达"),
    _("首次响应时限"),
    _("办理结果时限"),
    _("验证码"),
    _(
        "验证码 %(code)s，用于%(purpose_label)s，%(minutes)s 分钟内有效。"
        "请勿告诉他人；如非本人操作，请忽略。"
    ),
    _("办件已受理"),
    _("您申请的“%(title)s”（办件编号 %(case_no)s）已受理。"),
    _("办件不予受理"),
    _("您申请的“%(title)s”（办件编号 %(case_no)s）不予受理，理由见不予受理通知书。"),
    _("需要补正材料"),
    _("您申请的“%(title)s”（办件编号 %(case_no)s）需要补正：%(missing)s。请一次性补齐后提交。"),
    _("办件已作出准予决定"),
    _("您申请的“%(title)s”（办件编号 %(case_no)s）经审查，已作出准予决定。"),
    _("办件已作出不予许可决定"),
    _("您申请的“%(title)s”（办件编号 %(case_no)s）经审查，决定不予许可，理由见决定书。"),
    _("办件已办结"),
    _("您申请的“%(title)s”（办件编号 %(case_no)s）已办结，办理结果将按您选择的方式送达。"),
    _("决定书可下载"),
    _("您申请的“%(title)s”（办件编号 %(case_no)s）已办结，电子决定书已可下载。"),
    _("办理结果已送达"),
    _("您申请的“%(title)s”（办件编号 %(case_no)s）的办理结果已送达（%(method_label)s）。"),
    _("电子送达完成"),
    _("您已下载“%(title)s”（办件编号 %(case_no)s）的电子决定书，电子送达完成。"),
    _("诉求已答复"),
    _("您提交的诉求（编号 %(complaint_no)s，关于“%(target)s”）已有答复。"),
    _("诉求已办结"),
    _(
        "您提交的诉求（编号 %(complaint_no)s，关于“%(target)s”）已办理完毕，请查看结果并确认；"
        "如不满意，可申请重新办理。"
    ),
    _("办件即将到期"),
    _("办件 %(case_no)s（%(title)s）将于 %(deadline)s 到达承诺时限。"),
    _("办件已超期"),
    _("办件 %(case_no)s（%(title)s）已超过承诺时限（%(deadline)s）。"),
    _("诉求即将超时"),
    _("诉求 %(complaint_no)s 的%(deadline_label)s将于 %(due)s 到期。"),
    _("诉求已超时"),
    _("诉求 %(complaint_no)s 的%(deadline_label)s（%(due)s）已过，已升级至部门负责人督办。"),
    _("诉求超时，中心督办"),
    _("诉求 %(complaint_no)s 的%(deadline_label)s（%(due)s）已过，已升级至政务服务中心督办。"),
)


def unread_messages(request: Request, actor: Actor | None) -> int | None:
    """base.html's badge next to 我的消息 (see notify/unread.py for why a side read)."""
    if actor is None:
        return None
    return unread.unread_count(request.app.state.database_url, actor.user_id)


env.globals["unread_messages"] = unread_messages


@router.get("/my/messages")
def my_messages(
    request: Request, session: SessionDep, actor: SignedIn, page: int = 1, unread_only: bool = False
) -> Response:
    page = min(max(page, 1), 100_000)
    messages = notify_service.my_messages(
        session,
        actor=actor,
        page=page,
        size=PAGE_SIZE,
        unread_only=unread_only,
        gettext=i18n.gettext_for(request),
    )
    context: dict[str, Any] = {
        "actor": actor,
        "messages": messages,
        "unread_only": unread_only,
        **paged(messages),
    }
    return render(request, "portal/messages.html", context)


def _back(form: Any) -> Response:
    page = str(form.get("page") or "1")
    query = f"?page={page}" if page.isdigit() and page != "1" else ""
    return redirect(f"/my/messages{query}")


@router.post("/my/messages/{message_id}/read")
def mark_read(
    request: Request, message_id: int, session: SessionDep, actor: SignedIn, form: CsrfForm
) -> Response:
    try:
        if not 1 <= message_id < 2**31:
            raise NotFound("message_not_found", "消息不存在。", "Message not found.")
        notify_service.mark_read(session, actor=actor, message_id=message_id)
    except DomainError as error:
        flash(request, error_message(request, error), "error")
    return _back(form)


@router.post("/my/messages/read-all")
def mark_all_read(
    request: Request, session: SessionDep, actor: SignedIn, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    count = notify_service.mark_all_read(session, actor=actor)
    flash(request, gettext("已将 %(n)s 条消息标为已读。", n=count))
    return _back(form)


@router.get("/demo/sms")
def demo_sms(request: Request, session: SessionDep, actor: OptionalActor) -> Response:
    """What the demo SMS gateway would have sent: public, because a visitor signing up has
    no account yet — and therefore served only while TONGBAN_SMS_GATEWAY=demo (404 else)."""
    if get_settings().sms_gateway != "demo":
        raise NotFound("not_found", "页面或资源不存在。", "Not found.")
    messages = notify_service.demo_sms(session, limit=DEMO_SMS_SHOWN)
    return render(request, "demo_sms.html", {"actor": actor, "messages": messages})
