"""The full-text index: what goes in (a consumer of the timeline) and how it is asked.

Every timeline entry with text becomes one `SearchEntry` row with the entry's visibility
and its conflict's partner, written by `timeline.record()` as it writes the entry: the index
follows the one writer of entries, not the news of them (an acknowledgement note is recorded
but not announced). The engine indexes the rows itself (see models/search.py). Queries
come back as a subquery of (conflict_id, score), lower score first, for `conflict_search` to
join to its scoped conflicts: who sees which conflict stays decided there; which texts a
viewer may match by (public ones only, for partners) is decided here, in the same statement,
and is part of the match itself: each engine finds a partner's public entries directly,
without reading every partner's (SQLite: the scope token; PostgreSQL: the partner's index
walk for similarity, its prefixed lexemes for a search).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    Float,
    Integer,
    Subquery,
    Text,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY
from sqlalchemy.sql.elements import ColumnElement

from tracker.database import insert_if_absent
from tracker.domain import search_text
from tracker.extensions import db
from tracker.models import ConflictEvent, SearchEntry, User
from tracker.models.conflict import PUBLIC
from tracker.models.search import (
    FTS_TABLE,
    PARTNER_VECTOR_COLUMN,
    SCOPE_COLUMN,
    TEXT_CONFIG,
    TITLES_FTS_TABLE,
    VECTOR_COLUMN,
    partner_lexeme_prefix,
    scope_token,
)

_fts = table(FTS_TABLE, column("rowid"), column("rank"))
_titles_fts = table(TITLES_FTS_TABLE, column("rowid"), column("rank"))
_vector = literal_column(f"search_entries.{VECTOR_COLUMN}")
_partner_vector = literal_column(f"search_entries.{PARTNER_VECTOR_COLUMN}")
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
        "partner_id": entry.conflict.partner_id,
        "event_id": entry.id,
        "visibility": entry.visibility,
        "title": search_text.indexable(title),
        "body": search_text.indexable(body),
        "created_at": entry.created_at,
    }
    insert_if_absent(db.session, SearchEntry, values, ["event_id"])


# The rule of index_entry(), as one statement over entries not yet indexed.
_MISSING = text(
    """
INSERT INTO search_entries (conflict_id, partner_id, event_id, visibility, title, body, created_at)
SELECT e.conflict_id, c.partner_id, e.id, e.visibility,
       CASE WHEN e.kind = 'submitted' THEN coalesce(c.ref, '') || ' ' || c.title ELSE '' END,
       CASE WHEN e.kind = 'submitted' THEN c.description ELSE e.body END,
       e.created_at
FROM conflict_events e JOIN conflicts c ON c.id = e.conflict_id
WHERE (e.kind = 'submitted' OR (e.body IS NOT NULL AND e.body <> ''))
  AND NOT EXISTS (SELECT 1 FROM search_entries s WHERE s.event_id = e.id)
ORDER BY e.id
"""
)


def index_missing() -> int:
    """Index every timeline entry that has text and no search entry yet (history written in
    bulk, as the benchmarks do, or rows restored from elsewhere); commits. How many."""
    added = db.session.execute(_MISSING).rowcount
    db.session.commit()
    return added


def _is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


# Ranking reads every matching entry; a common word matches most of them. Only the newest
# entries that match are ranked, so a search costs the same at 1,000 conflicts as at a
# million: the best of the newest SEARCH_CANDIDATES matches (SIMILAR_CANDIDATES for
# similarity, which matches any word), each viewer's scope applied before the cut.
SEARCH_CANDIDATES = 1_000
SIMILAR_CANDIDATES = 500


# What the index makes of a search's last word: a row per lexeme it stems to (none for a
# stop word), with how many times the word holds it ("ha_ha": 'ha' twice) and the
# lexemes of the index that begin with it (at most two: whether there is more than one is
# all that matters). The range is a byte range of the "C"-collated column, which is how a
# tsquery beginning compares; chr(1114111), the highest code point, needs a UTF8 database,
# as the English configuration's text does (0027_search_lexemes; the table is
# models.search.LEXEME_TABLE). And which words are rare (see _Words): `rare` whether the
# lexeme the last word would be matched as, `earlier_rare` whether any earlier word's, is
# outside the column's (VECTOR_COLUMN's) most common elements; none is before the first
# ANALYZE. One row with no stem when the last word is a stop word.
_BEGUN = text(
    """
WITH common AS (
    SELECT CAST(CAST(most_common_elems AS text) AS text[]) AS lexemes FROM pg_stats
    WHERE schemaname = current_schema() AND tablename = :table AND attname = :column
      AND most_common_elems IS NOT NULL
), earlier AS (
    SELECT EXISTS (
        SELECT 1 FROM common,
               unnest(tsvector_to_array(to_tsvector(CAST(:config AS regconfig), :earlier)))
               AS e(lexeme)
        WHERE NOT e.lexeme = ANY (common.lexemes)
    ) AS rare
)
SELECT s.stem, s.places, s.lexemes, s.rare, earlier.rare AS earlier_rare
FROM earlier LEFT JOIN LATERAL (
    SELECT w.stem, cardinality(w.positions) AS places, b.lexemes,
           EXISTS (SELECT 1 FROM common
                   WHERE NOT coalesce(b.lexemes[1], w.stem) = ANY (common.lexemes)) AS rare
    FROM unnest(to_tsvector(CAST(:config AS regconfig), :word)) AS w(stem, positions, weights)
    CROSS JOIN LATERAL (
        SELECT ARRAY(SELECT DISTINCT x.lexeme FROM search_lexemes x
                     WHERE x.lexeme >= w.stem AND x.lexeme < w.stem || chr(1114111)
                     ORDER BY 1 LIMIT 2) AS lexemes
    ) AS b
) AS s ON true
"""
)


@dataclass(frozen=True)
class _Words:
    """PostgreSQL's query of a search's words, and whether one of the words is rare.

    A word outside the column's most common elements is estimated at half the least common
    one's frequency, however rare it is: at 1,000,000 conflicts 7,443 of 2.39 M entries for
    a word 50 entries hold. Above about 7,000 estimated rows the planner walks the primary
    key newest first for `ORDER BY id DESC LIMIT 1000`, expecting the cut within a seventh
    of the table, and reads all of it (622 ms); the GIN index and a sort take 3 ms. An
    all-words search with a rare whole word matches no more entries than that word, so
    those are read from the index first (see matches()); common words keep the walk. A
    word grown common since the last ANALYZE still counts as rare until autovacuum's next
    one: its matches are all read and sorted (bounded by what was written since)."""

    query: ColumnElement
    rare: bool = False


def _tsquery(words: list[str], any_word: bool, titles_only: bool) -> _Words:
    """PostgreSQL's query of the words. A search's last word is a beginning; when it
    begins one lexeme of the index only (a word typed out: "defect" begins 'defect'), it
    is matched as that whole lexeme, which GIN intersects with the other words by
    skipping instead of reading every posting list of the beginning first (at 100,000
    conflicts `inspection batch defect` 60 -> 32 ms; 0027_search_lexemes). The entries
    matched are the same: the table holds every lexeme of every entry, written in the
    entry's own transaction. A beginning of several lexemes stays a beginning: as their
    alternatives (`'a' | 'b' | …`) the planner estimates each rare one at the least common
    lexeme's frequency, sums them, and walks the primary key past every entry (11 rare
    alternatives: 350 ms instead of 3). So does a word the parser makes more than one
    token of ("foo_bar", "ha_ha"): its beginning is a phrase (`'ha':* <-> 'ha':*`).

    Two statements, so under READ COMMITTED an entry committed between them with a new
    lexeme of that beginning may be left out, as it may between a page and its total."""
    shape = {"any_word": any_word, "titles_only": titles_only}
    beginning = func.to_tsquery(_config, search_text.tsquery(words, **shape))
    if any_word or titles_only or not words:
        return _Words(beginning)
    rows = db.session.execute(
        _BEGUN,
        {
            "word": words[-1],
            "earlier": " ".join(words[:-1]),
            "config": TEXT_CONFIG,
            "table": SearchEntry.__tablename__,
            "column": VECTOR_COLUMN,
        },
    ).all()
    # One row at least: a last word that is a stop word has no stem, and the earlier words
    # are still asked about.
    earlier_rare = bool(rows[0].earlier_rare)
    stems = [row for row in rows if row.stem is not None]
    if len(stems) != 1 or stems[0].places != 1 or len(stems[0].lexemes) > 1:
        return _Words(beginning, rare=earlier_rare)
    # No lexeme begins with the stem: no entry has it, nor the stem, which then matches none.
    (whole,) = stems[0].lexemes or [stems[0].stem]
    last = cast(search_text.quoted_lexeme(whole), TSQUERY)  # not stemmed again
    rare = earlier_rare or stems[0].rare
    if len(words) == 1:
        return _Words(last, rare=rare)
    earlier = func.to_tsquery(_config, search_text.tsquery(words[:-1], whole=True))
    return _Words(earlier.op("&&", return_type=TSQUERY)(last), rare=rare)


def _matching(
    words: list[str],
    any_word: bool,
    titles_only: bool,
    partner_id: int | None,
    query: ColumnElement | None,
) -> tuple[Iterable, ColumnElement, ColumnElement, ColumnElement]:
    """The FROM, the match condition, the score (lower is better; PostgreSQL: the tsvector
    to rank after the cut, see _late_rank) and the newest-first order of entries for this
    engine; with `partner_id`, of that partner's public entries only, found as such by the
    engine (see matches())."""
    shape = {"any_word": any_word, "titles_only": titles_only}
    if _is_sqlite():
        # Similarity (whole words of titles) asks the titled entries' own table: in the
        # whole index, the title words' doclists run through every newer comment first.
        fts, name = (_titles_fts, TITLES_FTS_TABLE) if titles_only else (_fts, FTS_TABLE)
        condition = literal_column(name).op("MATCH")(_fts5_match(words, shape, partner_id))
        joined = select(SearchEntry).join(fts, fts.c.rowid == SearchEntry.id)
        # FTS5 yields matches in rowid order: newest first, stopping at the cut. Similarity
        # ranks by bm25 (over titles only: see SIMILAR_CANDIDATES); a search by word hits
        # (see _word_hits).
        score = fts.c.rank if titles_only else _word_hits(words)
        return joined, condition, score, fts.c.rowid.desc()
    condition = _vector.op("@@")(query)
    if titles_only and partner_id is None:
        # The condition of ix_search_entries_titled: a staff similarity walks the entries
        # with a title newest first, not the primary key past every comment.
        condition = condition & (SearchEntry.title != "")
    elif partner_id is not None and not titles_only:
        # A partner's words in the partner's own lexemes: their word beginnings expand over
        # that partner's posting lists of ix_search_entries_partner_vector only.
        condition = _partner_vector.op("@@")(_partner_query(query, partner_id))
        if any("_" in word for word in words):
            # A word the parser splits ("foo_bar") is a phrase (`'foo' <-> 'bar'`), which
            # the partner's lexemes cannot hold (array_to_tsvector keeps no positions): they
            # find the candidates with every part, the entry's own tsvector the phrase.
            condition = condition & _vector.op("@@")(query)
    # Ranked after the cut (see matches()): the candidates carry their tsvector out.
    return select(SearchEntry), condition, _vector, SearchEntry.id.desc()


def _late_rank(vector: ColumnElement, query: ColumnElement) -> ColumnElement:
    """PostgreSQL's score of a candidate (lower is better), computed over the cut's rows
    only: in the candidates' own SELECT the planner evaluates ts_rank for every match
    before the sort keeps the newest (8,989 ranks for 1,000 kept: 18 of 45 ms)."""
    return -func.ts_rank(vector, query)


def _partner_query(query: ColumnElement, partner_id: int) -> ColumnElement:
    """The tsquery with each lexeme prefixed as PARTNER_VECTOR_COLUMN prefixes a partner's:
    `'custom':* & 'paper':*` becomes `'p42_custom':* & 'p42_paper':*`, stemmed by the same
    configuration first (immutable, so the planner sees the constant query)."""
    prefixed = func.regexp_replace(
        cast(query, Text), "'([^']+)'", f"'{partner_lexeme_prefix(partner_id)}\\1'", "g"
    )
    # Positions are not kept there, so a phrase's parts are asked for each (see _matching).
    unphrased = func.regexp_replace(prefixed, "<(-|[0-9]+)>", "&", "g")
    return cast(unphrased, TSQUERY)


def _word_hits(words: list[str]) -> ColumnElement:
    """SQLite's rank of a search (lower is better): how many of the words the title (each
    weighing four) and the text contain, computed for the candidates alone.

    bm25 weighs words by how rare they are in the whole table and counts each word
    beginning's matches across it once per query, which at 100k conflicts costs more than
    finding the candidates; every candidate has every word, so what tells them apart is
    where the words are. Case is folded for ASCII letters, as lower() does."""
    score = None
    for word in words:
        for column_name, weight in (("title", 4), ("body", 1)):
            text_column = func.lower(getattr(SearchEntry, column_name))
            hit = (func.instr(text_column, word) > 0).cast(Integer) * weight
            score = hit if score is None else score + hit
    return -score


def _fts5_match(words: list[str], shape: dict, partner_id: int | None) -> str:
    """The words in the texts' columns only (so a typed "p42" never matches the scope
    column), and for a partner the token of their public entries: FTS5 intersects the
    two doclists itself, so a partner's newest matches come first without another's."""
    words_query = search_text.fts5_query(words, **shape)
    if not shape["titles_only"]:
        words_query = f"{{title body}} : ({words_query})"
    if partner_id is None:
        return words_query
    return f'({words_query}) AND {SCOPE_COLUMN} : "{scope_token(partner_id)}"'


def matches(
    viewer: User,
    words: list[str],
    *,
    any_word: bool = False,
    titles_only: bool = False,
    ranked: bool = True,
) -> Subquery:
    """(conflict_id, score) of every conflict with an entry `viewer` may read that has all
    (or, for similarity, any) of `words`; partners match by public entries of their own
    organisation's conflicts only. Ranked among the newest matching entries (see above).

    `ranked=False`: the same conflicts (the same cut) as (conflict_id) alone, for a count:
    neither engine then computes a rank (FTS5 computes bm25 only when it is selected)."""
    # A partner's person without a partner (none should exist) matches nothing: no id is 0.
    partner_id = None if viewer.is_staff else (viewer.partner_id or 0)
    searched = None if _is_sqlite() else _tsquery(words, any_word, titles_only)
    tsquery = None if searched is None else searched.query
    base, condition, score, newest_first = _matching(
        words, any_word, titles_only, partner_id, tsquery
    )
    columns = [SearchEntry.conflict_id.label("conflict_id")]
    if ranked:
        columns.append(score.label("score"))
    query = base.with_only_columns(*columns).where(condition)
    if partner_id is not None:
        # Also as columns: PostgreSQL walks ix_search_entries_partner_newest backwards by
        # them for a similarity (a search matches partner_vector, which holds these rows'
        # lexemes only); on SQLite FTS5 has already kept only these rows (the scope token).
        query = query.where(SearchEntry.partner_id == partner_id, SearchEntry.visibility == PUBLIC)
    cut = SIMILAR_CANDIDATES if any_word else SEARCH_CANDIDATES
    if searched is not None and searched.rare and partner_id is None:
        # Every match from the GIN index, then the newest of them (see _Words): a fence
        # the planner cannot push the order and the cut through.
        found = query.add_columns(SearchEntry.id.label("entry_id")).cte("search_rare")
        found = found.prefix_with("MATERIALIZED")
        newest = select(*(found.c[c.name] for c in columns)).order_by(found.c.entry_id.desc())
        newest = newest.limit(cut)
    else:
        newest = query.order_by(newest_first).limit(cut)
    candidates = newest.subquery("search_candidates")
    if not ranked:
        return select(candidates.c.conflict_id).distinct().subquery("search_matches")
    score = candidates.c.score
    if tsquery is not None:
        score = _late_rank(score, tsquery)
    return (
        select(candidates.c.conflict_id, func.min(score).label("score"))
        .group_by(candidates.c.conflict_id)
        .subquery("search_matches")
    )


def matched(viewer: User, words: list[str]) -> Subquery:
    """matches() read once, as literal (conflict_id, score) rows for the statements of one
    page (the page and its total) to share: the engine finds and ranks the candidates once
    per request instead of once per statement."""
    rows = db.session.execute(select(matches(viewer, words))).all()
    ids = [row.conflict_id for row in rows]
    scores = [float(row.score) for row in rows]
    if _is_sqlite():
        pairs = func.json_each(json.dumps([list(pair) for pair in zip(ids, scores, strict=True)]))
        value = pairs.table_valued("value").c.value
        found = select(
            func.json_extract(value, "$[0]").label("conflict_id"),
            func.json_extract(value, "$[1]").label("score"),
        ).subquery("search_matches")
        return found
    # Each list as one text the server splits (immutable, so the planner sees constant
    # arrays and their length): as array parameters psycopg dumps every element through a
    # quoting check, 2,000 per statement for a page of common words (about 4 ms a search).
    arrays = func.unnest(
        cast(func.string_to_array(",".join(map(str, ids)), ","), ARRAY(Integer)),
        cast(func.string_to_array(",".join(map(repr, scores)), ","), ARRAY(Float)),
    )
    literal_rows = arrays.table_valued("conflict_id", "score").render_derived()
    return select(literal_rows.c.conflict_id, literal_rows.c.score).subquery("search_matches")


@dataclass(frozen=True)
class Snippet:
    """The best-matching passage of a conflict, split into plain and matched pieces."""

    segments: tuple[search_text.Segment, ...]


def snippets(viewer: User, text: str | None, conflict_ids: Iterable[int]) -> dict[int, Snippet]:
    """For each conflict of a result page, its best passage with the matched words marked:
    one statement reads the page's entries `viewer` may match by (public ones, for
    partners); the passage is cut here, the same way on both engines."""
    words = search_text.terms(text)
    ids = list(conflict_ids)
    if not words or not ids:
        return {}
    query = select(
        SearchEntry.conflict_id, SearchEntry.title, SearchEntry.body, SearchEntry.id
    ).where(SearchEntry.conflict_id.in_(ids))
    if not viewer.is_staff:
        query = query.where(SearchEntry.visibility == PUBLIC)
    # The entry with most of the words (the first of those) is cut into a passage; the
    # others are only counted.
    count = search_text.counter(words)
    best: dict[int, tuple[int, str]] = {}
    for conflict_id, title, body, _ in db.session.execute(query.order_by(SearchEntry.id)):
        text = " — ".join(t for t in (title, body) if t)
        found = count(text)
        if conflict_id not in best or found > best[conflict_id][0]:
            best[conflict_id] = (found, text)
    return {
        cid: Snippet(tuple(search_text.passage(text, words)[1])) for cid, (_, text) in best.items()
    }


def similar_to(viewer: User, title: str, description: str | None) -> Subquery | None:
    """(conflict_id, score) of conflicts whose titles share words with this title and
    description, most alike first; None when the text has no word worth comparing.

    Titles only, whole words: a title says what a conflict is about, and comments (or a
    prefix) would match nearly every conflict and rank them all."""
    words = search_text.similarity_terms(title, description)
    if not words:
        return None
    return matches(viewer, words, any_word=True, titles_only=True)
