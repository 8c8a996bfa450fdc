"""Escalations, reminders, the delivery outbox, notification preferences and job locks

Revision ID: 0004_escalations
Revises: 0003_sla
Create Date: 2026-11-22 19:08:29.319192

"""
from alembic import op
import sqlalchemy as sa

import tracker.models.types


# revision identifiers, used by Alembic.
revision = '0004_escalations'
down_revision = '0003_sla'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_locks',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=True),
    sa.Column('acquired_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_locks'))
    )
    op.create_table('notification_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preferences')),
    sa.UniqueConstraint('user_id', 'kind', 'channel', name='uq_notification_preferences_choice')
    )
    op.create_table('escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conflict_id', sa.Integer(), nullable=False),
    sa.Column('clock', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('fired_at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('acknowledgement_note', sa.Text(), nullable=True),
    sa.Column('closed_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_reminder_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminders_sent', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_escalations_acknowledged_by_id_users')),
    sa.ForeignKeyConstraint(['conflict_id'], ['conflicts.id'], name=op.f('fk_escalations_conflict_id_conflicts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalations')),
    sa.UniqueConstraint('conflict_id', 'clock', 'level', 'cycle', name='uq_escalations_conflict_clock_level_cycle')
    )
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalations_conflict_id'), ['conflict_id'], unique=False)
        batch_op.create_index('ix_escalations_open_reminders', ['acknowledged_at', 'next_reminder_at'], unique=False)

    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('body_text', sa.Text(), nullable=True),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('secret_ref', sa.String(length=64), nullable=True),
    sa.Column('conflict_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_until', tracker.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['conflict_id'], ['conflicts.id'], name=op.f('fk_outbox_messages_conflict_id_conflicts')),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_outbox_messages_recipient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_messages_dedupe_key'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_conflict_id'), ['conflict_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_index('ix_outbox_messages_status_next', ['status', 'next_attempt_at'], unique=False)

    op.create_table('escalation_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('sent_at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], name=op.f('fk_escalation_reminders_escalation_id_escalations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_reminders')),
    sa.UniqueConstraint('escalation_id', 'sequence', name='uq_escalation_reminders_sequence')
    )
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolution_cycle', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('escalation_level', sa.String(length=16), nullable=True))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_notifications_dedupe_key'), ['dedupe_key'])



def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_notifications_dedupe_key'), type_='unique')
        batch_op.drop_column('dedupe_key')

    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.drop_column('escalation_level')
        batch_op.drop_column('resolution_cycle')

    op.drop_table('escalation_reminders')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_status_next')
        batch_op.drop_index(batch_op.f('ix_outbox_messages_recipient_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_messages_conflict_id'))

    op.drop_table('outbox_messages')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_index('ix_escalations_open_reminders')
        batch_op.drop_index(batch_op.f('ix_escalations_conflict_id'))

    op.drop_table('escalations')
    op.drop_table('notification_preferences')
    op.drop_table('job_locks')
