"""Server-side sessions: signing out revokes the session, not just the cookie.

Revision ID: 0009_sessions
Revises: 0008_idempotency_one_transaction
"""

import sqlalchemy as sa
from alembic import op

import tracker.models.types

revision = "0009_sessions"
down_revision = "0008_idempotency_one_transaction"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sessions signed before this revision named "user id:version" and match no row here:
    # everyone signs in once more after the upgrade.
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("user_version", sa.Integer(), nullable=False),
        sa.Column("created_at", tracker.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", tracker.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", tracker.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", tracker.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
    op.drop_table("user_sessions")
