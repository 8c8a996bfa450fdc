"""Timezone choice: whether a user picked their zone, so the browser's never overrides it.

Revision ID: 0017_timezone_choice
Revises: 0016_queue_open_only
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_timezone_choice"
down_revision = "0016_queue_open_only"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("timezone_chosen", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # A zone already stored was someone's choice (the Account page, or an admin's).
    op.execute("UPDATE users SET timezone_chosen = true WHERE timezone IS NOT NULL")


def downgrade() -> None:
    op.drop_column("users", "timezone_chosen")
