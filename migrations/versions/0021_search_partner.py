"""Search entries carry their conflict's partner, so a partner's search finds its own public
matches directly instead of every partner's and filtering them after the cut.

`search_entries.partner_id` (backfilled from conflicts in batches of BATCH ids) with an
index on (partner_id, visibility, id): PostgreSQL walks a partner's public entries newest
first and checks each tsvector until the cut. SQLite: a generated column `partner_scope`
("p<partner id>" for a public entry, empty for an internal note) becomes a third column of
the FTS5 table, so a partner's MATCH adds `AND partner_scope : "p42"` and FTS5 intersects
the doclists itself; the FTS table and its triggers are rebuilt for it.

Revision ID: 0021_search_partner
Revises: 0020_partner_list_order
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_search_partner"
down_revision = "0020_partner_list_order"
branch_labels = None
depends_on = None

BATCH = 20_000
FTS = "search_entries_fts"
SCOPE = "partner_scope"
INDEX = "ix_search_entries_partner_newest"
TRIGGERS = ("search_entries_ai", "search_entries_ad", "search_entries_au")
TOKENIZE = "tokenize='porter unicode61 remove_diacritics 2'"


def _fts_statements(columns: tuple[str, ...], weights: str) -> list[str]:
    """The FTS5 table over these columns of search_entries and the triggers that keep it
    in step (as 0013_search, with the columns given); filled by 'rebuild'."""
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete = f"INSERT INTO {FTS}({FTS}, rowid, {names}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO {FTS}(rowid, {names}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE {FTS} USING fts5({names}, content='search_entries', "
        f"content_rowid='id', {TOKENIZE})",
        # a title hit weighs four times a body hit; the scope token weighs nothing
        f"INSERT INTO {FTS}({FTS}, rank) VALUES ('rank', '{weights}')",
        f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
        f"CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN {insert} END",
        f"CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN {delete} END",
        f"CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN {delete} "
        f"{insert} END",
    ]


def _drop_fts() -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute(f"DROP TABLE IF EXISTS {FTS}")


def _backfill() -> None:
    bind = op.get_bind()
    last = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM search_entries")).scalar()
    fill = sa.text(
        "UPDATE search_entries SET partner_id = "
        "(SELECT c.partner_id FROM conflicts c WHERE c.id = search_entries.conflict_id) "
        "WHERE id > :low AND id <= :high"
    )
    for low in range(0, last, BATCH):
        bind.execute(fill, {"low": low, "high": low + BATCH})


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _drop_fts()  # its triggers would fire for every backfilled row; rebuilt below
    op.add_column("search_entries", sa.Column("partner_id", sa.Integer(), nullable=True))
    _backfill()
    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.alter_column("partner_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            op.f("fk_search_entries_partner_id_partners"), "partners", ["partner_id"], ["id"]
        )
        batch_op.create_index(INDEX, ["partner_id", "visibility", "id"], unique=False)
    if sqlite:
        op.execute(
            f"ALTER TABLE search_entries ADD COLUMN {SCOPE} TEXT GENERATED ALWAYS AS "
            "(CASE WHEN visibility = 'public' THEN 'p' || partner_id ELSE '' END) VIRTUAL"
        )
        for statement in _fts_statements(("title", "body", SCOPE), "bm25(4.0, 1.0, 0.0)"):
            op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _drop_fts()
        op.execute(f"ALTER TABLE search_entries DROP COLUMN {SCOPE}")
    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_constraint(op.f("fk_search_entries_partner_id_partners"), type_="foreignkey")
        batch_op.drop_column("partner_id")
    if sqlite:
        for statement in _fts_statements(("title", "body"), "bm25(4.0, 1.0)"):
            op.execute(statement)
