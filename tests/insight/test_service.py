"""Bottleneck report and process map over real cases, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from support import act, applicant, clerk, item_named, make_user, reviewer_for, submit
from tongban.errors import DomainError
from tongban.insight import service
from tongban.kit.clock import frozen

MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


def _handle(session: Session, *, sequence: int, task_hours: float, special_hours: float = 0) -> str:
    """One case of 最低生活保障 from submission to closing, at controlled times."""
    item = item_named(session, "最低生活保障")
    owner, window = applicant(session, sequence=sequence), clerk(session)
    reviewer = reviewer_for(session, item.department_code)
    start = MONDAY + timedelta(days=sequence)
    with frozen(start):
        case = submit(session, owner, item_code=item.code)
    with frozen(start + timedelta(hours=1)):
        case = act(session, window, case, "accept")
    at = start + timedelta(hours=1)
    if special_hours:
        with frozen(at + timedelta(hours=1)):
            case = act(session, reviewer, case, "start_special", kind="勘察")
        with frozen(at + timedelta(hours=1 + special_hours)):
            case = act(session, reviewer, case, "finish_special")
        at += timedelta(hours=special_hours)
    with frozen(at + timedelta(hours=task_hours)):
        case = act(session, reviewer, case, "approve_task", task_id=case.tasks[0].id)
    with frozen(at + timedelta(hours=task_hours + 2)):
        case = act(session, reviewer, case, "decide", decision="approve")
    with frozen(at + timedelta(hours=task_hours + 3)):
        case = act(session, window, case, "close")
    return item.code


def test_report_and_process_map_read_the_cases_event_log(demo_session: Session) -> None:
    item_code = ""
    for sequence, hours in enumerate((10.0, 20.0, 30.0), start=21):
        item_code = _handle(demo_session, sequence=sequence, task_hours=hours)
    _handle(demo_session, sequence=24, task_hours=40.0, special_hours=48.0)
    admin = make_user(demo_session, "admin", region_code="640425")
    period = {"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)}
    with frozen(MONDAY + timedelta(days=40)):
        report = service.bottleneck_report(demo_session, actor=admin, item_code=item_code, **period)
    # submit, the 免提交 check of 家庭成员居民身份证, accept, approve_task, decide, close
    assert (report.cases, report.events) == (4, 4 * 6 + 2)
    task = next(s for s in report.steps if s.action == "approve_task")
    # Task time runs from acceptance; the 48 hours of 勘察 are not the department's.
    assert (task.n, task.work_median_h) == (4, pytest.approx(25.0))
    assert report.special[0].total_h == pytest.approx(48.0)
    assert report.rework[0].cases == 4 and report.rework[0].rework_cases == 0
    handoff = {(h.from_office, h.to_office) for h in report.handoffs}
    assert ("window", task.office) in handoff

    process = service.process_map(demo_session, actor=admin, item_code=item_code, **period)
    edges = {(e.source, e.target): e for e in process.edges}
    assert process.starts == {"submit": 4} and process.ends == {"close": 4}
    assert edges[("accept", "approve_task")].n == 3
    assert edges[("accept", "approve_task")].median_h == pytest.approx(20.0)
    assert edges[("start_special", "finish_special")].mean_h == pytest.approx(48.0)

    outside = service.process_map(
        demo_session, actor=admin, date_from=date(2026, 5, 1), date_to=date(2026, 5, 31)
    )
    assert (outside.cases, outside.edges) == (0, [])


def test_only_the_admin_reads_the_analysis(demo_session: Session) -> None:
    with pytest.raises(DomainError) as refused:
        service.bottleneck_report(demo_session, actor=clerk(demo_session))
    assert refused.value.code == "forbidden"
    admin = make_user(demo_session, "admin", region_code="640425")
    with pytest.raises(DomainError) as invalid:
        service.process_map(
            demo_session, actor=admin, date_from=date(2026, 3, 2), date_to=date(2026, 3, 1)
        )
    assert invalid.value.code == "invalid_period"
