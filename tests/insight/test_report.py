"""The half-year report over real cases (SQLite and PostgreSQL): figures, HTML and PDF."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pypdfium2
import pytest
from sqlalchemy.orm import Session

from support import act, applicant, clerk, item_named, make_user, reviewer_for, submit
from tongban.errors import DomainError
from tongban.insight import report, report_render
from tongban.kit.clock import frozen

MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
PERIOD = {"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)}


def _cases(session: Session) -> None:
    """One online application decided in 2 working days; one at the window left accepted."""
    item = item_named(session, "最低生活保障")
    window, reviewer = clerk(session), reviewer_for(session, item.department_code)
    with frozen(MONDAY):
        online = submit(session, applicant(session, sequence=31), item_code=item.code)
        at_window = submit(session, window, item_code=item.code)
    with frozen(MONDAY + timedelta(hours=1)):
        online = act(session, window, online, "accept")
        act(session, window, at_window, "accept")
    with frozen(MONDAY + timedelta(days=2)):
        online = act(session, reviewer, online, "approve_task", task_id=online.tasks[0].id)
        online = act(session, reviewer, online, "decide", decision="approve")
        act(session, window, online, "close")


def _report(session: Session) -> report.Report:
    admin = make_user(session, "admin", region_code="640425")
    with frozen(MONDAY + timedelta(days=40)):
        return report.build(session, actor=admin, **PERIOD)


def test_the_report_computes_the_indicators_from_the_cases(demo_session: Session) -> None:
    _cases(demo_session)
    built = _report(demo_session)
    figures = {row.indicator.code: row for row in built.rows}
    assert (built.cases, built.previous_cases) == (2, 0)
    assert (built.previous_from, built.previous_to) == (date(2026, 1, 29), date(2026, 2, 28))
    assert figures["C1"].value == 50.0 and figures["I1"].value == 50.0
    assert figures["E1"].value == 2.0 and figures["E2"].value == 100.0
    assert figures["C1"].previous is None and figures["C1"].change is None
    assert figures["S4"].value == 0.0 and figures["S1"].value is None  # decided, not rated
    assert figures["I2"].value == 0.0  # the one online case was filed without 长辈模式
    assert any(s.indicator.code == "C1" for s in built.shortfalls)  # 50 % < 80 %


def test_html_lists_every_indicator_and_pdf_has_chinese_text(
    demo_session: Session, tmp_path: Path
) -> None:
    _cases(demo_session)
    built = _report(demo_session)
    html = report_render.render_html(built)
    for row in built.rows:
        assert f'data-code="{row.indicator.code}"' in html and row.indicator.name in html
    assert html.count("<svg") >= 6

    pdf_path = tmp_path / "report.pdf"
    report_render.write(built, pdf_path)
    document = pypdfium2.PdfDocument(str(pdf_path))
    text = document[0].get_textpage().get_text_range()
    assert "半年评估报告" in text and "按时办结率" in text


def test_only_the_center_admin_builds_it(demo_session: Session) -> None:
    with pytest.raises(DomainError) as refused:
        report.build(demo_session, actor=clerk(demo_session), **PERIOD)
    assert refused.value.code == "forbidden"
