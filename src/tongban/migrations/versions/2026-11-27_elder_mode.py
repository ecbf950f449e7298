"""elder mode: cases record whether they were filed with the portal's 长辈模式 on
(indicator I2 适老化模式使用率). Existing cases were filed without it: false.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 18:02:50.459052
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # sa.false() renders per dialect (0 on SQLite, false on PostgreSQL).
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("elder_mode", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("elder_mode")
