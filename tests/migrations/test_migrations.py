"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tongban.db import Base, get_engine, import_all_models


def test_models_and_migrations_agree(db_url: str) -> None:
    import_all_models()
    with get_engine(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models differ from migrations; generate a new revision: {diff}"
