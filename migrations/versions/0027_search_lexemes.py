"""PostgreSQL: the index's lexemes, so a search's last word is matched as whole words.

The last word of a search is a beginning (it may still be being typed). GIN matches a
beginning (`'defect':*`) by reading every posting list of every lexeme it begins into one
bitmap before intersecting it with the other words: a common word costs its whole list
(20-32 ms at 100,000 conflicts), where whole lexemes are intersected by skipping (about
10 ms). `search_lexemes` holds every lexeme of `search_vector`, so a search whose last
word begins one lexeme only (a word typed out) matches that whole lexeme instead, which
finds the same entries (services/search_index.py: _tsquery).

Each INSERT into search_entries adds its new lexemes in the same transaction, from a
statement-level trigger over the inserted rows: an entry is never visible without its
lexemes. Entries are never updated, but an UPDATE (a repair by hand) adds the new rows'
lexemes the same way. Creating the triggers holds writers to search_entries until the
backfill below commits, so none is missed. The table has no unique key on purpose: two
transactions adding the same new word at once each insert it, and neither waits for the
other, so no order of inserts can deadlock; readers take DISTINCT. The upgrade fills it
from the entries already indexed. SQLite: nothing (FTS5 keeps a prefix index and needs
none of this).

Revision ID: 0027_search_lexemes
Revises: 0026_report_windows
"""

from alembic import op

revision = "0027_search_lexemes"
down_revision = "0026_report_windows"
branch_labels = None
depends_on = None

TABLE = "search_lexemes"  # as tracker/models/search.py LEXEME_TABLE
FUNCTION = "search_entries_add_lexemes"
TRIGGERS = {"INSERT": "search_entries_lexemes", "UPDATE": "search_entries_lexemes_updated"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    # "C": byte order, so a beginning is one range of the index whatever the locale.
    op.execute(f'CREATE TABLE {TABLE} (lexeme text COLLATE "C" NOT NULL)')
    op.execute(f"CREATE INDEX ix_{TABLE}_lexeme ON {TABLE} (lexeme)")
    op.execute(
        f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO {TABLE} (lexeme) SELECT DISTINCT w.lexeme "
        "FROM inserted_entries e, unnest(e.search_vector) AS w "
        f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} s WHERE s.lexeme = w.lexeme); "
        "RETURN NULL; END $$"
    )
    for change, trigger in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {trigger} AFTER {change} ON search_entries "
            "REFERENCING NEW TABLE AS inserted_entries "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )
    op.execute(
        f"INSERT INTO {TABLE} (lexeme) SELECT DISTINCT w.lexeme "
        "FROM search_entries e, unnest(e.search_vector) AS w"
    )
    op.execute(f"ANALYZE {TABLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for trigger in TRIGGERS.values():
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON search_entries")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
