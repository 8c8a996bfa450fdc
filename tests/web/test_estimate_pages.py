"""The forecast on the pages: while raising a conflict, and next to a conflict's SLA promise."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import RESOLUTION, make_conflict, make_manager, make_partner_user, triage
from tracker.services import conflicts

SENTENCE = "Conflicts like this were resolved in a median of"


def _history(user, manager, count: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(count):
        conflict = make_conflict(user, category="delivery", severity="high")
        triage(conflict, manager)
        at = conflict.created_at + timedelta(hours=2 + i)
        conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=at)


def test_the_form_states_the_forecast_once_five_are_known(browser) -> None:
    user, manager = make_partner_user(), make_manager()
    _history(user, manager, 4)
    browser.login(user.email)
    few = browser.get(
        "/portal/conflicts/estimate", query_string={"category": "delivery", "severity": "high"}
    ).get_data(as_text=True)
    assert SENTENCE not in few and "too few for an honest forecast" in few
    _history(user, manager, 1)  # 2, 3, 4, 5 and 2 business hours: median 3, 9 in 10 by 5
    html = browser.get(
        "/portal/conflicts/estimate", query_string={"category": "delivery", "severity": "high"}
    ).get_data(as_text=True)
    assert f"{SENTENCE} 3 business hours (9 in 10 within 5)" in html
    assert "across 5 conflicts: that is around" in html
    nothing = browser.get("/portal/conflicts/estimate", query_string={"category": "<x>"})
    assert nothing.status_code == 200 and "forecast" not in nothing.get_data(as_text=True)
    checked = browser.post(
        "/portal/conflicts/new",
        {"title": "Late again", "category": "delivery", "severity": "high", "check": "Check"},
    ).get_data(as_text=True)
    assert SENTENCE in checked


def test_the_conflict_pages_show_it_next_to_the_promise(new_browser) -> None:
    user, manager = make_partner_user(), make_manager()
    _history(user, manager, 5)
    current = make_conflict(user, category="delivery", severity="high")
    partner, staff = new_browser(), new_browser()
    partner.login(user.email)
    staff.login(manager.email)
    assert SENTENCE in partner.get(f"/portal/conflicts/{current.id}").get_data(as_text=True)
    assert SENTENCE in staff.get(f"/console/conflicts/{current.id}").get_data(as_text=True)
    other = make_conflict(user, category="quality", severity="high")
    assert SENTENCE not in partner.get(f"/portal/conflicts/{other.id}").get_data(as_text=True)
