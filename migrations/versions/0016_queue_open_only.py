"""The queue's order index holds only conflicts not closed (a partial index).

The queue (`status != 'closed'`, URGENCY order) reads a page and counts the next thousand
rows from this index alone, instead of looking each entry's status up in the table.

Revision ID: 0016_queue_open_only
Revises: 0015_locales
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_queue_open_only"
down_revision = "0015_locales"
branch_labels = None
depends_on = None

INDEX = "ix_conflicts_queue_order"
COLUMNS = [sa.text("(sla_due_at IS NULL)"), "sla_due_at", "created_at", "id"]
NOT_CLOSED = sa.text("status != 'closed'")


def upgrade() -> None:
    op.drop_index(INDEX, table_name="conflicts")
    op.create_index(
        INDEX, "conflicts", COLUMNS, sqlite_where=NOT_CLOSED, postgresql_where=NOT_CLOSED
    )
    op.execute("ANALYZE conflicts")


def downgrade() -> None:
    op.drop_index(INDEX, table_name="conflicts")
    op.create_index(INDEX, "conflicts", COLUMNS)
