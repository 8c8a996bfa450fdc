"""A partner's word beginnings expand over its own entries only, and a staff similarity
walks titled entries only.

PostgreSQL: a second generated tsvector, `partner_vector`, holds each public entry's
lexemes prefixed with its partner ("p42_custom"; NULL for an internal note), with its own
GIN index: a partner's prefix query (`'p42_custom':*`) reads that partner's posting lists,
not every partner's. The lexemes are the English configuration's, as in `search_vector`,
prefixed by the immutable SQL function `search_partner_lexemes`. Adding the stored column
computes it for every existing entry (the backfill).

Both engines: `ix_search_entries_titled`, a partial index of the entries that have a title
(one per conflict: its title and description as raised), which PostgreSQL walks newest
first for a staff similarity instead of the primary key past every comment. SQLite's FTS5
does not need it (it finds title words in their column) but the model stays the same.

Revision ID: 0022_search_scoped
Revises: 0021_search_partner
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_search_scoped"
down_revision = "0021_search_partner"
branch_labels = None
depends_on = None

TITLED = "ix_search_entries_titled"
COLUMN = "partner_vector"
INDEX = "ix_search_entries_partner_vector"
FUNCTION = "search_partner_lexemes"
WORDS = "regexp_replace(coalesce({}, ''), '[^[:alnum:]_]+', ' ', 'g')"  # as 0013_search


def upgrade() -> None:
    titled = sa.text("title <> ''")
    op.create_index(TITLED, "search_entries", ["id"], postgresql_where=titled, sqlite_where=titled)
    if op.get_bind().dialect.name == "sqlite":
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


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
        op.execute(f"ALTER TABLE search_entries DROP COLUMN IF EXISTS {COLUMN}")
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}(tsvector, integer)")
    op.drop_index(TITLED, table_name="search_entries")
