"""The read use cases behind the pages and the API: one conflict search, scoped to the viewer,
and one rating rule shared by the portal and trust.rate."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import WHEN, make_conflict, make_manager, make_partner_user, triage
from tests.services.test_trust import berlin, close_loop
from tracker.extensions import db
from tracker.models import Partner
from tracker.services import conflict_search, conflicts, ratings, trust
from tracker.services.conflict_search import ConflictFilters
from tracker.services.errors import InvalidInput

H = timedelta(hours=1)


def test_a_partner_finds_only_its_own_organisations_conflicts_in_every_list(app) -> None:
    mine, other = make_partner_user(), make_partner_user()
    own = make_conflict(mine)
    make_conflict(other)
    portal = conflict_search.portal_page(mine, ConflictFilters(), 1, 20)
    api = conflict_search.api_page(mine, ConflictFilters(), None, 50)
    assert [c.id for c in portal.items] == [own.id]
    assert [c.id for c in api] == [own.id]
    staff = conflict_search.api_page(make_manager(), ConflictFilters(), None, 50)
    assert len(staff) == 2


def test_a_partner_cannot_filter_by_who_is_assigned(app) -> None:
    user = make_partner_user()
    for filters in (
        ConflictFilters(assignee_id=1),
        ConflictFilters(mine=True),
        ConflictFilters(unassigned=True),
    ):
        with pytest.raises(InvalidInput):
            conflict_search.search(user, filters)


def test_queue_shows_open_conflicts_unless_a_status_is_chosen(app) -> None:
    manager, user = make_manager(), make_partner_user()
    open_one = make_conflict(user)
    withdrawn = make_conflict(user)
    conflicts.act(user, withdrawn.id, "withdraw", {"reason": "raised_in_error"}, now=WHEN)
    queue = conflict_search.queue_page(manager, ConflictFilters(), 1, 25)
    assert [c.id for c in queue.items] == [open_one.id]
    closed = conflict_search.queue_page(manager, ConflictFilters(status="closed"), 1, 25)
    assert [c.id for c in closed.items] == [withdrawn.id]
    everything = conflict_search.portal_page(user, ConflictFilters(), 1, 20)
    assert {c.id for c in everything.items} == {open_one.id, withdrawn.id}


def test_queue_filters_by_assignee_mine_unassigned_and_text(app) -> None:
    manager, colleague, user = make_manager(), make_manager(), make_partner_user()
    # Search reads words of titles, descriptions and comments: each text here is its own.
    to_me = make_conflict(user, title="Rebate for Q3 missing", description="Quarterly rebate.")
    to_colleague = make_conflict(user, title="Delivery slot 50% late", description="At the dock.")
    nobody = make_conflict(user, title="Unanswered question", description="No reply since May.")
    triage(to_me, manager)
    triage(to_colleague, manager, assignee_id=colleague.id)

    def ids(**filters):  # type: ignore[no-untyped-def]
        page = conflict_search.queue_page(manager, ConflictFilters(**filters), 1, 25)
        return {c.id for c in page.items}

    assert ids(mine=True) == {to_me.id}
    assert ids(assignee_id=colleague.id) == {to_colleague.id}
    assert ids(unassigned=True) == {nobody.id}
    assert ids(search="rebate") == {to_me.id}
    assert ids(search="50%") == {to_colleague.id}  # % is a character, not a wildcard
    assert ids(search="%") == set()  # and alone it is no word at all
    assert ids(search=nobody.ref) == {nobody.id}


def test_partners_updated_since_counts_public_changes_only(app) -> None:
    manager, user = make_manager(), make_partner_user()
    conflict = make_conflict(user, now=WHEN)
    conflicts.comment(manager, conflict.id, "Internal only", internal=True, now=WHEN + 2 * H)
    since = ConflictFilters(updated_since=WHEN + H)
    assert conflict_search.api_page(user, since, None, 50) == []
    assert [c.id for c in conflict_search.api_page(manager, since, None, 50)] == [conflict.id]


def test_api_pages_run_newest_first_after_the_cursor(app) -> None:
    user = make_partner_user()
    first, second, third = (make_conflict(user) for _ in range(3))
    page = conflict_search.api_page(user, ConflictFilters(), None, 2)
    assert [c.id for c in page] == [third.id, second.id, first.id]  # limit + 1: there is more
    rest = conflict_search.api_page(user, ConflictFilters(), second.id, 2)
    assert [c.id for c in rest] == [first.id]


def test_can_rate_gives_the_reason_trust_rate_refuses_with(app) -> None:
    manager, user = make_manager(), make_partner_user()
    colleague = make_partner_user(partner=db.session.get(Partner, user.partner_id))
    stranger = make_partner_user()
    open_conflict = make_conflict(user)
    assert ratings.can_rate(user, open_conflict, WHEN) == ratings.NOT_RESOLVED
    conflict = close_loop(user, manager, "low", berlin(16, 12), berlin(16, 13))
    soon = berlin(17, 9)
    assert ratings.can_rate(manager, conflict, soon) == ratings.NOT_A_PARTNER
    assert ratings.can_rate(stranger, conflict, soon) == ratings.NOT_VISIBLE
    assert ratings.can_rate(user, conflict, soon) is None
    late = berlin(16, 13) + timedelta(days=31)
    assert ratings.can_rate(colleague, conflict, late) == ratings.WINDOW_CLOSED
    trust.rate(user, conflict.id, 5, "Quick and fair.", now=soon)
    assert ratings.can_rate(user, conflict, soon) == ratings.ALREADY_RATED
    assert ratings.my_rating(user, conflict).stars == 5
    assert ratings.can_rate(colleague, conflict, soon) is None  # once per user, not per conflict
