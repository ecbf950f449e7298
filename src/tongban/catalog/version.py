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

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tongban.catalog.models import CatalogState

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
