"""Trust ledger, scores and history, ratings, check-ins, partners' last contact

Revision ID: 0005_trust
Revises: 0004_escalations
Create Date: 2026-11-22 19:17:06.901851

"""
from alembic import op
import sqlalchemy as sa

import tracker.models.types


# revision identifiers, used by Alembic.
revision = '0005_trust'
down_revision = '0004_escalations'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('trust_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('r', sa.Double(), nullable=False),
    sa.Column('s', sa.Double(), nullable=False),
    sa.Column('as_of', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_trust_history_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_history')),
    sa.UniqueConstraint('partner_id', 'side', 'day', name='uq_trust_history_partner_side_day')
    )
    op.create_table('trust_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=16), nullable=False),
    sa.Column('r', sa.Double(), nullable=False),
    sa.Column('s', sa.Double(), nullable=False),
    sa.Column('as_of', tracker.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_trust_scores_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_scores')),
    sa.UniqueConstraint('partner_id', 'side', name='uq_trust_scores_partner_side')
    )
    op.create_table('check_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_check_ins_author_id_users')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_check_ins_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_ins'))
    )
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_ins_partner_id'), ['partner_id'], unique=False)

    op.create_table('ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conflict_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conflict_id'], ['conflicts.id'], name=op.f('fk_ratings_conflict_id_conflicts')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ratings_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ratings')),
    sa.UniqueConstraint('conflict_id', 'user_id', name='uq_ratings_conflict_user')
    )
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ratings_conflict_id'), ['conflict_id'], unique=False)

    op.create_table('trust_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('conflict_id', sa.Integer(), nullable=True),
    sa.Column('side', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=True),
    sa.Column('triage_business_seconds', sa.Integer(), nullable=True),
    sa.Column('resolution_business_seconds', sa.Integer(), nullable=True),
    sa.Column('resolution_wall_seconds', sa.Integer(), nullable=True),
    sa.Column('target_seconds', sa.Integer(), nullable=True),
    sa.Column('sla_met', sa.Boolean(), nullable=True),
    sa.Column('overrun_seconds', sa.Integer(), nullable=True),
    sa.Column('accountable_side', sa.String(length=16), nullable=True),
    sa.Column('weight', sa.Double(), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('explanation', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['conflict_id'], ['conflicts.id'], name=op.f('fk_trust_events_conflict_id_conflicts')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_trust_events_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_events'))
    )
    with op.batch_alter_table('trust_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trust_events_conflict_id'), ['conflict_id'], unique=False)
        batch_op.create_index('ix_trust_events_partner_at', ['partner_id', 'at'], unique=False)

    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_contact_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_partners_last_contact_at'), ['last_contact_at'], unique=False)



def downgrade():
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partners_last_contact_at'))
        batch_op.drop_column('last_contact_at')

    with op.batch_alter_table('trust_events', schema=None) as batch_op:
        batch_op.drop_index('ix_trust_events_partner_at')
        batch_op.drop_index(batch_op.f('ix_trust_events_conflict_id'))

    op.drop_table('trust_events')
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ratings_conflict_id'))

    op.drop_table('ratings')
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_ins_partner_id'))

    op.drop_table('check_ins')
    op.drop_table('trust_scores')
    op.drop_table('trust_history')
