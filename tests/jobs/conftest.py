"""Fixtures of the job tests: a database of one kind, the job queue emptied."""

from __future__ import annotations

import pytest

from jobs_support import forget_jobs
from notify_support import smtp_sink  # noqa: F401


@pytest.fixture
def pg_db(demo_db: str) -> str:
    """The demo county on PostgreSQL with an empty job queue (skips on SQLite)."""
    if not demo_db.startswith("postgresql"):
        pytest.skip("the shared job queue is PostgreSQL's (SQLite: tests/jobs/test_county.py)")
    forget_jobs(demo_db)
    return demo_db


@pytest.fixture
def sqlite_db(demo_db: str) -> str:
    """The demo county on SQLite (skips on PostgreSQL)."""
    if not demo_db.startswith("sqlite"):
        pytest.skip("the county's single worker runs on SQLite")
    return demo_db
