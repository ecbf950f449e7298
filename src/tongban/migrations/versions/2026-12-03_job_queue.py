"""job queue: procrastinate's tables and functions in a schema of their own, on PostgreSQL
only (issue 11 §4). A SQLite county's single worker keeps its schedule in memory
(APScheduler) and needs no table.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 19:20:00
"""

from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "procrastinate"
SCHEMA_SQL = Path(__file__).parent.parent / "sql" / "procrastinate-3.10.0.sql"


PIN_SEARCH_PATH = f"""
DO $$
DECLARE
    function regprocedure;
BEGIN
    FOR function IN
        SELECT oid::regprocedure FROM pg_proc WHERE pronamespace = '{SCHEMA}'::regnamespace
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = {SCHEMA}', function);
    END LOOP;
END;
$$;
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    search_path = bind.exec_driver_sql("SHOW search_path").scalar_one()
    # The schema's statements name no schema: create them in ours, then put the path back
    # for Alembic's own version table.
    bind.exec_driver_sql(f"SET LOCAL search_path TO {SCHEMA}")
    with bind.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(SCHEMA_SQL.read_text(encoding="utf-8"))  # no parameters: % is text
        # Its functions and triggers name tables without a schema: pin their search path, so
        # a job inserted by the app's own transaction (whose path is public) works too.
        cursor.execute(PIN_SEARCH_PATH)
    bind.exec_driver_sql("SELECT set_config('search_path', %(path)s, true)", {"path": search_path})


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
