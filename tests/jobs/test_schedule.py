"""The schedule and its translation into procrastinate's cron (pure: no database)."""

from __future__ import annotations

from importlib import resources
from importlib.metadata import version
from pathlib import Path

import pytest

import tongban
from tongban.jobs import tasks
from tongban.jobs.postgres import conninfo, cron


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.5, "* * * * * */1"),  # procrastinate's finest tick is a second
        (1, "* * * * * */1"),
        (5, "* * * * * */5"),
        (60, "*/1 * * * *"),
        (900, "*/15 * * * *"),
        (3600, "0 */1 * * *"),
    ],
)
def test_periods_become_cron_lines(seconds: float, expected: str) -> None:
    assert cron(seconds) == expected


def test_the_schedule_has_every_task_and_once_runs_them_all() -> None:
    schedule = {task.name: task for task in tasks.schedule(interval=60)}
    assert set(schedule) == set(tasks.ONCE_ORDER)
    assert schedule["integrate_audit"].seconds == 1
    assert schedule["deliver_notifications"].seconds == tasks.DELIVERY_SECONDS
    assert schedule["sweep_complaints"].seconds == 60
    assert tasks.schedule(interval=0.5)[1].seconds == 0.5  # delivery never waits longer


def test_the_connection_string_puts_the_job_schema_first() -> None:
    info = conninfo("postgresql+psycopg://tongban:s3cret@db.example:5433/tongban?sslmode=require")
    assert "host=db.example" in info and "port=5433" in info and "password=s3cret" in info
    assert "sslmode=require" in info and "search_path=procrastinate" in info


def test_the_frozen_schema_is_the_installed_procrastinate_schema() -> None:
    """Migration 0014 applies a copy; a procrastinate release with another schema needs a
    new revision before it is installed (pyproject pins the minor version)."""
    frozen = Path(tongban.__file__).parent / "migrations" / "sql" / "procrastinate-3.10.0.sql"
    installed = (resources.files("procrastinate.sql") / "schema.sql").read_text("utf-8")
    assert frozen.read_text("utf-8").endswith(installed)
    assert version("procrastinate").startswith("3.10.")
