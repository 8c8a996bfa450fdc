"""Locales: a user's chosen language and a partner's default one (both optional).

Revision ID: 0015_locales
Revises: 0014_queue_order
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_locales"
down_revision = "0014_queue_order"
branch_labels = None
depends_on = None


# Plain ALTER TABLE (SQLite 3.35+ drops columns natively): a batch copy of `partners` would
# have to drop a table that users and conflicts point at, which fails once there is data.


def upgrade() -> None:
    op.add_column("users", sa.Column("locale", sa.String(length=8), nullable=True))
    op.add_column("partners", sa.Column("default_locale", sa.String(length=8), nullable=True))


def downgrade() -> None:
    op.drop_column("partners", "default_locale")
    op.drop_column("users", "locale")
