"""Tamper-evident chains over conflict events, trust ledgers and the new admin audit log.

Revision ID: 0011_audit_chain
Revises: 0010_mail_notices

The backfill links every existing row with `tracker.domain.audit_chain`, the same pure
function the application appends with: the algorithm is a stored format (changing it would
invalidate every hash already written), so one definition serves both, and a copy here could
only drift from it.
"""

import sqlalchemy as sa
from alembic import op

import tracker.models.types
from tracker.domain import audit_chain as chain

revision = "0011_audit_chain"
down_revision = "0010_mail_notices"
branch_labels = None
depends_on = None

UTC_TIME = tracker.models.types.UTCDateTime(timezone=True)
BATCH = 1000

conflict_events = sa.table(
    "conflict_events",
    sa.column("id", sa.Integer),
    sa.column("conflict_id", sa.Integer),
    sa.column("actor_id", sa.Integer),
    sa.column("created_at", UTC_TIME),
    sa.column("kind", sa.String),
    sa.column("visibility", sa.String),
    sa.column("body", sa.Text),
    sa.column("data", sa.JSON),
    sa.column("chain_seq", sa.Integer),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
conflicts = sa.table(
    "conflicts",
    sa.column("id", sa.Integer),
    sa.column("chain_seq", sa.Integer),
    sa.column("chain_hash", sa.String),
)
trust_events = sa.table(
    "trust_events",
    sa.column("id", sa.Integer),
    sa.column("partner_id", sa.Integer),
    sa.column("at", UTC_TIME),
    # Typed as the model types them: SQLite returns a boolean as 1 unless told, and the
    # hash covers the JSON of the value (true, not 1).
    sa.column("conflict_id", sa.Integer),
    sa.column("side", sa.String),
    sa.column("kind", sa.String),
    sa.column("severity", sa.String),
    sa.column("triage_business_seconds", sa.Integer),
    sa.column("resolution_business_seconds", sa.Integer),
    sa.column("resolution_wall_seconds", sa.Integer),
    sa.column("target_seconds", sa.Integer),
    sa.column("sla_met", sa.Boolean),
    sa.column("overrun_seconds", sa.Integer),
    sa.column("accountable_side", sa.String),
    sa.column("weight", sa.Float),
    sa.column("rule", sa.String),
    sa.column("explanation", sa.String),
    sa.column("chain_seq", sa.Integer),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
chain_heads = sa.table(
    "chain_heads",
    sa.column("chain", sa.String),
    sa.column("seq", sa.Integer),
    sa.column("hash", sa.String),
)


def _rows(connection: sa.Connection, statement: sa.Select) -> list[sa.Row]:
    # Read before writing: the UPDATEs below run on the same connection.
    return list(connection.execute(statement))


def _flush(connection: sa.Connection, table: sa.TableClause, updates: list[dict]) -> None:
    if updates:
        connection.execute(
            table.update()
            .where(table.c.id == sa.bindparam("row_id"))
            .values(
                chain_seq=sa.bindparam("seq"),
                prev_hash=sa.bindparam("prev"),
                hash=sa.bindparam("digest"),
            ),
            updates,
        )
        updates.clear()


def _backfill_conflict_events(connection: sa.Connection) -> None:
    heads: dict[int, chain.Link] = {}
    updates: list[dict] = []
    statement = sa.select(conflict_events).order_by(
        conflict_events.c.conflict_id, conflict_events.c.id
    )
    for row in _rows(connection, statement):
        head = heads.get(row.conflict_id, chain.Link(0, chain.GENESIS, chain.GENESIS))
        content = chain.conflict_event_content(
            conflict_id=row.conflict_id, seq=head.seq + 1, created_at=row.created_at,
            actor_id=row.actor_id, kind=row.kind, visibility=row.visibility, body=row.body,
            data=row.data,
        )  # fmt: skip
        link = chain.append(head, content)
        heads[row.conflict_id] = link
        updates.append({"row_id": row.id, "seq": link.seq, "prev": link.prev_hash, "digest": link.hash})
        if len(updates) >= BATCH:
            _flush(connection, conflict_events, updates)
    _flush(connection, conflict_events, updates)
    if heads:
        connection.execute(
            conflicts.update()
            .where(conflicts.c.id == sa.bindparam("row_id"))
            .values(chain_seq=sa.bindparam("seq"), chain_hash=sa.bindparam("digest"))
            ,
            [{"row_id": k, "seq": v.seq, "digest": v.hash} for k, v in heads.items()],
        )


def _backfill_trust_events(connection: sa.Connection) -> None:
    heads: dict[int, chain.Link] = {}
    updates: list[dict] = []
    statement = sa.select(trust_events).order_by(trust_events.c.partner_id, trust_events.c.id)
    for row in _rows(connection, statement):
        head = heads.get(row.partner_id, chain.Link(0, chain.GENESIS, chain.GENESIS))
        facts = {name: getattr(row, name) for name in chain.TRUST_FACTS}
        content = chain.trust_event_content(
            partner_id=row.partner_id, seq=head.seq + 1, at=row.at, facts=facts
        )
        link = chain.append(head, content)
        heads[row.partner_id] = link
        updates.append({"row_id": row.id, "seq": link.seq, "prev": link.prev_hash, "digest": link.hash})
        if len(updates) >= BATCH:
            _flush(connection, trust_events, updates)
    _flush(connection, trust_events, updates)
    if heads:
        connection.execute(
            chain_heads.insert(),
            [
                {"chain": chain.trust_chain(k), "seq": v.seq, "hash": v.hash}
                for k, v in heads.items()
            ],
        )


def upgrade() -> None:
    op.create_table(
        "chain_heads",
        sa.Column("chain", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_chain_heads")),
    )
    op.create_table(
        "admin_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("chain_seq", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_admin_audit_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_audit")),
        sa.UniqueConstraint("chain_seq", name=op.f("uq_admin_audit_chain_seq")),
    )
    with op.batch_alter_table("admin_audit", schema=None) as batch_op:
        batch_op.create_index("ix_admin_audit_at", ["at"], unique=False)
        batch_op.create_index("ix_admin_audit_actor_at", ["actor_id", "at"], unique=False)
        batch_op.create_index("ix_admin_audit_kind_at", ["kind", "at"], unique=False)

    # Plain ADD COLUMN (NOT NULL with a default) and unique indexes: on SQLite nothing here
    # recreates a table, which rows of notifications and attachments referring to events
    # (foreign keys on) would forbid.
    op.add_column("conflicts", sa.Column("chain_seq", sa.Integer(), server_default="0", nullable=False))
    op.add_column("conflicts", sa.Column("chain_hash", sa.String(length=64), nullable=True))
    for table in ("conflict_events", "trust_events"):
        op.add_column(table, sa.Column("chain_seq", sa.Integer(), server_default="0", nullable=False))
        op.add_column(table, sa.Column("prev_hash", sa.String(length=64), server_default="", nullable=False))
        op.add_column(table, sa.Column("hash", sa.String(length=64), server_default="", nullable=False))

    connection = op.get_bind()
    _backfill_conflict_events(connection)
    _backfill_trust_events(connection)

    op.create_index("uq_conflict_events_conflict_seq", "conflict_events", ["conflict_id", "chain_seq"], unique=True)
    op.create_index("uq_trust_events_partner_seq", "trust_events", ["partner_id", "chain_seq"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_trust_events_partner_seq", table_name="trust_events")
    op.drop_index("uq_conflict_events_conflict_seq", table_name="conflict_events")
    for table in ("conflict_events", "trust_events"):
        for column in ("hash", "prev_hash", "chain_seq"):
            op.drop_column(table, column)
    op.drop_column("conflicts", "chain_hash")
    op.drop_column("conflicts", "chain_seq")
    with op.batch_alter_table("admin_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_admin_audit_kind_at")
        batch_op.drop_index("ix_admin_audit_actor_at")
        batch_op.drop_index("ix_admin_audit_at")
    op.drop_table("admin_audit")
    op.drop_table("chain_heads")
