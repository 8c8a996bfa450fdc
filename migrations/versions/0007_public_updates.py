"""The last change partners can see; indexes for the queue order and trust look-ups

Revision ID: 0007_public_updates
Revises: 0006_api
Create Date: 2026-11-22 19:40:04.196062

"""
from alembic import op
import sqlalchemy as sa

import tracker.models.types


# revision identifiers, used by Alembic.
revision = '0007_public_updates'
down_revision = '0006_api'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_updated_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_conflicts_partner_public_updated', ['partner_id', 'public_updated_at'], unique=False)
        batch_op.create_index('ix_conflicts_sla_due_at', ['sla_due_at'], unique=False)

    with op.batch_alter_table('trust_events', schema=None) as batch_op:
        batch_op.create_index('ix_trust_events_kind_at', ['kind', 'at'], unique=False)
    with op.batch_alter_table('trust_history', schema=None) as batch_op:
        batch_op.create_index(
            'ix_trust_history_partner_side_as_of', ['partner_id', 'side', 'as_of'], unique=False
        )

    # Existing conflicts: the last public event is the last change partners could see.
    op.execute(
        "UPDATE conflicts SET public_updated_at = (SELECT MAX(e.created_at) FROM conflict_events e "
        "WHERE e.conflict_id = conflicts.id AND e.visibility = 'public')"
    )
    op.execute("UPDATE conflicts SET public_updated_at = created_at WHERE public_updated_at IS NULL")



def downgrade():
    with op.batch_alter_table('trust_history', schema=None) as batch_op:
        batch_op.drop_index('ix_trust_history_partner_side_as_of')
    with op.batch_alter_table('trust_events', schema=None) as batch_op:
        batch_op.drop_index('ix_trust_events_kind_at')
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.drop_index('ix_conflicts_sla_due_at')
        batch_op.drop_index('ix_conflicts_partner_public_updated')
        batch_op.drop_column('public_updated_at')

