"""The auditor's pages: misuse alerts, an account's access history, the log's integrity."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tongban.access.rules import ROLE_LABELS_ZH
from tongban.audit import rules as audit_rules
from tongban.audit import service as audit_service
from tongban.audit import verify as audit_verify
from tongban.deps import SessionDep
from tongban.errors import DomainError
from tongban.web import i18n
from tongban.web.auth import Auditor
from tongban.web.csrf import CsrfForm
from tongban.web.i18n import _
from tongban.web.rendering import error_message, flash, paged, redirect, render

router = APIRouter(prefix="/audit", include_in_schema=False)
PAGE_SIZE = 20
HISTORY_PAGE_SIZE = 50
STATUS_FILTERS = ("open", "acknowledged", "closed", "all")
SEVERITY_CLASSES = {"high": "clock-overdue", "medium": "clock-warning", "low": "clock-idle"}

# Labels the audit domain sends (audit.rules); listed so that they are translated.
LABELS = (
    _("批量读取"),
    _("读取无关记录"),
    _("非工作时间读取"),
    _("频繁查看明文"),
    _("偏离个人基线"),
    _("高"),
    _("中"),
    _("低"),
    _("待处理"),
    _("已确认"),
    _("已关闭"),
    _("全部"),
    _("查看"),
    _("查看明文"),
    _("下载材料"),
    _("导出"),
    _("共享核验"),
    _("办理业务"),
    _("本人查看"),
    _("办件进度查询"),
    _("数据导出"),
    _("部门间数据共享核验"),
    _("安全审计"),
    _("安全审计员"),
    _("政务服务中心"),
    _("申请人"),
    _("窗口人员"),
    _("部门审批人员"),
    _("中心管理员"),
    _("申请表填写的内容"),
    _("事项管理"),
    _("数据共享管理"),
    _("诉求与评价办理"),
    _("账号管理"),
    _("工作日历维护"),
    _("处理访问告警"),
    _("密钥管理"),
    _("数据共享授权"),
    _("校验访问日志"),
    _("办件"),
    _("办件清单"),
    _("申请材料"),
    _("文书"),
    _("诉求"),
    _("整改"),
    _("评价"),
    _("账号"),
    _("服务事项"),
    _("工作日历"),
    _("密钥"),
    _("消息"),
    _("数据共享核验"),
    _("数据提供方"),
    _("共享授权"),
    _("互信节点"),
    _("访问告警"),
    _("访问日志"),
    _("账号访问记录"),
    _("成功"),
    _("被拒绝"),
    _("已拒绝"),
    _("数据源不可用"),
    _("其他操作"),
    _("其他对象"),
    _("其他结果"),
    _("共享核验结果"),
)


@router.get("")
def audit_home(actor: Auditor) -> Response:
    return redirect("/audit/alerts")


@router.get("/alerts")
def alerts_page(
    request: Request, session: SessionDep, actor: Auditor, status: str = "open", page: int = 1
) -> Response:
    status = status if status in STATUS_FILTERS else "open"
    page = max(page, 1)
    found = audit_service.alerts(
        session, status=None if status == "all" else status, page=page, size=PAGE_SIZE
    )
    context = {
        "actor": actor,
        "alerts": found,
        "status": status,
        "filters": STATUS_FILTERS,
        "rule_labels": audit_rules.RULE_LABELS_ZH,
        "severity_labels": audit_rules.SEVERITY_LABELS_ZH,
        "severity_classes": SEVERITY_CLASSES,
        "status_labels": {**audit_rules.STATUS_LABELS_ZH, "all": "全部"},
        "moves": audit_rules.STATUS_MOVES,
        **paged(found),
    }
    return render(request, "auditor/alerts.html", context)


@router.post("/alerts/{alert_id}")
def change_alert(
    request: Request, alert_id: int, session: SessionDep, actor: Auditor, form: CsrfForm
) -> Response:
    gettext = i18n.gettext_for(request)
    back = str(form.get("back") or "open")
    target = "/audit/alerts?" + urlencode({"status": back if back in STATUS_FILTERS else "open"})
    try:
        changed = audit_service.set_alert_status(
            session,
            actor=actor,
            alert_id=alert_id,
            status=str(form.get("status") or ""),
            note=str(form.get("note") or ""),
        )
    except DomainError as error:
        flash(request, error_message(request, error), "error")
        return redirect(target)
    label = gettext(audit_rules.STATUS_LABELS_ZH[changed.status])
    flash(request, gettext("告警 #%(id)s 已改为“%(status)s”。", id=changed.id, status=label))
    return redirect(target)


@router.get("/accounts")
def find_account(request: Request, actor: Auditor, username: str = "") -> Response:
    username = username.strip()
    if username:
        return redirect(f"/audit/accounts/{quote(username, safe='')}")
    return render(request, "auditor/account.html", {"actor": actor, "history": None})


@router.get("/accounts/{username}")
def account_page(
    request: Request, username: str, session: SessionDep, actor: Auditor, page: int = 1
) -> Response:
    page = max(page, 1)
    history = audit_service.account_history(
        session, actor=actor, username=username, page=page, size=HISTORY_PAGE_SIZE
    )
    context = {
        "actor": actor,
        "history": history,
        "action_label": audit_rules.action_label,
        "subject_label": audit_rules.subject_kind_label,
        "result_label": audit_rules.result_label,
        "field_labels": audit_service.field_labels,
        "role_labels": {role.value: label for role, label in ROLE_LABELS_ZH.items()},
        "purpose_label": audit_service.purpose_label,
        **paged(history),
    }
    return render(request, "auditor/account.html", context)


@router.get("/status")
def status_page(request: Request, session: SessionDep, actor: Auditor) -> Response:
    context = {"actor": actor, "status": audit_service.audit_status(session)}
    return render(request, "auditor/status.html", context)


@router.post("/verify")
def verify_now(request: Request, session: SessionDep, actor: Auditor, form: CsrfForm) -> Response:
    """立即核验: check the whole log and its checkpoints now; the run is stored and shown.

    It runs in this request's transaction, so it sees one consistent log (on SQLite it
    also holds appends back while it runs — seconds for a county's log).
    """
    gettext = i18n.gettext_for(request)
    report = audit_verify.verify(session)
    audit_service.record(
        session,
        actor=actor,
        access=audit_service.Access(
            action="verify", subject_kind="audit_log", purpose_code="audit", result="ok"
        ),
    )
    if report.ok:
        flash(request, gettext("核验通过：%(n)s 条日志完整，签名检查点一致。", n=report.tree_size))
    else:
        problem = report.problem if request.state.locale == "en" else report.problem_zh
        flash(request, gettext("核验未通过：%(problem)s", problem=problem), "error")
    return redirect("/audit/status")
