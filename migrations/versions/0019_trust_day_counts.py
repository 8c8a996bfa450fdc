"""The trust page's day counts: its period figures summed per partner and UTC day instead
of read from the period's ledger rows; filled from the ledger, the ratings and the repeat
links by `services/count_rebuild.rebuild_trust_days` (what the application counts).

Revision ID: 0019_trust_day_counts
Revises: 0018_chain_salts
"""

import sqlalchemy as sa
from alembic import op

from tracker.services import count_rebuild

revision = "0019_trust_day_counts"
down_revision = "0018_chain_salts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trust_day_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_trust_day_counts_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_day_counts")),
        sa.UniqueConstraint(
            "partner_id", "day", "measure", "severity", "value", name="uq_trust_day_counts"
        ),
    )
    count_rebuild.rebuild_trust_days(op.get_bind())


def downgrade() -> None:
    op.drop_table("trust_day_counts")
