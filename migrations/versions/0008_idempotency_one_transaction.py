"""Idempotency claims commit with the work: drop claims stuck "in progress" by a killed worker.

Revision ID: 0008_idempotency_one_transaction
Revises: 0007_public_updates
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_idempotency_one_transaction"
down_revision = "0007_public_updates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Before this revision a claim was committed apart from its request (response_status 0);
    # a worker killed meanwhile left it blocking every retry. Claims now commit with the work,
    # so a row in progress can only be such a leftover: the work it stood for never finished.
    op.execute(sa.text("DELETE FROM idempotency_records WHERE response_status = 0"))


def downgrade() -> None:
    pass
