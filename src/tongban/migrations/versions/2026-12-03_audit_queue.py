"""audit queue: entries written in the reader's transaction without the head lock, and
integrated into the Merkle tree in batches within the published maximum merge delay
(issue 11 §2; docs/audit.md, "Queued appends").

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("actor_department_code", sa.String(length=18), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject_kind", sa.String(length=24), nullable=False),
        sa.Column("subject_ref", sa.String(length=64), nullable=False),
        sa.Column("person_ref", sa.String(length=32), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("purpose_code", sa.String(length=32), nullable=False),
        sa.Column("purpose_text", sa.Text(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("related", sa.Boolean(), nullable=True),
        sa.Column("client_addr", sa.String(length=64), nullable=True),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_queue")),
    )
    with op.batch_alter_table("audit_queue", schema=None) as batch_op:
        batch_op.create_index("ix_audit_queue_actor_at", ["actor_user_id", "at"], unique=False)
        batch_op.create_index("ix_audit_queue_person_at", ["person_ref", "at"], unique=False)


def downgrade() -> None:
    # Queued entries would be lost: integrate them first (tongban audit integrate).
    with op.batch_alter_table("audit_queue", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_queue_person_at")
        batch_op.drop_index("ix_audit_queue_actor_at")
    op.drop_table("audit_queue")
