"""Mail notices: one row per thing a person is told by mail; outbox messages carry headers.

Revision ID: 0010_mail_notices
Revises: 0009_sessions
"""

import sqlalchemy as sa
from alembic import op

import tracker.models.types

revision = "0010_mail_notices"
down_revision = "0009_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("conflict_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("created_at", tracker.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outbox_key", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["conflict_id"], ["conflicts.id"], name=op.f("fk_mail_notices_conflict_id_conflicts")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_mail_notices_recipient_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_notices")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_mail_notices_dedupe_key")),
    )
    with op.batch_alter_table("mail_notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mail_notices_recipient_conflict", ["recipient_id", "conflict_id"], unique=False
        )
        batch_op.create_index(
            "ix_mail_notices_digest_waiting", ["digest", "outbox_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mail_notices_outbox_key"), ["outbox_key"])
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("headers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("headers")
    with op.batch_alter_table("mail_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_notices_outbox_key"))
        batch_op.drop_index("ix_mail_notices_digest_waiting")
        batch_op.drop_index("ix_mail_notices_recipient_conflict")
    op.drop_table("mail_notices")
