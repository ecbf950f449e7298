"""audit counters: the misuse rules' counts kept on append, not counted over the log.

``audit_counters`` holds per-account counts in minute buckets (persons by their latest
read, unrelated reads, unmask requests) and Beijing-day buckets (distinct persons);
``audit_reader_persons`` each account's latest read of each person. Both are filled
from the staff entries of the last ``alert_baseline_days`` + 1 days, so that the
baseline rule's history and today's counts survive the upgrade.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

import tongban.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STAFF_ROLES = ("clerk", "reviewer", "admin", "auditor")


def upgrade() -> None:
    op.create_table(
        "audit_counters",
        sa.Column("actor_user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("counter", sa.String(length=16), nullable=False),
        sa.Column("bucket_start", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "actor_user_id", "counter", "bucket_start", name=op.f("pk_audit_counters")
        ),
    )
    op.create_table(
        "audit_reader_persons",
        sa.Column("actor_user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("person_ref", sa.String(length=32), nullable=False),
        sa.Column("last_read_at", tongban.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "actor_user_id", "person_ref", name=op.f("pk_audit_reader_persons")
        ),
    )
    _fill_from_log()


def _fill_from_log() -> None:
    """Replay the recent staff entries through the same arithmetic the append uses."""
    from tongban.audit import counters
    from tongban.config import get_settings
    from tongban.kit.clock import now

    settings = get_settings()
    entries = sa.table(
        "audit_entries",
        sa.column("seq", sa.Integer()),
        sa.column("at", tongban.db.UTCDateTime()),
        sa.column("actor_user_id", sa.Integer()),
        sa.column("actor_role", sa.String()),
        sa.column("action", sa.String()),
        sa.column("person_ref", sa.String()),
        sa.column("result", sa.String()),
        sa.column("related", sa.Boolean()),
    )
    since = now() - timedelta(days=settings.alert_baseline_days + 1)
    rows = op.get_bind().execute(
        sa.select(entries)
        .where(
            entries.c.at >= since,
            entries.c.actor_user_id.is_not(None),
            entries.c.actor_role.in_(_STAFF_ROLES),
        )
        .order_by(entries.c.seq)
    )
    totals: dict[tuple[int, str, datetime], int] = {}
    latest: dict[tuple[int, str], datetime] = {}
    for row in rows:
        entry = dict(row._mapping)
        user = entry["actor_user_id"]
        person = entry["person_ref"]
        previous = {person: latest[user, person]} if (user, person) in latest else {}
        delta, persons = counters.changes(
            [entry], previous, at=entry["at"], window_minutes=settings.alert_window_minutes
        )
        for (name, bucket), n in delta.items():
            totals[user, name, bucket] = totals.get((user, name, bucket), 0) + n
        for read in persons:
            latest[user, read] = entry["at"]
    if totals:
        op.bulk_insert(
            sa.table(
                "audit_counters",
                sa.column("actor_user_id", sa.Integer()),
                sa.column("counter", sa.String()),
                sa.column("bucket_start", tongban.db.UTCDateTime()),
                sa.column("count", sa.Integer()),
            ),
            [
                {"actor_user_id": u, "counter": c, "bucket_start": b, "count": n}
                for (u, c, b), n in totals.items()
            ],
        )
    if latest:
        op.bulk_insert(
            sa.table(
                "audit_reader_persons",
                sa.column("actor_user_id", sa.Integer()),
                sa.column("person_ref", sa.String()),
                sa.column("last_read_at", tongban.db.UTCDateTime()),
            ),
            [
                {"actor_user_id": u, "person_ref": p, "last_read_at": at}
                for (u, p), at in latest.items()
            ],
        )


def downgrade() -> None:
    op.drop_table("audit_reader_persons")
    op.drop_table("audit_counters")
