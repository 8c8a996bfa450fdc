"""A rare word is read from PostgreSQL's GIN index, not found by walking every entry newest
first (search_index._Words): the planner's estimate of a word outside the column's most
common elements grows with the table, and past the cut it walks the primary key."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.factories import make_conflict, make_manager, make_partner_user
from tests.statements import counting_statements
from tracker.extensions import db
from tracker.services import conflict_search
from tracker.services.conflict_search import ConflictFilters

_VECTOR_STATISTICS = "ALTER TABLE search_entries ALTER COLUMN search_vector SET STATISTICS {}"


@pytest.fixture
def analysed(app):  # type: ignore[no-untyped-def]
    """Forty conflicts about invoices (a common word once analysed), one about a zeppelin.

    A table this small keeps every lexeme among its most common elements; with ten of
    them kept (a statistics target of 1) only the most common are, as in a large table."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner and statistics")
    user = make_partner_user()
    invoices = [
        make_conflict(user, title=f"Invoice {4700 + i} paid late", description="Terms.").id
        for i in range(40)
    ]
    zeppelin = make_conflict(user, title="Zeppelin invoice lost at the dock").id
    db.session.execute(text(_VECTOR_STATISTICS.format(1)))
    db.session.execute(text("ANALYZE search_entries"))
    db.session.commit()
    common = db.session.scalar(
        text(
            "SELECT CAST(CAST(most_common_elems AS text) AS text[]) FROM pg_stats"
            " WHERE tablename = 'search_entries' AND attname = 'search_vector'"
        )
    )
    assert "invoic" in common and "zeppelin" not in common  # the premise
    yield invoices, zeppelin
    db.session.rollback()
    db.session.execute(text(_VECTOR_STATISTICS.format(-1)))  # the default again, and
    db.session.execute(text("ANALYZE search_entries"))  # statistics the next tests expect
    db.session.commit()


def _searched(words: str) -> tuple[list[int], list[str]]:
    """The conflicts a manager's queue search finds, and the statements it ran."""
    manager = make_manager()
    with counting_statements() as statements:
        page = conflict_search.queue_page(manager, ConflictFilters(search=words), 1, 100)
    return sorted(c.id for c in page.items), statements


def test_a_rare_word_is_read_from_the_index_and_a_common_one_walks_newest_first(
    analysed,
) -> None:
    invoices, zeppelin = analysed
    found, statements = _searched("zeppelin")
    assert found == [zeppelin]
    assert any("search_rare AS MATERIALIZED" in s for s in statements)

    found, statements = _searched("invoice")
    assert found == sorted([*invoices, zeppelin])
    assert not any("search_rare" in s for s in statements)


def test_a_rare_word_bounds_every_word_with_it_whatever_comes_last(analysed) -> None:
    """An earlier rare word counts too, whatever the last word is: a whole word, a word
    begun ("inv": 'invoic' alone), a beginning of several lexemes ("l": 'late', 'lost'), or
    a stop word the index keeps no stem of ("the")."""
    invoices, zeppelin = analysed
    for words in (
        "zeppelin invoice",
        "zeppelin inv",
        "zeppelin l",
        "zeppelin the",
        "invoice zeppelin",
    ):
        found, statements = _searched(words)
        assert found == [zeppelin], words
        assert any("search_rare AS MATERIALIZED" in s for s in statements), words
    found, statements = _searched("invoice paid")  # the zeppelin's description says "paid"
    assert found == sorted([*invoices, zeppelin])
    assert not any("search_rare" in s for s in statements)
