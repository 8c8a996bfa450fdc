"""SLA calendars, policies, pauses and the clock columns of conflicts

Revision ID: 0003_sla
Revises: 0002_conflicts
Create Date: 2026-11-22 19:03:10.492269

"""
from alembic import op
import sqlalchemy as sa

import tracker.models.types


# revision identifiers, used by Alembic.
revision = '0003_sla'
down_revision = '0002_conflicts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sla_calendars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('weekly_hours', sa.JSON(), nullable=False),
    sa.Column('holidays', sa.JSON(), nullable=False),
    sa.Column('holiday_country', sa.String(length=2), nullable=True),
    sa.Column('always_open', sa.Boolean(), nullable=False),
    sa.Column('created_at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_calendars')),
    sa.UniqueConstraint('name', name=op.f('uq_sla_calendars_name'))
    )
    op.create_table('sla_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=True),
    sa.Column('calendar_id', sa.Integer(), nullable=True),
    sa.Column('targets', sa.JSON(), nullable=False),
    sa.Column('warning_percent', sa.Integer(), nullable=False),
    sa.Column('critical_percent', sa.Integer(), nullable=False),
    sa.Column('reminder_minutes', sa.Integer(), nullable=False),
    sa.Column('response_expectation_minutes', sa.Integer(), nullable=False),
    sa.Column('created_at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['sla_calendars.id'], name=op.f('fk_sla_policies_calendar_id_sla_calendars')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies')),
    sa.UniqueConstraint('name', name=op.f('uq_sla_policies_name')),
    sa.UniqueConstraint('tier', name=op.f('uq_sla_policies_tier'))
    )
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_policies_calendar_id'), ['calendar_id'], unique=False)

    op.create_table('sla_pauses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conflict_id', sa.Integer(), nullable=False),
    sa.Column('started_at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('business_seconds', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['conflict_id'], ['conflicts.id'], name=op.f('fk_sla_pauses_conflict_id_conflicts')),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], name=op.f('fk_sla_pauses_ended_by_id_users')),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_sla_pauses_started_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_pauses'))
    )
    with op.batch_alter_table('sla_pauses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_pauses_conflict_id'), ['conflict_id'], unique=False)

    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_policy_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sla_snapshot', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('triage_target_seconds', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('triage_due_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('triage_stopped_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolution_target_seconds', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('resolution_spent_seconds', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('resolution_wall_seconds', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('resolution_running_since', tracker.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolution_stopped_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolution_due_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('partner_wait_seconds', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('sla_state', sa.String(length=16), nullable=False, server_default='on_track'))
        batch_op.add_column(sa.Column('sla_due_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('next_check_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_conflicts_next_check_at'), ['next_check_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_conflicts_sla_policy_id'), ['sla_policy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conflicts_sla_state'), ['sla_state'], unique=False)
        batch_op.create_index('ix_conflicts_status_sla_due', ['status', 'sla_due_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_conflicts_sla_policy_id_sla_policies'), 'sla_policies', ['sla_policy_id'], ['id'])

    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_policy_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_partners_sla_policy_id'), ['sla_policy_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_partners_sla_policy_id_sla_policies'), 'sla_policies', ['sla_policy_id'], ['id'])



def downgrade():
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_partners_sla_policy_id_sla_policies'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_partners_sla_policy_id'))
        batch_op.drop_column('sla_policy_id')

    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_conflicts_sla_policy_id_sla_policies'), type_='foreignkey')
        batch_op.drop_index('ix_conflicts_status_sla_due')
        batch_op.drop_index(batch_op.f('ix_conflicts_sla_state'))
        batch_op.drop_index(batch_op.f('ix_conflicts_sla_policy_id'))
        batch_op.drop_index(batch_op.f('ix_conflicts_next_check_at'))
        batch_op.drop_column('next_check_at')
        batch_op.drop_column('sla_due_at')
        batch_op.drop_column('sla_state')
        batch_op.drop_column('partner_wait_seconds')
        batch_op.drop_column('resolution_due_at')
        batch_op.drop_column('resolution_stopped_at')
        batch_op.drop_column('resolution_running_since')
        batch_op.drop_column('resolution_wall_seconds')
        batch_op.drop_column('resolution_spent_seconds')
        batch_op.drop_column('resolution_target_seconds')
        batch_op.drop_column('triage_stopped_at')
        batch_op.drop_column('triage_due_at')
        batch_op.drop_column('triage_target_seconds')
        batch_op.drop_column('sla_snapshot')
        batch_op.drop_column('sla_policy_id')

    with op.batch_alter_table('sla_pauses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_pauses_conflict_id'))

    op.drop_table('sla_pauses')
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_policies_calendar_id'))

    op.drop_table('sla_policies')
    op.drop_table('sla_calendars')
