"""accounts on a verified identity (实名认证), enterprise links, delegations (委托),
queues and bundle flow.

Users gain a level of assurance, a blind index of their mobile number (sign-in and
reset by phone; unique, one account per number), an e-mail address and a session epoch
("sign out everywhere"); the identity index becomes unique (one account per person).
Accounts that operators created with an identity number count as level 2; where two
accounts share one identity, the later ones lose the index (and say so on stdout).
Cases record who decides, the chosen delivery, the filing basis and the decision
document; tasks their bundle stage; items the level they need, who decides and the
values they issue; bundles their stages.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.db
import tongban.privacy.crypto

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _account_tables()
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_index", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("email", tongban.privacy.crypto.EncryptedText("users.email"), nullable=True)
        )
        batch_op.add_column(
            sa.Column("assurance_level", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False)
        )
    _fill_users()
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_id_number_index")
        batch_op.create_unique_constraint("uq_users_id_number_index", ["id_number_index"])
        batch_op.create_unique_constraint("uq_users_phone_index", ["phone_index"])
    _case_columns()
    with op.batch_alter_table("service_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("assurance_level", sa.Integer(), server_default="2", nullable=False)
        )
        batch_op.add_column(
            sa.Column("decided_by", sa.String(length=16), server_default="department",
                      nullable=False)
        )  # fmt: skip
        batch_op.add_column(
            sa.Column("issues", sa.JSON(), server_default=sa.text("'{}'"), nullable=False)
        )
    with op.batch_alter_table("bundles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stages", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )


def _account_tables() -> None:
    op.create_table(
        "attempt_counters",
        sa.Column("scope", sa.String(length=24), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_started_at", tongban.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_attempt_counters")),
    )
    op.create_table(
        "phone_codes",
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column(
            "phone", tongban.privacy.crypto.EncryptedText("phone_codes.phone"), nullable=False
        ),
        sa.Column("phone_index", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("guesses", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", tongban.db.UTCDateTime(), nullable=True),
        sa.Column("used_at", tongban.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_codes")),
    )
    with op.batch_alter_table("phone_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_phone_codes_phone_index"), ["phone_index"], unique=False
        )
    op.create_table(
        "identity_checks",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("checked_by_user_id", sa.Integer(), nullable=True),
        sa.Column("place", sa.String(length=128), nullable=False),
        sa.Column("consent", sa.Text(), nullable=False),
        sa.Column("at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_identity_checks_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_checks")),
    )
    with op.batch_alter_table("identity_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_checks_user_id"), ["user_id"], unique=False)
    op.create_table(
        "enterprise_links",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=128), nullable=False),
        sa.Column("capacity", sa.String(length=24), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("linked_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", tongban.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_enterprise_links_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_links")),
        sa.UniqueConstraint("user_id", "credit_code", name=op.f("uq_enterprise_links_user_id")),
    )
    with op.batch_alter_table("enterprise_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enterprise_links_credit_code"), ["credit_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_enterprise_links_user_id"), ["user_id"], unique=False)
    op.create_table(
        "delegations",
        sa.Column("principal_user_id", sa.Integer(), nullable=True),
        sa.Column("principal_name", sa.String(length=64), nullable=False),
        sa.Column(
            "principal_id_number",
            tongban.privacy.crypto.EncryptedText("delegations.principal_id_number"),
            nullable=False,
        ),
        sa.Column("principal_id_index", sa.String(length=32), nullable=False),
        sa.Column("agent_user_id", sa.Integer(), nullable=False),
        sa.Column("item_codes", sa.JSON(), nullable=False),
        sa.Column("valid_from", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("valid_until", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("given_via", sa.String(length=16), nullable=False),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", tongban.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", tongban.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_user_id"], ["users.id"], name=op.f("fk_delegations_agent_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delegations")),
    )
    with op.batch_alter_table("delegations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delegations_agent_user_id"), ["agent_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_delegations_principal_id_index"), ["principal_id_index"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_delegations_principal_user_id"), ["principal_user_id"], unique=False
        )


def _case_columns() -> None:
    with op.batch_alter_table("case_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("filing_basis", sa.String(length=16), server_default="self", nullable=False)
        )
        batch_op.add_column(sa.Column("delegation_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("delivery_preference", sa.String(length=16), server_default="pickup",
                      nullable=False)
        )  # fmt: skip
        batch_op.add_column(
            sa.Column("decided_by", sa.String(length=16), server_default="department",
                      nullable=False)
        )  # fmt: skip
        batch_op.add_column(
            sa.Column("decision_document_sha256", sa.String(length=64), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_cases_submitted_by_user_id"), ["submitted_by_user_id"], unique=False
        )
    # Cases filed at a window were filed by staff for the person present.
    op.execute("UPDATE cases SET filing_basis = 'window' WHERE channel = 'window'")


def _fill_users() -> None:
    """Phone indexes from the stored (encrypted) numbers, levels, and one account per person."""
    from tongban.access.rules import normalize_phone
    from tongban.privacy.crypto import blind_index, keyring

    bind = op.get_bind()
    ring = keyring()
    bind.execute(
        sa.text(
            "UPDATE users SET assurance_level = 2 "
            "WHERE role = 'applicant' AND id_number_index IS NOT NULL"
        )
    )
    seen: set[str] = set()
    rows = bind.execute(sa.text("SELECT id, id_number_index FROM users ORDER BY id")).all()
    for user_id, index in rows:
        if index is None:
            continue
        if index in seen:
            print(f"users.id={user_id}: a second account for one identity loses its index")
            bind.execute(
                sa.text("UPDATE users SET id_number_index = NULL WHERE id = :id"), {"id": user_id}
            )
        seen.add(index)
    phones: set[str] = set()
    for user_id, token in bind.execute(sa.text("SELECT id, phone FROM users ORDER BY id")).all():
        if not token:
            continue
        phone = normalize_phone(ring.decrypt(token, context="users.phone"))
        if phone is None:
            continue
        ref = blind_index(phone, domain="phone")
        if ref in phones:
            continue  # the first account keeps the number for signing in
        phones.add(ref)
        bind.execute(
            sa.text("UPDATE users SET phone_index = :ref WHERE id = :id"),
            {"ref": ref, "id": user_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("bundles", schema=None) as batch_op:
        batch_op.drop_column("stages")
    with op.batch_alter_table("service_items", schema=None) as batch_op:
        batch_op.drop_column("issues")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("assurance_level")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_submitted_by_user_id"))
        batch_op.drop_column("decision_document_sha256")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("delivery_preference")
        batch_op.drop_column("delegation_id")
        batch_op.drop_column("filing_basis")
    with op.batch_alter_table("case_tasks", schema=None) as batch_op:
        batch_op.drop_column("stage")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_users_phone_index", type_="unique")
        batch_op.drop_constraint("uq_users_id_number_index", type_="unique")
        batch_op.create_index("ix_users_id_number_index", ["id_number_index"], unique=False)
        batch_op.drop_column("session_epoch")
        batch_op.drop_column("assurance_level")
        batch_op.drop_column("email")
        batch_op.drop_column("phone_index")
    for table in ("delegations", "enterprise_links", "identity_checks", "phone_codes"):
        op.drop_table(table)
    op.drop_table("attempt_counters")
