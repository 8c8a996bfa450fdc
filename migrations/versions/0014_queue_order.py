"""The queue's order as an index: soonest deadline first, no deadline last, then age.

`ORDER BY (sla_due_at IS NULL), sla_due_at, created_at, id LIMIT 25` reads 25 entries of
this index instead of sorting every open conflict; statistics are gathered so that the
planners choose it (SQLite has none until ANALYZE).

Revision ID: 0014_queue_order
Revises: 0013_search
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_queue_order"
down_revision = "0013_search"
branch_labels = None
depends_on = None

INDEX = "ix_conflicts_queue_order"


def upgrade() -> None:
    op.create_index(
        INDEX,
        "conflicts",
        [sa.text("(sla_due_at IS NULL)"), "sla_due_at", "created_at", "id"],
        unique=False,
    )
    op.execute("ANALYZE")


def downgrade() -> None:
    op.drop_index(INDEX, table_name="conflicts")
