"""Shared fixtures: every database-backed test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``TONGBAN_TEST_PG_ADMIN_URL`` (default: the local server
with trust auth); a fresh database is created for the run and dropped after it.
Without a reachable server the PostgreSQL half is skipped — unless
``TONGBAN_REQUIRE_POSTGRES=1`` (CI), where it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Cheap password hashing for the test run only (read when tongban.access loads).
os.environ.setdefault("TONGBAN_ARGON2_TIME_COST", "1")
os.environ.setdefault("TONGBAN_ARGON2_MEMORY_KIB", "1024")
from sqlalchemy import text
from sqlalchemy.orm import Session

PG_ADMIN_URL = os.environ.get(
    "TONGBAN_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = os.environ.get("TONGBAN_REQUIRE_POSTGRES") == "1"
BACKENDS = [b for b in os.environ.get("TONGBAN_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


def _create_pg_database() -> str:
    from sqlalchemy import create_engine

    name = f"tongban_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_pg_database(url: str) -> None:
    from sqlalchemy import create_engine

    from tongban.db import get_engine

    get_engine(url).dispose()
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def _isolated_var(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep files, keys and the default SQLite file of the run out of the work tree."""
    var = tmp_path_factory.mktemp("var")
    os.environ["TONGBAN_STORAGE_DIR"] = str(var / "files")
    os.environ["TONGBAN_SECRET_KEY_FILE"] = str(var / "secret.key")
    os.environ["TONGBAN_KEY_FILE"] = str(var / "keys.json")
    os.environ["TONGBAN_AUDIT_SIGNING_KEY_FILE"] = str(var / "audit-signing.key")
    os.environ["TONGBAN_AUDIT_CHECKPOINT_FILE"] = str(var / "audit-checkpoints.jsonl")
    os.environ["TONGBAN_EXCHANGE_NODE_KEY_FILE"] = str(var / "exchange-node.key")
    os.environ["TONGBAN_EXCHANGE_SOURCES_DIR"] = str(var / "exchange")
    os.environ.setdefault("TONGBAN_DATABASE_URL", f"sqlite:///{var / 'default.db'}")
    from tongban.config import get_settings
    from tongban.privacy.crypto import reset_keyring

    get_settings.cache_clear()
    reset_keyring()
    yield


def upgrade(url: str) -> None:
    from tongban import db

    db.upgrade(url)


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "test.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    try:
        url = _create_pg_database()
    except Exception as exc:  # the server is not there
        if REQUIRE_PG:
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    try:
        upgrade(url)
        yield url
    finally:
        _drop_pg_database(url)


def _wipe(url: str) -> None:
    from tongban.db import Base, get_engine, import_all_models

    import_all_models()
    engine = get_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
            )
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
    from tongban.audit import alerts

    alerts.forget_baselines()  # the process's memory of this database's alerts and baselines


@pytest.fixture
def clean_db(db_url: str) -> Iterator[str]:
    _wipe(db_url)
    yield db_url


def _open_session(url: str) -> Iterator[Session]:
    """A session the test drives itself; whatever it leaves uncommitted is rolled back."""
    from tongban.db import session_factory

    s = session_factory(url)()
    try:
        yield s
    finally:
        s.rollback()
        s.close()


@pytest.fixture
def session(clean_db: str) -> Iterator[Session]:
    yield from _open_session(clean_db)


@pytest.fixture
def demo_db(clean_db: str) -> str:
    """The demo county's regions, departments, catalog and users."""
    from tongban.db import transaction
    from tongban.demo.loader import load_reference_data

    with transaction(clean_db) as s:
        load_reference_data(s)
    return clean_db


@pytest.fixture
def demo_session(demo_db: str) -> Iterator[Session]:
    yield from _open_session(demo_db)


@pytest.fixture
def client(demo_db: str):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from tongban.app import create_app

    with TestClient(create_app(demo_db)) as test_client:
        yield test_client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Figures a test records as ``record_property("summary", …)`` (e.g. how many requests
    schemathesis sent), printed after the run — also from xdist workers, whose output is
    otherwise not shown."""
    lines = [
        str(value)
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        for name, value in getattr(report, "user_properties", [])
        if name == "summary" and getattr(report, "when", "call") == "call"
    ]
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(line)
