"""feedback: 好差评 ratings with 差评 follow-ups, the complaint zone, its event log and
the worker's alarms (a unique key per deadline and level, so escalations happen once).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 17:25:52.325871
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("complaint_no", sa.String(length=24), nullable=False),
        sa.Column("query_code", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("target_kind", sa.String(length=12), nullable=False),
        sa.Column("target_ref", sa.String(length=64), nullable=False),
        sa.Column("target_name", sa.String(length=128), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("department_code", sa.String(length=18), nullable=False),
        sa.Column("department_name", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("complainant_user_id", sa.Integer(), nullable=True),
        sa.Column("contact_name", sa.Text(), nullable=False),
        sa.Column("contact_phone", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("filed_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("cycle_started_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("response_due_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("result_due_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("result_due_provisional", sa.Boolean(), nullable=False),
        sa.Column("responded_at", tongban.db.UTCDateTime(), nullable=True),
        sa.Column("resolved_at", tongban.db.UTCDateTime(), nullable=True),
        sa.Column("confirmed_at", tongban.db.UTCDateTime(), nullable=True),
        sa.Column("response_text", sa.Text(), nullable=False),
        sa.Column("resolution_text", sa.Text(), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("last_event_seq", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("complaint_no", name=op.f("uq_complaints_complaint_no")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaints_complainant_user_id"), ["complainant_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_complaints_department_code"), ["department_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_complaints_region_code"), ["region_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_complaints_response_due_at"), ["response_due_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_complaints_result_due_at"), ["result_due_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_complaints_state"), ["state"], unique=False)

    op.create_table(
        "feedback_alarms",
        sa.Column("subject_kind", sa.String(length=12), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.String(length=12), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("department_code", sa.String(length=18), nullable=False),
        sa.Column("due_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_alarms")),
        sa.UniqueConstraint(
            "subject_kind",
            "subject_id",
            "cycle",
            "deadline",
            "level",
            name=op.f("uq_feedback_alarms_subject_kind"),
        ),
    )
    with op.batch_alter_table("feedback_alarms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_alarms_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "feedback_events",
        sa.Column("subject_kind", sa.String(length=12), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_events")),
        sa.UniqueConstraint(
            "subject_kind", "subject_id", "seq", name=op.f("uq_feedback_events_subject_kind")
        ),
    )
    with op.batch_alter_table("feedback_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_events_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "ratings",
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("department_code", sa.String(length=18), nullable=False),
        sa.Column("department_name", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rater_user_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("rated_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("appeal_state", sa.String(length=12), nullable=False),
        sa.Column("appeal_reason_code", sa.String(length=16), nullable=False),
        sa.Column("appeal_reason", sa.Text(), nullable=False),
        sa.Column("appeal_decision", sa.Text(), nullable=False),
        sa.Column("appeal_decided_by_user_id", sa.Integer(), nullable=True),
        sa.Column("appeal_decided_at", tongban.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint("case_no", name=op.f("uq_ratings_case_no")),
    )
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ratings_department_code"), ["department_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ratings_rater_user_id"), ["rater_user_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ratings_region_code"), ["region_code"], unique=False)

    op.create_table(
        "rating_follow_ups",
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("department_code", sa.String(length=18), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("due_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("due_provisional", sa.Boolean(), nullable=False),
        sa.Column("reported_at", tongban.db.UTCDateTime(), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("last_event_seq", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rating_id"], ["ratings.id"], name=op.f("fk_rating_follow_ups_rating_id_ratings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_follow_ups")),
        sa.UniqueConstraint("rating_id", name=op.f("uq_rating_follow_ups_rating_id")),
    )
    with op.batch_alter_table("rating_follow_ups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rating_follow_ups_department_code"), ["department_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_rating_follow_ups_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_rating_follow_ups_region_code"), ["region_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_rating_follow_ups_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rating_follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_follow_ups_state"))
        batch_op.drop_index(batch_op.f("ix_rating_follow_ups_region_code"))
        batch_op.drop_index(batch_op.f("ix_rating_follow_ups_due_at"))
        batch_op.drop_index(batch_op.f("ix_rating_follow_ups_department_code"))

    op.drop_table("rating_follow_ups")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratings_region_code"))
        batch_op.drop_index(batch_op.f("ix_ratings_rater_user_id"))
        batch_op.drop_index(batch_op.f("ix_ratings_department_code"))

    op.drop_table("ratings")
    with op.batch_alter_table("feedback_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_events_subject_id"))

    op.drop_table("feedback_events")
    with op.batch_alter_table("feedback_alarms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_alarms_region_code"))

    op.drop_table("feedback_alarms")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_state"))
        batch_op.drop_index(batch_op.f("ix_complaints_result_due_at"))
        batch_op.drop_index(batch_op.f("ix_complaints_response_due_at"))
        batch_op.drop_index(batch_op.f("ix_complaints_region_code"))
        batch_op.drop_index(batch_op.f("ix_complaints_department_code"))
        batch_op.drop_index(batch_op.f("ix_complaints_complainant_user_id"))

    op.drop_table("complaints")
