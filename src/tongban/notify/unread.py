"""The unread count in every page's header, read beside the request's transaction.

Pages render while their request's session still holds its transaction (on SQLite a
write lock: BEGIN IMMEDIATE), and ``render()`` is not handed that session. So the
count is read on its own small connection pool that never takes a lock: on SQLite a
plain autocommit SELECT (WAL lets it run beside the writer), on PostgreSQL an
autocommit, read-only connection. It sees committed messages only, which is what a
page shown after post/redirect/get needs. If that read is slow or fails, the header
simply shows no count: a badge is not worth a failed page.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from tongban.notify import repository

log = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 1},
            pool_size=2,
            max_overflow=8,
            pool_timeout=1,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # autocommit: no BEGIN, no lock
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA query_only=ON")
            cursor.execute("PRAGMA busy_timeout=1000")
            cursor.close()

        return engine
    return create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        pool_size=2,
        max_overflow=8,
        pool_timeout=1,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 2, "options": "-c statement_timeout=1000"},
    )


def unread_count(database_url: str, user_id: int) -> int | None:
    """The user's unread in-site messages; None when the count could not be read."""
    try:
        with _engine(database_url).connect() as conn:
            return int(conn.execute(repository.unread_statement(user_id)).scalar_one())
    except SQLAlchemyError:
        log.warning("unread message count unavailable", exc_info=True)
        return None
