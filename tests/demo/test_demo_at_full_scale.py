"""The demo as a new user loads it (`tongban demo load`, a year, 1,800 cases, SQLite):
ordinary work raises no misuse alert, every open case waits in some queue, the access
log verifies, and the dashboard compares this half-year with the last."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tongban.access import service as access_service
from tongban.access.rules import Role
from tongban.audit.models import AuditAlert
from tongban.cases import queue_rules, queues
from tongban.cases.models import Case
from tongban.cases.rules import TERMINAL_STATES
from tongban.cli import app
from tongban.config import get_settings
from tongban.db import session_factory
from tongban.demo.history import DEFAULT_CASES, SLOW_ITEM
from tongban.insight import report as insight_report
from tongban.insight import service as insight_service

runner = CliRunner()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var = tmp_path_factory.mktemp("fullscale")
    url = f"sqlite:///{var / 'tongban.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TONGBAN_DATABASE_URL", url)
        patch.setenv("TONGBAN_EXCHANGE_SOURCES_DIR", str(Path(var) / "exchange"))
        get_settings.cache_clear()
        result = runner.invoke(app, ["demo", "load"])
        assert result.exit_code == 0, result.output
        assert f"{DEFAULT_CASES} cases" in result.output
        verified = runner.invoke(app, ["audit", "verify"])
        assert verified.exit_code == 0, verified.output
        yield url
    get_settings.cache_clear()


def test_a_year_of_ordinary_work_raises_no_alert(loaded: str) -> None:
    with session_factory(loaded)() as s:
        assert s.scalar(select(func.count()).select_from(AuditAlert)) == 0


def test_every_open_case_of_the_demo_waits_in_some_queue(loaded: str) -> None:
    with session_factory(loaded)() as s:
        staff = [
            a
            for role in (Role.CLERK, Role.REVIEWER, Role.ADMIN)
            for a in access_service.staff_of_region(s, role=role, region_code="640425")
        ] + access_service.reviewers(s)
        open_cases = s.scalars(
            select(Case).where(Case.state.not_in([t.value for t in TERMINAL_STATES]))
        ).unique()
        orphans = []
        for case in open_cases:
            facts = queues.facts_of(case)
            if not any(queue_rules.queues_listing(actor, facts) for actor in staff):
                orphans.append((case.case_no, case.state))
        assert orphans == []


def test_the_dashboard_shows_both_half_years(loaded: str) -> None:
    with session_factory(loaded)() as s:
        admin = access_service.actor_by_username(s, "admin")
        assert admin is not None
        first, last = insight_service.period(None, None)  # the last 180 days, and the 180 before
        built = insight_report.build(s, actor=admin, date_from=first, date_to=last)
    assert min(built.cases, built.previous_cases) >= DEFAULT_CASES * 0.4
    rows = {row.indicator.code: row for row in built.rows}
    missing = [code for code, row in rows.items() if row.value is None or row.previous is None]
    assert missing == []  # every indicator has a figure for both periods
    value = {code: row.value or 0.0 for code, row in rows.items()}
    previous = {code: row.previous or 0.0 for code, row in rows.items()}
    for figures in (value, previous):
        assert figures["C1"] >= 80  # 网上申请率: the national target
        assert figures["E2"] >= 85  # 按时办结率
        assert 0 < figures["I2"] < 30  # 适老化模式使用率: some, not most
        assert figures["I1"] < 30  # 帮办代办: the window is the exception
    assert value["C1"] > previous["C1"]  # more online than half a year ago
    top = built.bottlenecks[0]
    assert (top.item, top.action) == (SLOW_ITEM, "approve_task")
