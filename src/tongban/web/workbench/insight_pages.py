"""堵点分析 for the center admin: ranked bottlenecks and an item's process map (SVG, no JS)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from tongban.cases.rules import ACTION_LABELS
from tongban.catalog import service as catalog_service
from tongban.deps import SessionDep
from tongban.errors import DomainError
from tongban.insight import service as insight_service
from tongban.insight.schemas import Edge, ProcessMap
from tongban.regions import service as regions_service
from tongban.web import i18n
from tongban.web.auth import CenterAdmin
from tongban.web.i18n import Gettext, _
from tongban.web.rendering import error_message, render

router = APIRouter(prefix="/workbench", include_in_schema=False)
MAP_EDGES = 40  # the most frequent edges drawn; the table below lists them all
OFFICE_LABELS = {"window": "综合窗口", None: "申请人"}
LABELS = (_("综合窗口"), _("申请人"), _("%(n)s 次，中位 %(h)s 小时"))


@dataclass
class Names:
    """Item and department names for codes, looked up once per page."""

    session: Session
    cache: dict[str, str]

    def item(self, code: str) -> str:
        if code not in self.cache:
            self.cache[code] = self._lookup_item(code)
        return self.cache[code]

    def _lookup_item(self, code: str) -> str:
        try:
            return catalog_service.get_item(self.session, code=code).name
        except DomainError:
            pass
        try:
            return catalog_service.get_bundle(self.session, code=code).name
        except DomainError:
            return code

    def office(self, code: str | None, gettext: Gettext) -> str:
        if code in OFFICE_LABELS:
            return gettext(OFFICE_LABELS[code])
        key = f"dept:{code}"
        if key not in self.cache:
            try:
                self.cache[key] = regions_service.get_department(self.session, code or "").name
            except DomainError:
                self.cache[key] = code or ""
        return self.cache[key]


def _action_labeller(gettext: Gettext) -> Callable[[str], str]:
    return lambda action: gettext(ACTION_LABELS.get(action, action))


def _node_order(graph: ProcessMap) -> list[str]:
    """Activities in the order a typical case meets them: breadth-first from the starts,
    following the most frequent edges first."""
    nodes = {e.source for e in graph.edges} | {e.target for e in graph.edges} | set(graph.starts)
    outgoing: dict[str, list[Edge]] = {}
    for edge in sorted(graph.edges, key=lambda e: -e.n):
        outgoing.setdefault(edge.source, []).append(edge)
    order: list[str] = []
    queue = sorted(graph.starts, key=lambda a: -graph.starts[a])
    while queue or len(order) < len(nodes):
        if not queue:  # a part not reached from a start (should not happen; keep it visible)
            queue = [sorted(nodes - set(order))[0]]
        node = queue.pop(0)
        if node in order:
            continue
        order.append(node)
        queue.extend(e.target for e in outgoing.get(node, []) if e.target not in order)
    return order


def process_svg(graph: ProcessMap, gettext: Gettext) -> Markup:
    """An arc diagram: activities top to bottom, forward edges arc on the right, loops
    back on the left; width grows with frequency; each edge is labelled n · median h."""
    node_label = _action_labeller(gettext)
    order = _node_order(graph)
    if not order:
        return Markup("")
    row, box_w, box_x = 56, 200, 260
    y = {node: 30 + i * row for i, node in enumerate(order)}
    height = 30 + len(order) * row
    top = max((e.n for e in graph.edges), default=1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 720 {height}" '
        f'class="process-map" role="img" aria-labelledby="map-title">'
        f'<title id="map-title">{escape(gettext("流程图"))}</title>'
    ]
    for edge in sorted(graph.edges, key=lambda e: -e.n)[:MAP_EDGES]:
        y1, y2 = y[edge.source] + 8, y[edge.target] + 8
        forward = y2 > y1
        x = box_x + box_w if forward else box_x
        bend = (40 + abs(y2 - y1) * 0.35) * (1 if forward else -1)
        width = 1 + 5 * math.log1p(edge.n) / math.log1p(top)
        mid_y = (y1 + y2) / 2
        text_x = x + bend * 0.78 + (4 if forward else -4)
        anchor = "start" if forward else "end"
        hours = f"{edge.median_h:.1f}"
        edge_label = gettext("%(n)s 次 · %(h)s 小时", n=edge.n, h=hours)
        parts.append(
            f'<path d="M{x},{y1} C{x + bend:.0f},{y1} {x + bend:.0f},{y2} {x},{y2}" '
            f'fill="none" stroke="#5470a0" stroke-opacity="0.7" stroke-width="{width:.1f}">'
            f"<title>{escape(gettext('%(n)s 次，中位 %(h)s 小时', n=edge.n, h=edge.median_h))}"
            f"</title></path>"
            f'<text x="{text_x:.0f}" y="{mid_y:.0f}" font-size="11" text-anchor="{anchor}" '
            f'fill="#333">{escape(edge_label)}</text>'
        )
    for node in order:
        starts, ends = graph.starts.get(node, 0), graph.ends.get(node, 0)
        stroke = "#2a7a3b" if starts else ("#8a1c1c" if ends else "#555")
        parts.append(
            f'<rect x="{box_x}" y="{y[node] - 6}" width="{box_w}" height="28" rx="4" '
            f'fill="#fff" stroke="{stroke}"/>'
            f'<text x="{box_x + box_w / 2}" y="{y[node] + 12}" font-size="13" '
            f'text-anchor="middle">{escape(node_label(node))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@router.get("/bottlenecks")
def bottlenecks(
    request: Request,
    session: SessionDep,
    actor: CenterAdmin,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    item: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    gettext = i18n.gettext_for(request)
    names = Names(session, {})
    context: dict[str, object] = {"actor": actor, "item": item, "names": names}
    try:
        report = insight_service.bottleneck_report(
            session, actor=actor, date_from=date_from, date_to=date_to
        )
        graph = None
        if item:
            graph = insight_service.process_map(
                session,
                actor=actor,
                date_from=report.date_from,
                date_to=report.date_to,
                item_code=item,
            )
    except DomainError as error:
        context["error"] = error_message(request, error)
        return render(request, "workbench/bottlenecks.html", context, status=error.status)

    context.update(
        report=report,
        graph=graph,
        svg=process_svg(graph, gettext) if graph else None,
        action_label=_action_labeller(gettext),
        office=lambda code: names.office(code, gettext),
        items=sorted({r.item for r in report.deadlines} | {r.item for r in report.rework}),
    )
    return render(request, "workbench/bottlenecks.html", context)
