"""The catalog's version: what caches of public pages and catalog answers are keyed by.

A single row (``catalog_state``) given a fresh random token by ``bump`` in the same
transaction as the change — an item or bundle saved, the search index rebuilt — so a cached
page is never newer or older than the catalog it shows once that transaction commits, on any
app server. Random, not counted: after a restore from backup (or a wiped test database) a
counter would repeat values that once stood for another catalog. Reading it is one
primary-key lookup.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from sqlalchemy import Engine, create_engine, select, update
from sqlalchemy.orm import Session

from tongban.catalog.models import CatalogState
from tongban.kit.shared_read import SharedRead

STATE_ID = 1
UNRECORDED = "initial"  # a database whose catalog has not changed since it was migrated


def current(session: Session) -> str:
    """The catalog's version token."""
    found = session.scalar(select(CatalogState.version).where(CatalogState.id == STATE_ID))
    return found or UNRECORDED


def bump(session: Session) -> None:
    """A new version token; the row is created on first use."""
    token = secrets.token_hex(16)
    changed = session.execute(
        update(CatalogState).where(CatalogState.id == STATE_ID).values(version=token)
    )
    if getattr(changed, "rowcount", 0) == 0:
        session.add(CatalogState(id=STATE_ID, version=token))
        session.flush()


def shared_reader(database_url: str) -> SharedRead[str]:
    """The version for the cached answers served before any endpoint runs
    (``web/page_cache.py``): one short statement on a connection of its own, shared by the
    requests waiting for it, never begun before a request arrived (``kit/shared_read.py``) —
    so a save committed on any app server shows at the next request, as with ``current``."""
    engine = _reading_engine(database_url)

    def read() -> str:
        with engine.connect() as connection:
            found = connection.execute(_CURRENT).scalar()
        return str(found) if found else UNRECORDED

    return SharedRead(read)


_CURRENT = select(CatalogState.version).where(CatalogState.id == STATE_ID)


@lru_cache(maxsize=8)
def _reading_engine(database_url: str) -> Engine:
    """Autocommit (each read sees the latest commit, no transaction left open), no
    pre-ping (a dropped connection fails one read, whose requests then take the ordinary
    path; the pool replaces it), one connection: reads are never concurrent."""
    connect_args = {"check_same_thread": False, "timeout": 30} if _sqlite(database_url) else {}
    return create_engine(
        database_url,
        isolation_level="AUTOCOMMIT",
        pool_size=1,
        max_overflow=1,
        connect_args=connect_args,
    )


def _sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")
