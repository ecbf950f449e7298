"""Horizontal bar charts for indicators, drawn as plain SVG (no script, prints in PDF).

Each bar shows this period (thick), the previous period (thin, lighter) and the
target (a vertical line). Shared by the half-year report and the admin dashboard:
the geometry is computed here once; ``svg`` draws it for the web pages, with the
value and a below-target mark as text so colour is never the only cue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup, escape

from tongban.insight.report import Report, Row

BAR_WIDTH = 320  # px of the longest bar
LABEL_WIDTH = 200  # px left of the bars for their labels
ROW_HEIGHT = 34
MISS_COLOUR, MEET_COLOUR, PREVIOUS_COLOUR = "#c0504d", "#2f6fad", "#b8c7d9"


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
class Entry:
    """What one bar stands for, before scaling."""

    label: str
    value: float | None
    previous: float | None
    target: float
    meets: bool | None


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    bars: list[Bar]
    height: int

    @property
    def dimension(self) -> str:  # the report's template names the title by its dimension
        return self.title


def figure(value: float | None) -> str:
    """A figure as printed: thousands separated, at most two decimals, a dash for none.

    The dash reads the same in Chinese and English pages and in the Chinese report; the
    page or report says in words what it means (无数据 / no data).
    """
    if value is None:
        return "—"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def chart(title: str, unit: str, entries: list[Entry]) -> Chart:
    """Bars on one scale: the longest of any value, previous value or target fills BAR_WIDTH."""
    top = max(
        [e.target for e in entries]
        + [e.value or 0.0 for e in entries]
        + [e.previous or 0.0 for e in entries],
        default=0.0,
    )
    factor = BAR_WIDTH / top if top > 0 else 0.0
    bars = [
        Bar(
            label=e.label,
            value=e.value,
            previous=e.previous,
            target=e.target,
            width=round((e.value or 0.0) * factor, 1),
            previous_width=round((e.previous or 0.0) * factor, 1),
            target_x=round(e.target * factor, 1),
            meets=e.meets,
        )
        for e in entries
    ]
    return Chart(title, unit, bars, ROW_HEIGHT * len(bars) + 10)


def indicator_charts(report: Report, name: Callable[[str], str] = str) -> list[Chart]:
    """One chart per dimension and unit (percentages are not drawn against days).

    ``name`` translates the dimension and indicator names (the web pages' gettext).
    """
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in report.rows:
        if row.indicator.formula != "not_recorded":
            groups.setdefault((row.indicator.dimension, row.indicator.unit), []).append(row)
    dimensions = {d.code: d.name for d in report.system.dimensions}
    return [
        chart(
            name(dimensions[dimension]),
            unit,
            [
                Entry(
                    f"{r.indicator.code} {name(r.indicator.name)}",
                    r.value,
                    r.previous,
                    r.indicator.target,
                    r.meets,
                )
                for r in rows
            ],
        )
        for (dimension, unit), rows in groups.items()
    ]


def svg(chart: Chart, gettext: Callable[..., str]) -> Markup:
    """The chart as inline SVG; each bar carries a <title> with its figures in words."""
    width = LABEL_WIDTH + BAR_WIDTH + 100
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {chart.height}" '
        f'class="bar-chart" role="img" aria-label="{escape(chart.title)}">'
    ]
    for index, bar in enumerate(chart.bars):
        parts.append(_bar(bar, index * ROW_HEIGHT + 4, gettext))
    parts.append("</svg>")
    return Markup("".join(parts))


def _bar(bar: Bar, y: int, gettext: Callable[..., str]) -> str:
    missed = bar.meets is False
    said = gettext(
        "本期 %(value)s，上期 %(previous)s，目标 %(target)s",
        value=figure(bar.value),
        previous=figure(bar.previous),
        target=figure(bar.target),
    )
    if missed:
        said += gettext("（未达标）")
    x_target = LABEL_WIDTH + bar.target_x
    value_x = LABEL_WIDTH + max(bar.width, bar.target_x) + 6
    mark = " ✗" if missed else ""
    return (
        f"<g><title>{escape(bar.label)}: {escape(said)}</title>"
        f'<text x="0" y="{y + 15}" font-size="11">{escape(_shorten(bar.label))}</text>'
        f'<rect x="{LABEL_WIDTH}" y="{y + 2}" width="{bar.width}" height="13" '
        f'fill="{MISS_COLOUR if missed else MEET_COLOUR}"/>'
        f'<rect x="{LABEL_WIDTH}" y="{y + 17}" width="{bar.previous_width}" height="8" '
        f'fill="{PREVIOUS_COLOUR}"/>'
        f'<line x1="{x_target}" x2="{x_target}" y1="{y}" y2="{y + 28}" '
        f'stroke="#222" stroke-width="1.5"/>'
        f'<text x="{value_x}" y="{y + 14}" font-size="11">{figure(bar.value)}{mark}</text></g>'
    )


def _shorten(label: str, room: float = LABEL_WIDTH - 8) -> str:
    """Long labels are cut to fit on the drawing; the full text is in the bar's <title>.
    A CJK character takes about the font size, a Latin one a bit over half of it."""
    used = 0.0
    for index, char in enumerate(label):
        used += 11 if ord(char) > 0x2E80 else 6.2
        if used > room:
            return label[: max(index - 1, 0)] + "…"
    return label
