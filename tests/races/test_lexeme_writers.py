"""Two writers adding the same new words at once, in opposite orders, neither wait for the
other nor deadlock (PostgreSQL: search_lexemes has no unique key, see 0027_search_lexemes),
and every word is found by its beginning after both commit."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from tests.factories import make_conflict, make_manager, make_partner_user
from tracker.extensions import db
from tracker.models import ConflictEvent
from tracker.services import conflict_search, conflicts, search_index
from tracker.services.conflict_search import ConflictFilters

ROUNDS = 3


def _found(viewer, words: str) -> list[int]:  # type: ignore[no-untyped-def]
    page = conflict_search.queue_page(viewer, ConflictFilters(search=words), 1, 50)
    return sorted(c.id for c in page.items)


def _index_in_turn(app, event_ids: list[int], halfway: threading.Barrier) -> None:  # type: ignore[no-untyped-def]
    """Index two entries in one transaction, meeting the other writer between them: each
    then holds an uncommitted new word the other is about to add."""
    with app.app_context():
        try:
            # A wait on the other writer would be an error within seconds, not a hang.
            db.session.execute(text("SET LOCAL lock_timeout = '5s'"))
            first, second = (db.session.get(ConflictEvent, i) for i in event_ids)
            search_index.index_entry(first)
            halfway.wait(timeout=10)
            search_index.index_entry(second)
            db.session.commit()
        finally:
            db.session.remove()


def test_two_writers_adding_the_same_new_words_in_opposite_orders_both_commit(app) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's table of lexemes; SQLite writes one at a time")
    user, manager = make_partner_user(), make_manager()
    conflict = make_conflict(user, title="Harbour inspection", description="Routine.")
    for round_ in range(ROUNDS):
        alpha, omega = f"alphaword{round_}x", f"omegaword{round_}x"
        ids = []
        for body in (alpha, omega, omega, alpha):
            conflicts.comment(manager, conflict.id, f"Seen {body}", now=conflict.created_at)
            ids.append(
                db.session.scalar(select(ConflictEvent.id).order_by(ConflictEvent.id.desc()))
            )
        # As if never indexed: the entries and their new words are written again below.
        db.session.execute(
            text("DELETE FROM search_entries WHERE event_id = ANY(:ids)"), {"ids": ids}
        )
        db.session.execute(
            text("DELETE FROM search_lexemes WHERE lexeme IN (:a, :o)"), {"a": alpha, "o": omega}
        )
        db.session.commit()
        halfway = threading.Barrier(2)
        errors: list[BaseException] = []

        def run(pair: list[int], halfway=halfway, errors=errors) -> None:  # type: ignore[no-untyped-def]
            try:
                _index_in_turn(app, pair, halfway)
            except BaseException as exc:  # noqa: BLE001  (judged below)
                errors.append(exc)

        threads = [
            threading.Thread(target=run, args=(ids[0:2],)),  # alpha, then omega
            threading.Thread(target=run, args=(ids[2:4],)),  # omega, then alpha
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in threads)
        assert errors == []
        db.session.expire_all()
        lexemes = db.session.scalars(
            text("SELECT DISTINCT lexeme FROM search_lexemes WHERE lexeme IN (:a, :o)"),
            {"a": alpha, "o": omega},
        ).all()
        assert sorted(lexemes) == [alpha, omega]
        assert _found(manager, f"alphaword{round_}") == [conflict.id]
        assert _found(manager, f"seen omegaword{round_}") == [conflict.id]
