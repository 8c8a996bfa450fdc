"""Tamper-evident chains over conflict events, trust ledgers and the new admin audit log.

Revision ID: 0010_audit_chain
Revises: 0009_sessions

The backfill links every existing row with `tracker.domain.audit_chain`, the same pure
function the application appends with: the algorithm is a stored format (changing it would
invalidate every hash already written), so one definition serves both, and a copy here could
only drift from it.
"""

from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

import tracker.models.types
from tracker.domain import audit_chain as chain

revision = "0010_audit_chain"
down_revision = "0009_sessions"
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
    sa.column("weight", sa.Float),
    *[sa.column(name) for name in chain.TRUST_FACTS if name != "weight"],
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


def _rows(connection: sa.Connection, statement: sa.Select) -> Iterator[sa.Row]:
    yield from connection.execution_options(yield_per=BATCH).execute(statement)


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
    for row in list(_rows(connection, statement)):
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
    for row in list(_rows(connection, statement)):
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

    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_seq", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))
    for table in ("conflict_events", "trust_events"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("chain_seq", sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))

    connection = op.get_bind()
    _backfill_conflict_events(connection)
    _backfill_trust_events(connection)

    for table, owner in (("conflict_events", "conflict_id"), ("trust_events", "partner_id")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("chain_seq", existing_type=sa.Integer(), nullable=False)
            batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
            batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
            short = "conflict" if owner == "conflict_id" else "partner"
            batch_op.create_unique_constraint(f"uq_{table}_{short}_seq", [owner, "chain_seq"])


def downgrade() -> None:
    for table, short in (("conflict_events", "conflict"), ("trust_events", "partner")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_{short}_seq", type_="unique")
            batch_op.drop_column("hash")
            batch_op.drop_column("prev_hash")
            batch_op.drop_column("chain_seq")
    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.drop_column("chain_hash")
        batch_op.drop_column("chain_seq")
    with op.batch_alter_table("admin_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_admin_audit_kind_at")
        batch_op.drop_index("ix_admin_audit_actor_at")
        batch_op.drop_index("ix_admin_audit_at")
    op.drop_table("admin_audit")
    op.drop_table("chain_heads")
