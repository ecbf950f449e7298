"""指标看板 for the center admin: the 20 indicators of a period against their targets and
the previous period, bar charts as inline SVG, filters as a plain GET form (no JS),
and the half-year report for the same filters as HTML or PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.deps import SessionDep
from tongban.errors import DomainError, Invalid
from tongban.insight import charts, indicators, report, report_render
from tongban.insight import service as insight_service
from tongban.regions import service as regions_service
from tongban.web import i18n
from tongban.web.auth import CenterAdmin
from tongban.web.i18n import Gettext, _
from tongban.web.rendering import error_message, render

router = APIRouter(prefix="/workbench", include_in_schema=False)
DEFAULT_INDICATOR = "E2"  # 按时办结率: the figure the center is held to first
FromDate = Annotated[date | None, Query(alias="from")]
ToDate = Annotated[date | None, Query(alias="to")]
DepartmentCode = Annotated[str, Query(max_length=64)]
# The indicator system is data (indicators.toml); its names are listed here for the
# translators. tests/web/test_dashboard_page.py checks that every name is covered.
SYSTEM_LABELS = (
    *(_("服务效率"), _("办事便利度"), _("数据共享"), _("群众满意度"), _("诉求响应")),
    *(_("普惠包容"), _("平均办结用时"), _("按时办结率"), _("即办件占比")),
    *(_("承诺时限压缩率"), _("网上申请率"), _("零跑动率"), _("全程网办率")),
    *(_("平均跑动次数"), _("免提交材料占比"), _("跨部门数据调用"), _("共享核验通过率")),
    *(_("好差评满意度指数"), _("差评率"), _("差评整改按期率"), _("评价覆盖率")),
    *(_("投诉24小时响应率"), _("投诉3个工作日办结率"), _("帮办代办占比")),
    *(_("适老化模式使用率"), _("乡镇就近办理占比"), _("工作日"), _("次/件"), _("分")),
    _("平台尚未记录适老化（长辈）模式的使用，暂不计算。"),
)


@dataclass(frozen=True)
class Filters:
    date_from: date
    date_to: date
    department: str
    indicator: str

    def query(self) -> str:
        department = f"&department={self.department}" if self.department else ""
        return f"from={self.date_from}&to={self.date_to}{department}"


@dataclass(frozen=True)
class Change:
    """A change against the previous period in words, with an arrow that is not colour."""

    arrow: str
    text: str
    css: str


def _change(row: report.Row, gettext: Gettext) -> Change:
    if row.change is None:
        return Change("—", gettext("无可比数据"), "muted")
    if row.change == 0:
        return Change("＝", gettext("持平"), "muted")
    arrow = "▲" if row.change > 0 else "▼"
    figure = f"{row.change:+,.2f}".rstrip("0").rstrip(".")
    if row.improved:
        return Change(arrow, gettext("%(figure)s，改善", figure=figure), "ok")
    return Change(arrow, gettext("%(figure)s，变差", figure=figure), "miss")


def _filters(
    date_from: date | None,
    date_to: date | None,
    department: str,
    indicator: str,
    departments: dict[str, str],
) -> Filters:
    first, last = insight_service.period(date_from, date_to)
    if department and department not in departments:
        raise Invalid(
            "unknown_department",
            "所选部门不在本辖区。",
            "The chosen department is not in this region.",
            details={"department": department},
        )
    codes = {i.code for i in indicators.load().indicators}
    if indicator and indicator not in codes:
        raise Invalid(
            "unknown_indicator",
            "没有这个指标。",
            "There is no such indicator.",
            details={"indicator": indicator},
        )
    return Filters(first, last, department, indicator or DEFAULT_INDICATOR)


def _departments(session: Session, actor: Actor) -> dict[str, str]:
    listed = regions_service.list_departments(session, region_code=actor.region_code)
    return {d.code: d.name for d in listed}


def _build(session: Session, actor: Actor, filters: Filters) -> report.Report:
    return report.build(
        session,
        actor=actor,
        date_from=filters.date_from,
        date_to=filters.date_to,
        department_code=filters.department or None,
    )


def department_chart(
    session: Session, actor: Actor, built: report.Report, code: str, gettext: Gettext
) -> charts.Chart:
    """One indicator per department: this period against the previous one of equal length."""
    indicator = next(i for i in built.system.indicators if i.code == code)
    previous, _names = report.tables(
        session,
        actor=actor,
        first=built.previous_from,
        last=built.previous_to,
        department_code=built.department_code,
    )
    before = indicators.compute(built.system, previous, by="department")
    entries = [
        charts.Entry(
            built.department_names.get(department, department),
            values.get(code),
            indicators.values(before, department).get(code),
            indicator.target,
            indicator.meets(values.get(code)),
        )
        for department, values in sorted(built.by_department.items())
    ]
    title = f"{indicator.code} {gettext(indicator.name)}"
    return charts.chart(title, gettext(indicator.unit), entries)


@router.get("/dashboard")
def dashboard(
    request: Request,
    session: SessionDep,
    actor: CenterAdmin,
    date_from: FromDate = None,
    date_to: ToDate = None,
    department: DepartmentCode = "",
    indicator: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    gettext = i18n.gettext_for(request)
    departments = _departments(session, actor)
    context: dict[str, object] = {
        "actor": actor,
        "departments": departments,
        "department": department,
        "indicator": indicator,
        "date_from": date_from,
        "date_to": date_to,
    }
    try:
        filters = _filters(date_from, date_to, department, indicator, departments)
        built = _build(session, actor, filters)
    except DomainError as error:
        context["error"] = error_message(request, error)
        return render(request, "workbench/dashboard.html", context, status=error.status)
    by_department = department_chart(session, actor, built, filters.indicator, gettext)
    context.update(
        filters=filters,
        indicator=filters.indicator,
        report=built,
        dimensions=[
            (d, [r for r in built.rows if r.indicator.dimension == d.code])
            for d in built.system.dimensions
        ],
        change=lambda row: _change(row, gettext),
        figure=charts.figure,
        charts=[(c, _svg(c, gettext)) for c in charts.indicator_charts(built, gettext)],
        department_chart=(by_department, _svg(by_department, gettext)),
    )
    return render(request, "workbench/dashboard.html", context)


def _svg(chart: charts.Chart, gettext: Gettext) -> Markup:
    return charts.svg(chart, gettext)


@router.get("/dashboard/report.{suffix}")
def dashboard_report(
    request: Request,
    session: SessionDep,
    actor: CenterAdmin,
    suffix: str,
    date_from: FromDate = None,
    date_to: ToDate = None,
    department: DepartmentCode = "",
) -> Response:
    """The half-year report (a Chinese document, like the CLI's) for the page's filters."""
    departments = _departments(session, actor)
    filters = _filters(date_from, date_to, department, "", departments)
    if suffix not in ("html", "pdf"):
        raise Invalid("unknown_format", "报告格式须为 html 或 pdf。", "The report is html or pdf.")
    built = _build(session, actor, filters)
    name = f"report-{filters.date_from}-{filters.date_to}.{suffix}"
    if suffix == "html":
        return HTMLResponse(report_render.render_html(built))
    return Response(
        report_render.render_pdf(built),
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
