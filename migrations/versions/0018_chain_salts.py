"""Salted commitments for internal conflict events: a random salt per internal event, hashed
with its content, and every conflict chain with an internal event relinked in order.

Revision ID: 0018_chain_salts
Revises: 0017_timezone_choice

Before, an internal event's content_hash in a partner's export was the hash of its content
alone, so a partner could test guesses of a short internal text against it. The salts come
from `tracker.domain.audit_chain.salt_for` and the links from the same module the
application appends with (a stored format: one definition only).

Large tables: conflicts are taken a batch at a time (keyset on their id), so memory stays
bounded; one transaction throughout, since a chain half relinked would read as tampered.
Only rows whose hash changes are written (a chain of public events only keeps its hashes).
A chain that does not verify before it is relinked is left exactly as it is, so the
migration never launders an edit made past the application; it is named on stderr, and
`flask audit verify` keeps naming it.
"""

import sys

import sqlalchemy as sa
from alembic import op

import tracker.models.types
from tracker.domain import audit_chain as chain

revision = "0018_chain_salts"
down_revision = "0017_timezone_choice"
branch_labels = None
depends_on = None

UTC_TIME = tracker.models.types.UTCDateTime(timezone=True)
CONFLICTS_PER_BATCH = 500

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
    sa.column("chain_salt", sa.String),
)
conflicts = sa.table(
    "conflicts",
    sa.column("id", sa.Integer),
    sa.column("chain_seq", sa.Integer),
    sa.column("chain_hash", sa.String),
)


def _content(row: sa.Row, salt: str | None) -> dict:
    return chain.conflict_event_content(
        conflict_id=row.conflict_id, seq=row.chain_seq, created_at=row.created_at,
        actor_id=row.actor_id, kind=row.kind, visibility=row.visibility, body=row.body,
        data=row.data, salt=salt,
    )  # fmt: skip


def _intact(conflict: sa.Row, rows: list[sa.Row], salted: bool) -> bool:
    """The chain as stored verifies (in the format before this step)."""
    entries = (
        chain.StoredEntry(
            r.id, r.chain_seq, r.prev_hash, r.hash,
            chain.content_hash(_content(r, r.chain_salt if salted else None)),
        )
        for r in rows
    )  # fmt: skip
    head = chain.Link(conflict.chain_seq, chain.GENESIS, conflict.chain_hash or chain.GENESIS)
    return chain.verify(chain.conflict_chain(conflict.id), entries, head) is None


def _relink(connection: sa.Connection, *, salt: bool) -> list[int]:
    """Relink every intact conflict chain, with fresh salts on internal events (`salt`) or
    without any; returns the conflicts whose chains were broken and left alone."""
    broken: list[int] = []
    after = 0
    while True:
        batch = list(
            connection.execute(
                sa.select(conflicts)
                .where(conflicts.c.id > after)
                .order_by(conflicts.c.id)
                .limit(CONFLICTS_PER_BATCH)
            )
        )
        if not batch:
            return broken
        after = batch[-1].id
        events: dict[int, list[sa.Row]] = {c.id: [] for c in batch}
        for row in connection.execute(
            sa.select(conflict_events)
            .where(conflict_events.c.conflict_id.between(batch[0].id, batch[-1].id))
            .order_by(conflict_events.c.conflict_id, conflict_events.c.chain_seq)
        ):
            events[row.conflict_id].append(row)
        event_updates, head_updates = [], []
        for conflict in batch:
            rows = events[conflict.id]
            if not _intact(conflict, rows, salted=not salt):
                broken.append(conflict.id)
                continue
            head = None
            for row in rows:
                new_salt = chain.salt_for(row.visibility) if salt else None
                head = chain.append(head, _content(row, new_salt))
                if (head.prev_hash, head.hash, new_salt) != (row.prev_hash, row.hash, row.chain_salt):
                    event_updates.append(
                        {"row_id": row.id, "prev": head.prev_hash, "digest": head.hash, "salt": new_salt}
                    )
            if head is not None and head.hash != conflict.chain_hash:
                head_updates.append({"row_id": conflict.id, "digest": head.hash})
        if event_updates:
            connection.execute(
                conflict_events.update()
                .where(conflict_events.c.id == sa.bindparam("row_id"))
                .values(
                    prev_hash=sa.bindparam("prev"),
                    hash=sa.bindparam("digest"),
                    chain_salt=sa.bindparam("salt"),
                ),
                event_updates,
            )
        if head_updates:
            connection.execute(
                conflicts.update()
                .where(conflicts.c.id == sa.bindparam("row_id"))
                .values(chain_hash=sa.bindparam("digest")),
                head_updates,
            )


def _report(broken: list[int]) -> None:
    if broken:
        shown = ", ".join(str(i) for i in broken[:20])
        print(
            f"0018_chain_salts: {len(broken)} conflict chain(s) did not verify and were left "
            f"as they are (conflicts {shown}{' ...' if len(broken) > 20 else ''}); "
            "run `flask audit verify`",
            file=sys.stderr,
        )


def upgrade() -> None:
    op.add_column("conflict_events", sa.Column("chain_salt", sa.String(length=32), nullable=True))
    _report(_relink(op.get_bind(), salt=True))


def downgrade() -> None:
    _report(_relink(op.get_bind(), salt=False))
    op.drop_column("conflict_events", "chain_salt")
