"""Full-text search: one row per indexed timeline entry, and each engine's index over them;
the counts of first resolutions the ETA reads; and the reports' monthly rollups.

SQLite: an FTS5 table with external content (the rows of search_entries), kept in step by
triggers, so no writer (the indexing consumer, this backfill, a restore) can leave the
index behind its content. PostgreSQL: a generated, stored tsvector column (title weighted
above body) with a GIN index; the database computes it, so it cannot drift either.

Revision ID: 0013_search
Revises: 0012_inbound_mail
"""


import sqlalchemy as sa
from alembic import op

import tracker.models.types
from tracker.services import count_rebuild

revision = "0013_search"
down_revision = "0012_inbound_mail"
branch_labels = None
depends_on = None

FTS = "search_entries_fts"
SQLITE_INDEX = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(title, body, content='search_entries', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    # rank orders by relevance; a title hit weighs four times a body hit
    f"INSERT INTO {FTS}({FTS}, rank) VALUES ('rank', 'bm25(4.0, 1.0)')",
    f"CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN "
    f"INSERT INTO {FTS}(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    f"CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);"
    " END",
    f"CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);"
    f" INSERT INTO {FTS}(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]
# Words as the queries see them (domain/search_text.py: runs of letters, digits and _), so
# the parser reads "TR-2026-00042" as three words, not as a word and two negative numbers.
WORDS = "regexp_replace(coalesce({}, ''), '[^[:alnum:]_]+', ' ', 'g')"
POSTGRESQL_INDEX = [
    "ALTER TABLE search_entries ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    f"setweight(to_tsvector('english', {WORDS.format('title')}), 'A') || "
    f"setweight(to_tsvector('english', {WORDS.format('body')}), 'B')) STORED",
    "CREATE INDEX ix_search_entries_search_vector ON search_entries USING gin (search_vector)",
]
# Every entry there is: the title and description as raised, then each text written since.
BACKFILL = """
INSERT INTO search_entries (conflict_id, event_id, visibility, title, body, created_at)
SELECT e.conflict_id, e.id, e.visibility,
       CASE WHEN e.kind = 'submitted' THEN coalesce(c.ref, '') || ' ' || c.title ELSE '' END,
       CASE WHEN e.kind = 'submitted' THEN c.description ELSE e.body END,
       e.created_at
FROM conflict_events e JOIN conflicts c ON c.id = e.conflict_id
WHERE e.kind = 'submitted' OR (e.body IS NOT NULL AND e.body <> '')
ORDER BY e.id
"""


def upgrade() -> None:
    op.create_table(
        "search_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conflict_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("visibility", sa.String(length=8), nullable=False),
        sa.Column("title", sa.Text(), server_default="", nullable=False),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", tracker.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conflict_id"], ["conflicts.id"], name=op.f("fk_search_entries_conflict_id_conflicts")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["conflict_events.id"],
            name=op.f("fk_search_entries_event_id_conflict_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_entries")),
        sa.UniqueConstraint("event_id", name=op.f("uq_search_entries_event_id")),
    )
    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_search_entries_conflict_visibility", ["conflict_id", "visibility"], unique=False
        )
    statements = SQLITE_INDEX if op.get_bind().dialect.name == "sqlite" else POSTGRESQL_INDEX
    for statement in statements:
        op.execute(statement)
    op.execute(BACKFILL)
    op.create_table(
        "resolution_time_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("business_hours", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolution_time_counts")),
        sa.UniqueConstraint(
            "category", "severity", "month", "business_hours", name="uq_resolution_time_counts"
        ),
    )
    _rollup_tables()
    # The rollups are filled by 0024_reports_groupings, which replaces these tables by
    # rollups per grouping (what the application writes since).
    count_rebuild.rebuild_first_resolutions(op.get_bind())


def _rollup_tables() -> None:
    def keys() -> list[sa.Column]:
        return [
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("month", sa.Date(), nullable=False),
            sa.Column("partner_id", sa.Integer(), nullable=False),
            sa.Column("category", sa.String(length=32), nullable=False),
            sa.Column("assignee_id", sa.Integer(), nullable=False),
        ]
    op.create_table(
        "monthly_rollups",
        *keys(),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("raised", "triaged", "resolved", "sla_met", "reopened", "disputed")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_monthly_rollups_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_rollups")),
        sa.UniqueConstraint(
            "month", "partner_id", "category", "assignee_id", name="uq_monthly_rollups"
        ),
    )
    op.create_table(
        "monthly_time_counts",
        *keys(),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("business_hours", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_monthly_time_counts_partner_id_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_time_counts")),
        sa.UniqueConstraint(
            "month",
            "partner_id",
            "category",
            "assignee_id",
            "measure",
            "business_hours",
            name="uq_monthly_time_counts",
        ),
    )


def downgrade() -> None:
    op.drop_table("monthly_time_counts")
    op.drop_table("monthly_rollups")
    op.drop_table("resolution_time_counts")
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("search_entries_ai", "search_entries_ad", "search_entries_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute(f"DROP TABLE IF EXISTS {FTS}")
    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_search_entries_conflict_visibility")
    op.drop_table("search_entries")
