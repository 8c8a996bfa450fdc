"""Locales: a user's chosen language and a partner's default one (both optional).

Revision ID: 0013_locales
Revises: 0012_inbound_mail
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_locales"
down_revision = "0012_inbound_mail"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=8), nullable=True))
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("default_locale", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_column("default_locale")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("locale")
