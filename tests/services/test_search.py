"""Full-text search: comments count, ranking, snippets, and the viewer's scope held exactly."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_conflict, make_manager, make_partner, make_partner_user
from tests.statements import counting_statements
from tracker.domain import search_text
from tracker.extensions import db
from tracker.models import SearchEntry
from tracker.services import conflict_search, conflicts
from tracker.services.conflict_search import ConflictFilters


def _found(viewer, text: str) -> list[int]:  # type: ignore[no-untyped-def]
    page = conflict_search.portal_page(viewer, ConflictFilters(search=text), 1, 50)
    return [c.id for c in page.items]


def _queue(viewer, text: str) -> list[int]:  # type: ignore[no-untyped-def]
    page = conflict_search.queue_page(viewer, ConflictFilters(search=text), 1, 50)
    return [c.id for c in page.items]


def test_comments_are_searched_too(app) -> None:
    user, manager = make_partner_user(), make_manager()
    quiet = make_conflict(user, title="Rebate missing", description="Q3 rebate not credited.")
    commented = make_conflict(user, title="Shipment delayed", description="Two days late.")
    conflicts.comment(
        user, commented.id, "The forwarder lost the customs papers.", now=quiet.created_at
    )
    assert _found(user, "customs papers") == [commented.id]
    assert _queue(manager, "forwarder") == [commented.id]
    assert _found(user, "rebate") == [quiet.id]


def test_words_match_their_beginnings_and_other_forms(app) -> None:
    user = make_partner_user()
    conflict = make_conflict(user, title="Invoices paid late", description="Payment terms ignored.")
    assert _found(user, "invoice") == [conflict.id]
    assert _found(user, "pay") == [conflict.id]
    assert _found(user, "INVOICES late") == [conflict.id]
    assert _found(user, "invoices punctual") == []  # every word must be there


def test_only_the_last_word_matches_as_a_beginning(app) -> None:
    user, manager = make_partner_user(), make_manager()
    conflict = make_conflict(user, title="Invoices paid late", description="Payment terms ignored.")
    assert _found(user, "payments ter") == [conflict.id]  # an earlier word in another form
    assert _queue(manager, "invoice pai") == [conflict.id]
    assert _found(user, "pay terms") == []  # an earlier word is a whole word, not a beginning
    assert _queue(manager, "inv late") == []


def test_ranks_are_the_same_whether_read_for_a_page_or_in_one_statement(app) -> None:
    user, manager = make_partner_user(), make_manager()
    titled = make_conflict(user, title="Pallets at the wrong dock", description="Dock 4.")
    mentioned = make_conflict(user, title="Shipment delayed", description="Pallets were wet.")
    expected = [titled.id, mentioned.id]
    assert _queue(manager, "pallets") == expected
    rows = conflict_search.api_search_page(manager, ConflictFilters(search="pallets"), 0, 25)
    assert [c.id for c in rows] == expected


def test_a_title_match_ranks_above_a_mention_in_the_text(app) -> None:
    user = make_partner_user()
    mentioned = make_conflict(
        user, title="Shipment delayed", description="Pallets waited; the pallets were wet."
    )
    titled = make_conflict(user, title="Pallets at the wrong dock", description="Dock 4.")
    assert _found(user, "pallets") == [titled.id, mentioned.id]


def test_a_partner_never_finds_another_partners_conflict(app) -> None:
    north = make_partner_user(partner=make_partner(name="Northwind"))
    blue = make_partner_user(partner=make_partner(name="Bluefin"))
    theirs = make_conflict(blue, title="Cartel pricing suspicion", description="Pricing.")
    conflicts.comment(blue, theirs.id, "Our pricing question", now=theirs.created_at)
    assert _found(north, "pricing") == []
    assert _found(north, theirs.ref) == []
    assert _found(blue, "pricing") == [theirs.id]
    assert set(_queue(make_manager(), "pricing")) == {theirs.id}


def test_internal_notes_are_found_by_staff_only(app) -> None:
    user, manager = make_partner_user(), make_manager()
    conflict = make_conflict(user, title="Delivery slot missed", description="Slot 7 missed.")
    conflicts.comment(
        manager,
        conflict.id,
        "Carrier blacklisted internally",
        internal=True,
        now=conflict.created_at,
    )
    assert _queue(manager, "blacklisted") == [conflict.id]
    assert _found(user, "blacklisted") == []
    # nor does a partner's passage ever show the note's words
    for text in ("slot blacklisted", "slot", "blacklisted"):
        shown = conflict_search.snippets(user, ConflictFilters(search=text), [conflict])
        assert all("blacklisted" not in s.text for p in shown.values() for s in p.segments)
    staff = conflict_search.snippets(manager, ConflictFilters(search="blacklisted"), [conflict])
    assert [s.text for s in staff[conflict.id].segments if s.hit] == ["blacklisted"]


def test_the_snippet_marks_the_matched_words(app) -> None:
    user = make_partner_user()
    conflict = make_conflict(
        user, title="Shipment delayed", description="The forwarder lost the customs papers again."
    )
    snippets = conflict_search.snippets(user, ConflictFilters(search="customs"), [conflict])
    hits = [s.text for s in snippets[conflict.id].segments if s.hit]
    assert [h.lower() for h in hits] == ["customs"]
    assert "papers" in "".join(s.text for s in snippets[conflict.id].segments)


def test_an_entry_is_indexed_once_however_often_it_is_offered(app) -> None:
    from tracker.services import search_index

    conflict = make_conflict(make_partner_user())
    entries = db.session.query(SearchEntry).filter_by(conflict_id=conflict.id).all()
    assert len(entries) == 1
    event = entries[0]
    from tracker.models import ConflictEvent

    search_index.index_entry(db.session.get(ConflictEvent, event.event_id))
    db.session.commit()
    assert db.session.query(SearchEntry).filter_by(conflict_id=conflict.id).count() == 1


def test_punctuation_and_operators_alone_find_nothing(app) -> None:
    user = make_partner_user()
    make_conflict(user)
    for text in ['"', "*", "AND OR NOT", "-", "'':* & | !", "NEAR(", "()", "%_", "::"]:
        words = search_text.terms(text)
        assert _found(user, text) == [] or words, text


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(min_size=1, max_size=60))
def test_any_text_is_a_query_never_an_error(app, text: str) -> None:
    user = make_partner_user() if not hasattr(app, "_searcher") else app._searcher
    app._searcher = user
    found = _found(user, text)
    assert isinstance(found, list)
    conflict_search.snippets(user, ConflictFilters(search=text), [])


def test_entries_written_around_the_services_are_indexed_by_index_missing(app) -> None:
    from sqlalchemy import delete

    from tracker.services import search_index

    user = make_partner_user()
    conflict = make_conflict(user, title="Customs papers lost", description="At the border.")
    conflicts.comment(user, conflict.id, "Forwarder informed", now=conflict.created_at)
    db.session.execute(delete(SearchEntry))
    db.session.commit()
    assert _found(user, "customs") == []
    assert search_index.index_missing() == 2
    assert _found(user, "customs") == [conflict.id] == _found(user, "forwarder")
    assert search_index.index_missing() == 0


def test_a_search_page_counts_its_matches_without_ranking_them(app) -> None:
    """The total is the number of matching conflicts the viewer may see, from a count that
    asks the engine for no rank (FTS5's bm25 / ts_rank cost as much as the match)."""
    north = make_partner_user(partner=make_partner(name="Northwind"))
    blue = make_partner_user(partner=make_partner(name="Bluefin"))
    manager = make_manager()
    ours = [make_conflict(north, title=f"Pallet {n} damaged", description="Wet.") for n in range(4)]
    make_conflict(blue, title="Pallet of theirs damaged", description="Wet.")
    conflicts.comment(manager, ours[0].id, "pallet again", now=ours[0].created_at, internal=True)
    with counting_statements() as statements:
        page = conflict_search.portal_page(north, ConflictFilters(search="pallet"), 1, 2)
        queue = conflict_search.queue_page(
            manager, ConflictFilters(search="pallet", status="open"), 1, 2
        )
    assert (page.total, len(page.items)) == (4, 2)
    assert (queue.total, len(queue.items)) == (5, 2)
    counts = [s for s in statements if s.lstrip().upper().startswith("SELECT COUNT")]
    assert len(counts) == 2
    assert not any("rank" in s.lower() for s in counts)
