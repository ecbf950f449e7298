"""sessions and throttles: server-side session records for cookies and bearer tokens.

A signed cookie or token now carries only a session id; the row says whose session it is,
when it expires and whether it was revoked (logout, a password change, an admin ending
the user's sessions, sign-out everywhere). Every app server reads the same row, so a
revocation holds everywhere at once. Failed-login, per-address and query-code counters
reuse ``attempt_counters`` (new scopes, no new columns).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", tongban.db.UTCDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_user_sessions_user_live", ["user_id", "revoked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_user_sessions_user_live")

    op.drop_table("user_sessions")
