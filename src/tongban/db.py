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

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
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
        # IMMEDIATE takes the write lock up front: concurrent writers queue on
        # busy_timeout instead of failing when a read transaction upgrades.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


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
    url = url or get_settings().database_url
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    return engine


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
