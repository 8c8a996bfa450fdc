"""A search's last word, typed out, is matched as the one whole lexeme it begins
(PostgreSQL, 0027_search_lexemes); the matches are those of the beginning, on both engines."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.factories import make_conflict, make_manager, make_partner, make_partner_user
from tests.statements import sent_statements
from tracker.domain import search_text
from tracker.extensions import db
from tracker.services import conflict_search, conflicts, search_index
from tracker.services.conflict_search import ConflictFilters


def _queue(viewer, words: str) -> list[int]:  # type: ignore[no-untyped-def]
    page = conflict_search.queue_page(viewer, ConflictFilters(search=words), 1, 50)
    return sorted(c.id for c in page.items)


def _portal(viewer, words: str) -> list[int]:  # type: ignore[no-untyped-def]
    page = conflict_search.portal_page(viewer, ConflictFilters(search=words), 1, 50)
    return sorted(c.id for c in page.items)


def _postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def _search_parameters(work) -> list[str]:  # type: ignore[no-untyped-def]
    """The text parameters of the statements `work` runs (the query's words among them)."""
    with sent_statements() as sent:
        work()
    return [
        value
        for _, parameters in sent
        if isinstance(parameters, dict)
        for value in parameters.values()
        if isinstance(value, str)
    ]


@pytest.fixture
def story(app):  # type: ignore[no-untyped-def]
    """Three of one partner's conflicts found by `inspection`, two of them by `defect…`
    ('defect' and 'defector' on PostgreSQL), and one of another partner's."""
    north = make_partner_user(partner=make_partner(name="Northwind"))
    blue = make_partner_user(partner=make_partner(name="Bluefin"))
    defective = make_conflict(north, title="Inspection found a defective batch", description="Q3.")
    defectors = make_conflict(north, title="Inspection of the gate", description="Defectors.")
    passed = make_conflict(north, title="Inspection passed late", description="No findings.")
    theirs = make_conflict(blue, title="Inspection found defective pallets", description="Q3.")
    return north, blue, defective.id, defectors.id, passed.id, theirs.id


def test_a_beginning_matches_what_it_begins_whatever_the_index_does_with_it(story) -> None:
    north, _, defective, defectors, passed, theirs = story
    manager = make_manager()
    assert _queue(manager, "inspection defect") == [defective, defectors, theirs]
    assert _queue(manager, "inspection defecto") == [defectors]
    assert _queue(manager, "inspection defe") == [defective, defectors, theirs]
    assert _queue(manager, "inspection batch") == [defective]
    assert _queue(manager, "inspection pass") == [passed]
    assert _queue(manager, "inspection zeppelin") == []
    assert _portal(north, "inspection defect") == [defective, defectors]
    assert _portal(north, "inspection defecto") == [defectors]
    assert _portal(north, "insp bat") == []  # an earlier word is whole: no "insp"
    assert _portal(north, "inspection bat") == [defective]


def test_one_lexeme_begun_is_matched_whole_and_several_stay_a_beginning(story) -> None:
    if not _postgresql():
        pytest.skip("PostgreSQL's index; FTS5 keeps a prefix index of its own")
    north, _, defective, *_ = story
    manager = make_manager()

    def asked(viewer, words: str) -> str:  # type: ignore[no-untyped-def]
        found = _search_parameters(lambda: _queue(viewer, words))
        return " ".join(p for p in found if "'" in p)  # the query's text parameters

    # 'defect' and 'defector' both begin with 'defect': the beginning stays a beginning.
    assert ":*" in asked(manager, "inspection defect")
    # Only 'defector' begins with 'defecto', only 'batch' with 'bat': whole lexemes.
    assert asked(manager, "inspection defecto") == "'inspection' 'defector'"
    assert asked(manager, "bat") == "'batch'"
    # A partner's lexemes are its own, prefixed the same way from the whole lexeme.
    assert _search_parameters(lambda: _portal(north, "bat")).count("'batch'") == 1
    assert _portal(north, "bat") == [defective]
    # A stop word has no lexeme to begin (to_tsquery drops it, as before).
    assert ":*" in asked(manager, "inspection the")


def test_every_lexeme_of_the_index_is_in_the_table_in_the_same_transaction(app) -> None:
    if not _postgresql():
        pytest.skip("PostgreSQL's index")
    user, manager = make_partner_user(), make_manager()
    conflict = make_conflict(user, title="Zanzibar shipment", description="Held at the quay.")
    conflicts.comment(manager, conflict.id, "Quayside xylophones", now=conflict.created_at)
    conflicts.comment(
        manager, conflict.id, "Yodelling forwarder", now=conflict.created_at, internal=True
    )
    missing = db.session.execute(
        text(
            "SELECT DISTINCT w FROM search_entries, unnest(tsvector_to_array(search_vector)) w "
            "EXCEPT SELECT lexeme FROM search_lexemes"
        )
    ).all()
    assert missing == []
    assert _queue(manager, "xylo") == [conflict.id] == _queue(manager, "yodel")
    assert _portal(user, "yodel") == []  # an internal note's word, found by staff only
    # Entries indexed in bulk (index_missing, one INSERT … SELECT) add theirs as well.
    conflicts.comment(manager, conflict.id, "Walrus sighted", now=conflict.created_at)
    db.session.execute(text("DELETE FROM search_entries WHERE body LIKE 'Walrus%'"))
    db.session.execute(text("DELETE FROM search_lexemes WHERE lexeme LIKE 'walrus%'"))
    db.session.commit()
    assert _queue(manager, "walr") == []
    assert search_index.index_missing() == 1
    assert _queue(manager, "walr") == [conflict.id]
    conflicts.comment(manager, conflict.id, "Walrus again", now=conflict.created_at)
    lexemes = db.session.scalars(
        text("SELECT lexeme FROM search_lexemes WHERE lexeme LIKE 'walrus%'")
    ).all()
    assert lexemes == ["walrus"]  # a word the table has adds no row


def test_a_last_word_of_several_tokens_stays_a_phrase_of_beginnings(app) -> None:
    """ "ha_ha" is 'ha' twice to the parser and "foo_bar" two lexemes: as a beginning each
    is a phrase, which one whole lexeme is not."""
    user, manager = make_partner_user(), make_manager()
    laughed = make_conflict(user, title="Joke ha_ha", description="Told twice.")
    once = make_conflict(user, title="Joke ha", description="Told once.")
    joined = make_conflict(user, title="Joke foo_bar", description="Joined.")
    apart = make_conflict(user, title="Joke bar foo", description="Apart.")
    assert _queue(manager, "joke ha_ha") == [laughed.id]
    assert _queue(manager, "joke ha") == sorted([laughed.id, once.id])
    assert _queue(manager, "joke foo_bar") == [joined.id]
    assert apart.id not in _queue(manager, "joke foo_bar")
    assert _portal(user, "joke ha_ha") == [laughed.id]
    assert _portal(user, "foo_bar joke") == [joined.id]  # an earlier word, the same phrase
    assert _portal(user, "joke foo_bar") == [joined.id]


def test_an_entry_changed_by_hand_adds_its_new_lexemes(app) -> None:
    if not _postgresql():
        pytest.skip("PostgreSQL's index")
    user, manager = make_partner_user(), make_manager()
    conflict = make_conflict(user, title="Harbour inspection", description="Routine.")
    db.session.execute(
        text("UPDATE search_entries SET body = 'Quokka spotted' WHERE conflict_id = :c"),
        {"c": conflict.id},
    )
    db.session.commit()
    assert _queue(manager, "quok") == [conflict.id]
    assert db.session.scalars(
        text("SELECT lexeme FROM search_lexemes WHERE lexeme LIKE 'quokka%'")
    ).all() == ["quokka"]


def test_quoted_lexemes_are_taken_as_they_are() -> None:
    assert search_text.quoted_lexeme("defect") == "'defect'"
    assert search_text.quoted_lexeme("o'neil") == "'o''neil'"
    assert search_text.quoted_lexeme("a\\b") == "'a\\\\b'"
    assert search_text.tsquery(["inspection", "batch"], whole=True) == "'inspection' & 'batch'"
    assert search_text.tsquery(["inspection", "batch"]) == "'inspection' & 'batch':*"
