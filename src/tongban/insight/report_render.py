"""The half-year report as a document: HTML with server-rendered SVG bar charts, and
PDF printed from that same HTML by WeasyPrint (Chinese through fontconfig's Noto CJK).

The report is a Chinese document for the government's own files, so its text is
written in Chinese in the template rather than through the web pages' gettext.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from tongban.insight.charts import figure, indicator_charts
from tongban.insight.report import Report
from tongban.kit.clock import beijing_text

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates" / "report"


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
    )
    environment.filters["figure"] = figure
    environment.filters["dt"] = beijing_text
    return environment


def render_html(report: Report) -> str:
    template = _environment().get_template("halfyear.html")
    dimensions = {d.code: d.name for d in report.system.dimensions}
    return template.render(report=report, charts=indicator_charts(report), dimensions=dimensions)


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
