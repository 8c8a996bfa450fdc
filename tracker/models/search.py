"""The search index's content: one row per indexed timeline entry, and the engine's index.

Each row is one text a viewer may find a conflict by (the title and description as
raised, a comment, a reply, an internal note, a reason given in a transition), with the
entry's visibility and its conflict's partner, so the engine finds a partner's public
matches directly instead of every partner's and filtering them after (0021_search_partner).
The engine-specific index is not a model: SQLite keeps an FTS5 table over these rows
(external content, kept in step by triggers) with a generated column of the audience
token, PostgreSQL a generated `tsvector` column with a GIN index and a second one of a
public entry's lexemes prefixed with its partner. PostgreSQL also keeps
the table of the index's lexemes (LEXEME_TABLE). They come from migrations 0013_search,
0021_search_partner, 0023_search_scoped and 0027_search_lexemes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.models.types import UTCDateTime

FTS_TABLE = "search_entries_fts"  # SQLite: the FTS5 table (and its shadow tables, by prefix)
# SQLite: an FTS5 table of the titled entries only (title, scope token), for similarity
# (0023_search_scoped); its name (and its shadow tables') begins with FTS_TABLE's.
TITLES_FTS_TABLE = f"{FTS_TABLE}_titles"
VECTOR_COLUMN = "search_vector"  # PostgreSQL: the generated tsvector column
VECTOR_INDEX = "ix_search_entries_search_vector"
TEXT_CONFIG = "english"  # PostgreSQL's text search configuration (FTS5: porter stemming)
# SQLite: a generated column indexed by FTS5 with one token for a public entry, "p<partner
# id>" (empty for an internal note), so a partner's match is intersected with it in FTS5.
SCOPE_COLUMN = "partner_scope"
PARTNER_INDEX = "ix_search_entries_partner_newest"
# PostgreSQL: a generated tsvector of a public entry's lexemes prefixed with its partner
# ("p42_custom"), with a GIN index, so a partner's word beginnings expand over its own
# entries only (0023_search_scoped); NULL for an internal note.
PARTNER_VECTOR_COLUMN = "partner_vector"
PARTNER_VECTOR_INDEX = "ix_search_entries_partner_vector"
TITLED_INDEX = "ix_search_entries_titled"
# PostgreSQL: every lexeme of VECTOR_COLUMN (no unique key; read with DISTINCT), added by a
# trigger as entries are inserted, so a search's last word is matched as the whole lexemes
# it begins (0027_search_lexemes).
LEXEME_TABLE = "search_lexemes"


def scope_token(partner_id: int) -> str:
    """The token of SCOPE_COLUMN a partner's people may match by (migration 0020 writes
    the same expression)."""
    return f"p{int(partner_id)}"


def partner_lexeme_prefix(partner_id: int) -> str:
    """What PARTNER_VECTOR_COLUMN puts before each lexeme of a partner's public entry
    (migration 0022 writes the same expression)."""
    return f"p{int(partner_id)}_"


def is_engine_index(kind: str, name: str | None, table: str | None = None) -> bool:
    """Whether a database object is the engine's own index, which no model describes
    (the models-vs-migrations comparison leaves these, and only these, out)."""
    if kind == "table":
        return bool(name) and (
            name in (FTS_TABLE, LEXEME_TABLE) or name.startswith(f"{FTS_TABLE}_")
        )
    if kind == "column":
        return table == SearchEntry.__tablename__ and name in (
            VECTOR_COLUMN,
            SCOPE_COLUMN,
            PARTNER_VECTOR_COLUMN,
        )
    if kind == "index":
        return name in (VECTOR_INDEX, PARTNER_VECTOR_INDEX, f"ix_{LEXEME_TABLE}_lexeme")
    return False


class SearchEntry(db.Model):
    """One indexed text. Written once per timeline entry (its unique key makes a repeat
    harmless) and never updated: titles, descriptions and comments are not edited."""

    __tablename__ = "search_entries"
    __table_args__ = (
        Index("ix_search_entries_conflict_visibility", "conflict_id", "visibility"),
        # A partner's public entries newest first: PostgreSQL walks it backwards, checking
        # each entry's tsvector, and stops at the cut (search_index.matches).
        Index(PARTNER_INDEX, "partner_id", "visibility", "id"),
        # The entries with a title (one per conflict), newest first: PostgreSQL walks it for
        # a staff similarity (titles only) instead of the primary key past every comment.
        Index(
            TITLED_INDEX,
            "id",
            postgresql_where=text("title <> ''"),
            sqlite_where=text("title <> ''"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conflict_id: Mapped[int] = mapped_column(ForeignKey("conflicts.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))  # the conflict's
    event_id: Mapped[int] = mapped_column(ForeignKey("conflict_events.id"), unique=True)
    visibility: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(Text, default="", server_default="")
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
