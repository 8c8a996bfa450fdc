"""Search on the pages: the queue and the partner's list show a marked, escaped passage."""

from __future__ import annotations

import re

from tests.factories import make_conflict, make_manager, make_partner, make_partner_user
from tracker.services import conflicts


def test_the_passage_is_marked_and_escaped(browser) -> None:
    user = make_partner_user()
    conflict = make_conflict(user, title="Shipment delayed", description="Two days late.")
    conflicts.comment(
        user, conflict.id, "<script>alert(1)</script> customs papers lost", now=conflict.created_at
    )
    browser.login(user.email)
    html = browser.get("/portal/conflicts", query_string={"q": "customs"}).get_data(as_text=True)
    assert conflict.ref in html
    assert "<mark>customs</mark>" in html
    assert "<script>alert" not in html
    passage = re.search(r'<p class="snippet">(.*?)</p>', html).group(1)
    markup = re.sub(r"</?mark>|<span class=\"visually-hidden\">[^<]*</span>", "", passage)
    assert "<" not in markup and ">" not in markup
    assert "alert(1)&lt;/script&gt; customs papers" in markup  # the text, escaped


def test_the_queue_shows_matches_of_internal_notes_to_staff(browser) -> None:
    manager, user = make_manager(), make_partner_user()
    conflict = make_conflict(user, title="Delivery slot missed", description="Slot 7.")
    conflicts.comment(
        manager, conflict.id, "Carrier on probation", internal=True, now=conflict.created_at
    )
    browser.login(manager.email)
    html = browser.get("/console/queue", query_string={"q": "probation"}).get_data(as_text=True)
    assert conflict.ref in html and "<mark>probation</mark>" in html


def test_a_partner_page_never_shows_another_partner_or_a_note(new_browser) -> None:
    north = make_partner_user(partner=make_partner(name="Northwind"))
    blue = make_partner_user(partner=make_partner(name="Bluefin"))
    manager = make_manager()
    mine = make_conflict(north, title="Pricing of pallets", description="Pallet pricing.")
    conflicts.comment(manager, mine.id, "Secret pricing remark", internal=True, now=mine.created_at)
    theirs = make_conflict(blue, title="Pricing of crates", description="Crate pricing.")
    browser = new_browser()
    browser.login(north.email)
    html = browser.get("/portal/conflicts", query_string={"q": "pricing"}).get_data(as_text=True)
    assert mine.ref in html and theirs.ref not in html
    assert "Secret" not in html
    assert (
        browser.get("/portal/conflicts", query_string={"q": "secret"})
        .get_data(as_text=True)
        .count(mine.ref)
        == 0
    )


def test_a_query_of_punctuation_says_no_results(browser) -> None:
    user = make_partner_user()
    make_conflict(user)
    browser.login(user.email)
    for q in ['"', "*:", "-&|!", "NEAR(", "'"]:
        response = browser.get("/portal/conflicts", query_string={"q": q})
        assert response.status_code == 200, q
        assert "No conflicts match the search" in response.get_data(as_text=True), q
