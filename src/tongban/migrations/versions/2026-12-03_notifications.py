"""notifications: the outbox written with the event that causes it, delivered by the worker.

One row per message, channel and recipient (site messages are the rows themselves);
the unique dedupe key makes queuing idempotent. ``demo_sms`` is what the demo SMS
gateway "sent" (the /demo/sms page). Encrypted columns are Text (privacy/policy.toml).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient_user_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", tongban.db.UTCDateTime(), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("expires_at", tongban.db.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=False),
        sa.Column("provider_ref", sa.String(length=128), nullable=False),
        sa.Column("created_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("sent_at", tongban.db.UTCDateTime(), nullable=True),
        sa.Column("read_at", tongban.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notifications_dedupe_key")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(
            "ix_notifications_inbox", ["recipient_user_id", "channel", "read_at"], unique=False
        )

    op.create_table(
        "demo_sms",
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demo_sms")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_demo_sms_idempotency_key")),
    )
    with op.batch_alter_table("demo_sms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_demo_sms_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("demo_sms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_demo_sms_created_at"))

    op.drop_table("demo_sms")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_inbox")
        batch_op.drop_index("ix_notifications_due")

    op.drop_table("notifications")
