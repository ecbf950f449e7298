"""catalog state: one row holding the catalog's version, a new random token with every
saved item or bundle; public pages and catalog answers are cached under it (issue 11 §2).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_state")),
    )
    # No row yet: catalog/version.py reads "initial" until the first save writes a token.


def downgrade() -> None:
    op.drop_table("catalog_state")
