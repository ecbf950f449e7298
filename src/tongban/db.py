"""Database plumbing: declarative Base, column types, engines and sessions.

One transaction per request or job: the session dependency commits or rolls
back; services never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from tongban.config import get_settings
from tongban.kit.text import text_error

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


READ_ONLY_OPTION = "tongban_read_only"
"""Execution option of the engine behind read-only sessions (``read_session_factory``)."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes, stored as UTC on every backend (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    from tongban.kit.clock import now

    return now()


class IdMixin:
    id: Mapped[int] = mapped_column(primary_key=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: a case acknowledged to the applicant survives a power cut (NORMAL
        # in WAL mode may lose the last transactions).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers: IMMEDIATE takes the write lock up front, so concurrent writers queue on
        # busy_timeout (a deferred transaction that upgrades to a write fails at once with
        # SQLITE_BUSY when another writer got there first — no busy wait is possible then).
        # Readers: a plain deferred BEGIN, so reads run beside the one writer under WAL;
        # query_only makes an unexpected write fail every time, not only under load.
        read_only = bool(conn.get_execution_options().get(READ_ONLY_OPTION))
        info = conn.connection.info
        if info.get(READ_ONLY_OPTION, False) != read_only:
            conn.exec_driver_sql(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
            info[READ_ONLY_OPTION] = read_only
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _refuse_nul(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    """The last line of the input policy (``tongban.kit.text``): a NUL character never
    reaches a database — PostgreSQL cannot store one (a 500), SQLite would keep it. Input
    is cleaned long before this; whatever slipped through is refused as bad input here."""
    # One row (a tuple or dict) or several (a list of them), whatever the driver was given.
    rows = parameters if isinstance(parameters, list) else [parameters]
    for row in rows:
        values = row.values() if isinstance(row, dict) else row
        for value in values if isinstance(values, Iterable) else ():
            if isinstance(value, str) and "\x00" in value:
                raise text_error("invalid_text", field="", character="U+0000")


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """The process's engine for ``url``. Its pool holds ``db_pool_size`` connections plus
    ``db_max_overflow``; the web server runs at most ``db_pool_size`` threads (see
    ``tongban.deps.limit_threads``), and a request holds a connection only inside one
    thread's step, so no thread waits for a connection held by a request that waits for a
    thread (docs/concurrency.md)."""
    settings = get_settings()
    return _make_engine(
        url or settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )


@lru_cache(maxsize=8)
def _side_engine(url: str) -> Engine:
    return _make_engine(url, pool_size=2, max_overflow=6)


def _make_engine(url: str, *, pool_size: int, max_overflow: int) -> Engine:
    settings = get_settings()
    pool = {
        "pool_size": pool_size,
        "max_overflow": max_overflow,
        "pool_timeout": settings.db_pool_timeout_seconds,
    }
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        connect_args = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, connect_args=connect_args, **pool)
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, **pool)
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    return engine


@contextmanager
def own_transaction(session: Session) -> Iterator[Connection]:
    """A short transaction of its own, beside ``session``'s, committed on leaving the block.

    For a counter that many requests take at once (case numbers): its row lock is held for
    one statement, not until the caller's commit. The connection comes from a small pool of
    its own, so a caller holding a connection of the main pool never waits for another one
    of it (which, with every thread doing the same, would deadlock the pool). PostgreSQL
    only: on SQLite the caller's write transaction already holds the database's one write
    lock, which a second connection would wait for until the caller commits."""
    engine = session.get_bind()
    assert isinstance(engine, Engine) and engine.dialect.name != "sqlite"
    with _side_engine(engine.url.render_as_string(hide_password=False)).begin() as conn:
        yield conn


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=8)
def _session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    return _session_factory(url or get_settings().database_url)


@lru_cache(maxsize=8)
def _read_session_factory(url: str) -> sessionmaker[Session]:
    reading = get_engine(url).execution_options(**{READ_ONLY_OPTION: True})
    return sessionmaker(bind=reading, expire_on_commit=False)


def read_session_factory(url: str | None = None) -> sessionmaker[Session]:
    """Sessions that only read: on SQLite a deferred transaction (reads run in parallel
    under WAL) in which any write fails (``PRAGMA query_only``); on PostgreSQL an ordinary
    transaction. Same pool as ``session_factory``."""
    return _read_session_factory(url or get_settings().database_url)


@contextmanager
def transaction(url: str | None = None) -> Iterator[Session]:
    """A unit of work for CLI commands and jobs: commit on success, roll back on error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def import_all_models() -> None:
    """Import every domain's models so that Base.metadata is complete."""
    import tongban.access.models
    import tongban.audit.models
    import tongban.cases.models
    import tongban.catalog.models
    import tongban.exchange.models
    import tongban.feedback.models
    import tongban.notify.models
    import tongban.regions.models
    import tongban.workdays.models  # noqa: F401


def upgrade(url: str | None = None) -> None:
    """Apply all Alembic migrations to the database at ``url``."""
    from alembic import command

    url = url or get_settings().database_url
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), "head")


def alembic_config(url: str | None = None) -> Any:
    from pathlib import Path

    from alembic.config import Config

    migrations = Path(__file__).parent / "migrations"
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations))
    cfg.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s")
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%"))
    return cfg


def migration_gap(url: str | None = None) -> str | None:
    """None when the database is at the latest migration; otherwise what it lacks (for the
    message that asks for ``tongban db upgrade``)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    url = url or get_settings().database_url
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    with get_engine(url).connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if not current:
        return "schema"
    if current != heads:
        return "migrations " + ", ".join(sorted(heads - current))
    return None
