"""Similar past conflicts: a partner's own while raising one, any partner's for managers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import (
    RESOLUTION,
    WHEN,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tracker.extensions import db
from tracker.services import conflict_search, conflicts


def _earlier_resolved(user, manager, **values):  # type: ignore[no-untyped-def]
    conflict = make_conflict(user, **values)
    triage(conflict, manager)
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=WHEN + timedelta(hours=2))
    return conflict


def test_a_partner_sees_only_their_own_similar_conflicts(app) -> None:
    north = make_partner_user(partner=make_partner(name="Northwind"))
    blue = make_partner_user(partner=make_partner(name="Bluefin"))
    manager = make_manager()
    mine = _earlier_resolved(north, manager, title="Pallets delivered to the wrong dock")
    theirs = make_conflict(blue, title="Pallets delivered to the wrong warehouse")
    unrelated = make_conflict(north, title="Rebate not credited", description="Quarterly.")
    conflicts.comment(
        manager, unrelated.id, "pallets delivered wrong dock", internal=True, now=WHEN
    )
    found = conflict_search.similar(north, "Pallets at the wrong dock again", "")
    assert [c.id for c in found] == [mine.id]
    assert theirs.id in [c.id for c in conflict_search.similar(manager, "wrong dock pallets")]


def test_at_most_five_most_alike_first(app) -> None:
    user = make_partner_user()
    for i in range(7):
        make_conflict(user, title=f"Invoice {4700 + i} paid late", description="Payment terms.")
    best = make_conflict(user, title="Invoice paid late twice", description="Payment late twice.")
    found = conflict_search.similar(user, "Invoice paid late twice", "")
    assert len(found) == 5 and found[0].id == best.id


def test_a_rare_shared_word_outranks_words_every_candidate_shares(app) -> None:
    """The older title that shares two rare words comes before newer ones that share two
    common words (counting hits alone would tie them all and put the newest first)."""
    user = make_partner_user()
    rare = make_conflict(user, title="Dock closed on Friday", description="Closed dock.")
    for i in range(6):
        make_conflict(user, title=f"Invoice {4800 + i} paid late", description="Terms.")
    found = conflict_search.similar(user, "Invoice paid at the closed dock", "")
    assert found[0].id == rare.id and len(found) == 5


def test_another_form_of_a_word_counts_as_the_word(app) -> None:
    """ "Pallets" finds and ranks "Pallet": the title that shares the rarest word, in
    another form, comes first (ranking by the words' letters would score it nothing).
    SQLite's bm25 weighs words by rarity; PostgreSQL's ts_rank counts them (here two
    invoices' words against one), so there the invoices come first."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("rarity-weighted ranking is SQLite's (bm25)")
    user = make_partner_user()
    pallet = make_conflict(user, title="Pallet lost at the warehouse", description="Lost.")
    for i in range(6):
        make_conflict(user, title=f"Invoice {4900 + i} missing", description="Terms.")
    found = conflict_search.similar(user, "Pallets missing invoice", "")
    assert found[0].id == pallet.id


def test_without_javascript_the_check_button_shows_them_and_raises_nothing(browser) -> None:
    user, manager = make_partner_user(), make_manager()
    earlier = _earlier_resolved(user, manager, title="Pallets delivered to the wrong dock")
    browser.login(user.email)
    page = browser.post(
        "/portal/conflicts/new",
        {"title": "Wrong dock for pallets", "description": "", "check": "Check"},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert earlier.ref in html and "Paid with interest" in html  # status and resolution
    assert 'value="Wrong dock for pallets"' in html  # what was typed stays
    assert len(conflict_search.similar(user, "anything at all dock", "")) == 1  # nothing raised


def test_the_script_gets_the_same_list_as_a_fragment(browser) -> None:
    user = make_partner_user()
    earlier = make_conflict(user, title="Pallets delivered to the wrong dock")
    browser.login(user.email)
    html = browser.get(
        "/portal/conflicts/similar", query_string={"title": "<b>dock</b> pallets"}
    ).get_data(as_text=True)
    assert earlier.ref in html and "<html" not in html
    empty = browser.get("/portal/conflicts/similar", query_string={"title": "*&|"})
    assert empty.status_code == 200 and "No earlier conflict" in empty.get_data(as_text=True)


def test_managers_link_a_repeat_in_one_click(browser) -> None:
    user, manager = make_partner_user(), make_manager()
    other = make_partner_user(partner=make_partner(name="Elsewhere"))
    earlier = make_conflict(user, title="Pallets delivered to the wrong dock")
    elsewhere = make_conflict(other, title="Pallets delivered to the wrong dock too")
    later = make_conflict(user, title="Wrong dock for pallets", now=WHEN + timedelta(days=3))
    browser.login(manager.email)
    html = browser.get(f"/console/conflicts/{later.id}").get_data(as_text=True)
    assert earlier.ref in html and elsewhere.ref in html  # across partners
    assert f"Link as repeat of {earlier.ref}" in html
    assert f"Link as repeat of {elsewhere.ref}" not in html  # only the same partner's
    response = browser.post(f"/console/conflicts/{later.id}/link", {"earlier_ref": earlier.ref})
    assert response.status_code == 302
    from tracker.extensions import db
    from tracker.models import Conflict

    assert db.session.get(Conflict, later.id).repeat_of_id == earlier.id


def test_a_second_view_reuses_the_ranking_and_reads_the_rows_fresh(browser) -> None:
    from tests.statements import counting_statements

    user, manager = make_partner_user(), make_manager()
    earlier = make_conflict(user, title="Pallets delivered to the wrong dock")
    later = make_conflict(user, title="Wrong dock for pallets", now=WHEN + timedelta(days=3))
    browser.login(manager.email)
    url = f"/console/conflicts/{later.id}"
    with counting_statements() as first:
        html = browser.get(url).get_data(as_text=True)
    assert earlier.ref in html and "triaged" not in _similar_section(html)
    triage(earlier, manager)  # the listed conflict moves on: its row must show that
    with counting_statements() as second:
        html = browser.get(url).get_data(as_text=True)
    assert earlier.ref in html and "status-triaged" in _similar_section(html)
    ranking = [s for s in first if "search_entries" in s]
    assert len(ranking) == 1  # the page ranks once…
    assert not any("search_entries" in s for s in second)  # …and not again on the next view
    assert len(second) == len(first)  # the rows by id instead of the ranking: one statement


def _similar_section(html: str) -> str:
    return html.split('id="similar-heading"', 1)[1].split("</section>", 1)[0]


def test_the_kept_ranking_never_shows_a_partner_another_partners_conflict(app) -> None:
    north = make_partner_user(partner=make_partner(name="Northwind"))
    blue = make_partner_user(partner=make_partner(name="Bluefin"))
    manager = make_manager()
    ours = make_conflict(north, title="Pallets delivered to the wrong dock")
    theirs = make_conflict(blue, title="Pallets delivered to the wrong dock again")
    mine = make_conflict(north, title="Wrong dock for pallets", now=WHEN + timedelta(days=3))
    for _ in range(2):  # the first call ranks for the partner's scope, the second reuses it
        assert [c.id for c in conflict_search.similar_to_conflict(north, mine)] == [ours.id]
    staff_view = conflict_search.similar_to_conflict(manager, mine)  # its own key: both
    assert {c.id for c in staff_view} == {ours.id, theirs.id}
    assert [c.id for c in conflict_search.similar_to_conflict(north, mine)] == [ours.id]


def test_a_kept_ranking_is_read_again_under_the_viewers_scope(app) -> None:
    north = make_partner_user(partner=make_partner(name="Northwind"))
    blue = make_partner(name="Bluefin")
    ours = make_conflict(north, title="Pallets delivered to the wrong dock")
    mine = make_conflict(north, title="Wrong dock for pallets", now=WHEN + timedelta(days=3))
    assert [c.id for c in conflict_search.similar_to_conflict(north, mine)] == [ours.id]
    ours.partner_id = blue.id  # it is no longer the partner's: the kept id must not show it
    db.session.commit()
    assert conflict_search.similar_to_conflict(north, mine) == []


def test_a_conflict_raised_meanwhile_joins_when_the_entry_expires(app, monkeypatch) -> None:
    from tracker.services import similar_cache

    clock = [1_000.0]
    monkeypatch.setattr(similar_cache.time, "monotonic", lambda: clock[0])
    user, manager = make_partner_user(), make_manager()
    mine = make_conflict(user, title="Invoice paid late again", now=WHEN + timedelta(days=3))
    assert conflict_search.similar_to_conflict(manager, mine) == []
    raised = make_conflict(user, title="Invoice paid late", now=WHEN + timedelta(days=4))
    assert conflict_search.similar_to_conflict(manager, mine) == []  # kept: nothing, still
    clock[0] += app.config["SIMILAR_CACHE_SECONDS"]
    assert [c.id for c in conflict_search.similar_to_conflict(manager, mine)] == [raised.id]


def test_a_changed_text_is_ranked_afresh_and_zero_seconds_keeps_nothing(app) -> None:
    user, manager = make_partner_user(), make_manager()
    dock = make_conflict(user, title="Pallets delivered to the wrong dock", description="Seen.")
    invoice = make_conflict(user, title="Invoice paid late", description="Seen.")
    mine = make_conflict(
        user, title="Wrong dock for pallets", description="Seen.", now=WHEN + timedelta(days=3)
    )
    assert [c.id for c in conflict_search.similar_to_conflict(manager, mine)] == [dock.id]
    mine.title = "Invoice paid late, twice"  # another text is another key
    assert [c.id for c in conflict_search.similar_to_conflict(manager, mine)] == [invoice.id]
    db.session.rollback()

    app.extensions.pop("trustomer.similar_cache", None)
    app.config["SIMILAR_CACHE_SECONDS"] = 0
    assert [c.id for c in conflict_search.similar_to_conflict(manager, mine)] == [dock.id]
    again = make_conflict(
        user, title="Pallets at the wrong dock", description="Seen.", now=WHEN + timedelta(days=4)
    )
    found = conflict_search.similar_to_conflict(manager, mine)
    assert {c.id for c in found} == {dock.id, again.id}
    assert "trustomer.similar_cache" not in app.extensions
