"""The full-text index: what goes in (a consumer of the timeline) and how it is asked.

Every timeline entry with text becomes one `SearchEntry` row with the entry's visibility,
written by `timeline.record()` as it writes the entry: the index follows the one writer of
entries, not the news of them (an acknowledgement note is recorded but not announced).
The engine indexes the rows itself (see models/search.py). Queries come back as a subquery
of (conflict_id, score), lower score first, for `conflict_search` to join to its scoped
conflicts: who sees which conflict stays decided there; which texts a viewer may match by
(public ones only, for partners) is decided here, in the same statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Subquery, column, func, literal_column, select, table
from sqlalchemy.sql.elements import ColumnElement

from tracker.database import insert_if_absent
from tracker.domain import search_text
from tracker.extensions import db
from tracker.models import ConflictEvent, SearchEntry, User
from tracker.models.conflict import PUBLIC
from tracker.models.search import FTS_TABLE, TEXT_CONFIG, VECTOR_COLUMN

SNIPPET_WORDS = 14

_fts = table(FTS_TABLE, column("rowid"), column("rank"))
_vector = literal_column(f"search_entries.{VECTOR_COLUMN}")
_config = literal_column(f"'{TEXT_CONFIG}'::regconfig")


def index_entry(entry: ConflictEvent) -> None:
    """Index a (flushed) entry's text: the title and description as raised, or what was
    written. An entry without text adds nothing; a second call for it adds nothing either."""
    if entry.kind == "submitted":
        conflict = entry.conflict
        title, body = f"{conflict.ref or ''} {conflict.title}", conflict.description
    elif entry.body:
        title, body = "", entry.body
    else:
        return
    values = {
        "conflict_id": entry.conflict_id,
        "event_id": entry.id,
        "visibility": entry.visibility,
        "title": search_text.indexable(title),
        "body": search_text.indexable(body),
        "created_at": entry.created_at,
    }
    insert_if_absent(db.session, SearchEntry, values, ["event_id"])


def _is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def _matching(words: list[str], any_word: bool) -> tuple[Iterable, ColumnElement, ColumnElement]:
    """The FROM, the match condition and the score (lower is better) for this engine."""
    if _is_sqlite():
        condition = literal_column(FTS_TABLE).op("MATCH")(
            search_text.fts5_query(words, any_word=any_word)
        )
        joined = select(SearchEntry).join(_fts, _fts.c.rowid == SearchEntry.id)
        return joined, condition, _fts.c.rank
    query = func.to_tsquery(_config, search_text.tsquery(words, any_word=any_word))
    condition = _vector.op("@@")(query)
    return select(SearchEntry), condition, -func.ts_rank(_vector, query)


def matches(viewer: User, words: list[str], *, any_word: bool = False) -> Subquery:
    """(conflict_id, score) of every conflict with an entry `viewer` may read that has all
    (or, for similarity, any) of `words`; partners match by public entries only."""
    base, condition, score = _matching(words, any_word)
    query = base.with_only_columns(
        SearchEntry.conflict_id.label("conflict_id"), func.min(score).label("score")
    ).where(condition)
    if not viewer.is_staff:
        query = query.where(SearchEntry.visibility == PUBLIC)
    return query.group_by(SearchEntry.conflict_id).subquery("search_matches")


@dataclass(frozen=True)
class Snippet:
    """The best-matching passage of a conflict, split into plain and matched pieces."""

    segments: tuple[search_text.Segment, ...]


def snippets(viewer: User, text: str | None, conflict_ids: Iterable[int]) -> dict[int, Snippet]:
    """For each conflict of a result page, its best passage with the matched words marked:
    one statement for the page, over the same entries `matches()` lets the viewer match."""
    words = search_text.terms(text)
    ids = list(conflict_ids)
    if not words or not ids:
        return {}
    base, condition, score = _matching(words, any_word=False)
    if _is_sqlite():
        passage = func.snippet(
            literal_column(FTS_TABLE),
            -1,
            search_text.HIT_START,
            search_text.HIT_END,
            "…",
            SNIPPET_WORDS,
        )
    else:
        passage = func.ts_headline(
            _config,
            func.concat_ws(" ", SearchEntry.title, SearchEntry.body),
            func.to_tsquery(_config, search_text.tsquery(words)),
            f"StartSel={search_text.HIT_START}, StopSel={search_text.HIT_END}, "
            f"MaxWords={SNIPPET_WORDS * 2}, MinWords={SNIPPET_WORDS}, ShortWord=2",
        )
    query = (
        base.with_only_columns(SearchEntry.conflict_id, score.label("score"), passage)
        .where(condition, SearchEntry.conflict_id.in_(ids))
        .order_by(SearchEntry.conflict_id, score, SearchEntry.id)
    )
    if not viewer.is_staff:
        query = query.where(SearchEntry.visibility == PUBLIC)
    best: dict[int, Snippet] = {}
    for conflict_id, _score, marked in db.session.execute(query):
        if conflict_id not in best:
            best[conflict_id] = Snippet(tuple(search_text.segments(marked)))
    return best


def similar_to(viewer: User, title: str, description: str | None) -> Subquery | None:
    """(conflict_id, score) of conflicts sharing words with this title and description, most
    alike first; None when the text has no word worth comparing."""
    words = search_text.similarity_terms(title, description)
    if not words:
        return None
    return matches(viewer, words, any_word=True)
