"""The demo as a new user loads it (`tongban demo load`, six months, 2,000 cases, SQLite):
ordinary work raises no misuse alert, every open case waits in some queue, and the
access log verifies."""

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
from tongban.demo.history import DEFAULT_CASES

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


def test_six_months_of_ordinary_work_raise_no_alert(loaded: str) -> None:
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
