"""A partner's word beginnings expand over its own entries only, and a staff similarity
walks titled entries only.

PostgreSQL: a second generated tsvector, `partner_vector`, holds each public entry's
lexemes prefixed with its partner ("p42_custom"; NULL for an internal note), with its own
GIN index: a partner's prefix query (`'p42_custom':*`) reads that partner's posting lists,
not every partner's. The lexemes are the English configuration's, as in `search_vector`,
prefixed by the immutable SQL function `search_partner_lexemes`. Adding the stored column
computes it for every existing entry (the backfill).

SQLite: a second FTS5 table, `search_entries_fts_titles`, of the entries with a title only
(their title and partner scope token; its content is the view `search_entries_titled`),
kept in step by triggers: similarity matches title
words, and in the whole index their doclists run through every newer comment with those
words in its text before the first title.

Both engines: `ix_search_entries_titled`, a partial index of the entries that have a title
(one per conflict: its title and description as raised), which PostgreSQL walks newest
first for a staff similarity instead of the primary key past every comment. SQLite does
not need it (it has the titles' FTS5 table) but the model stays the same.

Revision ID: 0023_search_scoped
Revises: 0022_notice_facts
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_search_scoped"
down_revision = "0022_notice_facts"
branch_labels = None
depends_on = None

TITLED = "ix_search_entries_titled"
COLUMN = "partner_vector"
INDEX = "ix_search_entries_partner_vector"
FUNCTION = "search_partner_lexemes"
TITLES = "search_entries_fts_titles"
TITLED_VIEW = "search_entries_titled"
TITLE_TRIGGERS = ("search_titles_ai", "search_titles_ad", "search_titles_au")
TOKENIZE = "tokenize='porter unicode61 remove_diacritics 2'"  # as 0021_search_partner
WORDS = "regexp_replace(coalesce({}, ''), '[^[:alnum:]_]+', ' ', 'g')"  # as 0013_search


def upgrade() -> None:
    titled = sa.text("title <> ''")
    op.create_index(TITLED, "search_entries", ["id"], postgresql_where=titled, sqlite_where=titled)
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_titles()
        return
    op.execute(
        "CREATE FUNCTION search_partner_lexemes(words tsvector, partner integer) "
        "RETURNS tsvector "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
        "SELECT coalesce(array_to_tsvector(array_agg('p' || partner || '_' || lexeme)), "
        "''::tsvector) FROM unnest(words) $$"
    )
    words = (
        f"to_tsvector('english', {WORDS.format('title')}) || "
        f"to_tsvector('english', {WORDS.format('body')})"
    )
    op.execute(
        f"ALTER TABLE search_entries ADD COLUMN {COLUMN} tsvector GENERATED ALWAYS AS ("
        f"CASE WHEN visibility = 'public' THEN {FUNCTION}({words}, partner_id) END) STORED"
    )
    op.execute(f"CREATE INDEX {INDEX} ON search_entries USING gin ({COLUMN})")


def _sqlite_titles() -> None:
    """Its content is a view of the titled entries, so that FTS5's own 'rebuild' and
    'integrity-check' agree with what the triggers write."""
    insert = f"INSERT INTO {TITLES}(rowid, title, partner_scope) "
    delete = f"INSERT INTO {TITLES}({TITLES}, rowid, title, partner_scope) SELECT 'delete', "
    for statement in (
        f"CREATE VIEW {TITLED_VIEW} AS SELECT id, title, partner_scope FROM search_entries "
        "WHERE title <> ''",
        f"CREATE VIRTUAL TABLE {TITLES} USING fts5(title, partner_scope, "
        f"content='{TITLED_VIEW}', content_rowid='id', {TOKENIZE})",
        f"INSERT INTO {TITLES}({TITLES}, rank) VALUES ('rank', 'bm25(1.0, 0.0)')",
        f"INSERT INTO {TITLES}({TITLES}) VALUES ('rebuild')",
        "CREATE TRIGGER search_titles_ai AFTER INSERT ON search_entries WHEN new.title <> '' "
        f"BEGIN {insert}VALUES (new.id, new.title, new.partner_scope); END",
        "CREATE TRIGGER search_titles_ad AFTER DELETE ON search_entries WHEN old.title <> '' "
        f"BEGIN {delete}old.id, old.title, old.partner_scope; END",
        "CREATE TRIGGER search_titles_au AFTER UPDATE ON search_entries BEGIN "
        f"{delete}old.id, old.title, old.partner_scope WHERE old.title <> ''; "
        f"{insert}SELECT new.id, new.title, new.partner_scope WHERE new.title <> ''; END",
    ):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in TITLE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute(f"DROP TABLE IF EXISTS {TITLES}")
        op.execute(f"DROP VIEW IF EXISTS {TITLED_VIEW}")
    else:
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
        op.execute(f"ALTER TABLE search_entries DROP COLUMN IF EXISTS {COLUMN}")
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}(tsvector, integer)")
    op.drop_index(TITLED, table_name="search_entries")
