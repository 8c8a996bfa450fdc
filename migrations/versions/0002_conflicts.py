"""Conflicts, their events, attachments and in-app notifications

Revision ID: 0002_conflicts
Revises: 0001_accounts
Create Date: 2026-11-22 18:54:28.363614

"""
from alembic import op
import sqlalchemy as sa

import tracker.models.types


# revision identifiers, used by Alembic.
revision = '0002_conflicts'
down_revision = '0001_accounts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=20), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('reported_severity', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('created_at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('triaged_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution_summary', sa.Text(), nullable=True),
    sa.Column('root_cause', sa.String(length=32), nullable=True),
    sa.Column('accountable_side', sa.String(length=16), nullable=True),
    sa.Column('close_reason', sa.String(length=24), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('repeat_of_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_conflicts_assignee_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_conflicts_created_by_id_users')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_conflicts_partner_id_partners')),
    sa.ForeignKeyConstraint(['repeat_of_id'], ['conflicts.id'], name=op.f('fk_conflicts_repeat_of_id_conflicts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conflicts')),
    sa.UniqueConstraint('ref', name=op.f('uq_conflicts_ref'))
    )
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflicts_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index('ix_conflicts_partner_updated', ['partner_id', 'updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_conflicts_repeat_of_id'), ['repeat_of_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conflicts_severity'), ['severity'], unique=False)
        batch_op.create_index('ix_conflicts_status_created', ['status', 'created_at'], unique=False)

    op.create_table('conflict_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conflict_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('visibility', sa.String(length=8), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_conflict_events_actor_id_users')),
    sa.ForeignKeyConstraint(['conflict_id'], ['conflicts.id'], name=op.f('fk_conflict_events_conflict_id_conflicts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conflict_events'))
    )
    with op.batch_alter_table('conflict_events', schema=None) as batch_op:
        batch_op.create_index('ix_conflict_events_conflict_id_id', ['conflict_id', 'id'], unique=False)

    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conflict_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('visibility', sa.String(length=8), nullable=False),
    sa.Column('created_at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conflict_id'], ['conflicts.id'], name=op.f('fk_attachments_conflict_id_conflicts')),
    sa.ForeignKeyConstraint(['event_id'], ['conflict_events.id'], name=op.f('fk_attachments_event_id_conflict_events')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_attachments_storage_key'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_conflict_id'), ['conflict_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_event_id'), ['event_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('conflict_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('created_at', tracker.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', tracker.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['conflict_id'], ['conflicts.id'], name=op.f('fk_notifications_conflict_id_conflicts')),
    sa.ForeignKeyConstraint(['event_id'], ['conflict_events.id'], name=op.f('fk_notifications_event_id_conflict_events')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('user_id', 'event_id', name='uq_notifications_user_event')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_conflict_id'), ['conflict_id'], unique=False)
        batch_op.create_index('ix_notifications_user_read', ['user_id', 'read_at', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_read')
        batch_op.drop_index(batch_op.f('ix_notifications_conflict_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_event_id'))
        batch_op.drop_index(batch_op.f('ix_attachments_conflict_id'))

    op.drop_table('attachments')
    with op.batch_alter_table('conflict_events', schema=None) as batch_op:
        batch_op.drop_index('ix_conflict_events_conflict_id_id')

    op.drop_table('conflict_events')
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.drop_index('ix_conflicts_status_created')
        batch_op.drop_index(batch_op.f('ix_conflicts_severity'))
        batch_op.drop_index(batch_op.f('ix_conflicts_repeat_of_id'))
        batch_op.drop_index('ix_conflicts_partner_updated')
        batch_op.drop_index(batch_op.f('ix_conflicts_assignee_id'))

    op.drop_table('conflicts')
