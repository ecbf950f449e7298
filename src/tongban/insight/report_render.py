"""The half-year report as a document: HTML with server-rendered SVG bar charts, and
PDF printed from that same HTML by WeasyPrint (Chinese through fontconfig's Noto CJK).

The report is a Chinese document for the government's own files, so its text is
written in Chinese in the template rather than through the web pages' gettext.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from tongban.insight.report import Report, Row

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates" / "report"
BAR_WIDTH = 320  # px of the longest bar


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    previous: float | None
    target: float
    width: float
    previous_width: float
    target_x: float
    meets: bool | None


@dataclass(frozen=True)
class Chart:
    dimension: str
    unit: str
    bars: list[Bar]
    height: int


def _scale(rows: list[Row]) -> float:
    top = max(
        [r.indicator.target for r in rows]
        + [r.value or 0.0 for r in rows]
        + [r.previous or 0.0 for r in rows]
    )
    return BAR_WIDTH / top if top > 0 else 0.0


def charts(report: Report) -> list[Chart]:
    """One bar chart per dimension and unit (percentages are not drawn against days)."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in report.rows:
        if row.indicator.formula != "not_recorded":
            groups.setdefault((row.indicator.dimension, row.indicator.unit), []).append(row)
    names = {d.code: d.name for d in report.system.dimensions}
    result = []
    for (dimension, unit), rows in groups.items():
        factor = _scale(rows)
        bars = [
            Bar(
                label=f"{r.indicator.code} {r.indicator.name}",
                value=r.value,
                previous=r.previous,
                target=r.indicator.target,
                width=round((r.value or 0.0) * factor, 1),
                previous_width=round((r.previous or 0.0) * factor, 1),
                target_x=round(r.indicator.target * factor, 1),
                meets=r.meets,
            )
            for r in rows
        ]
        result.append(Chart(names[dimension], unit, bars, 34 * len(bars) + 10))
    return result


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
    )
    environment.filters["figure"] = _figure
    return environment


def _figure(value: float | None) -> str:
    if value is None:
        return "n.a."
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def render_html(report: Report) -> str:
    template = _environment().get_template("halfyear.html")
    dimensions = {d.code: d.name for d in report.system.dimensions}
    return template.render(report=report, charts=charts(report), dimensions=dimensions)


def render_pdf(report: Report) -> bytes:
    from weasyprint import HTML  # imported here: only the PDF needs pango and cairo

    pdf: bytes = HTML(string=render_html(report)).write_pdf()
    return pdf


def write(report: Report, path: Path) -> None:
    """Write the report as PDF or HTML by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        path.write_bytes(render_pdf(report))
    elif suffix in (".html", ".htm"):
        path.write_text(render_html(report), encoding="utf-8")
    else:
        raise ValueError("the report file must end in .pdf or .html")
