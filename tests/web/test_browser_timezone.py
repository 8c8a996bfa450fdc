"""Deadlines read in the browser's zone from the first sign-in, never over a chosen zone."""

from __future__ import annotations

import re

import pytest

from tests.factories import PASSWORD, make_conflict, make_manager
from tracker.extensions import db
from tracker.models import User
from tracker.services import accounts


def _sign_in(browser, email: str, zone: str | None) -> None:
    data = {"email": email, "password": PASSWORD}
    if zone is not None:
        data["browser_timezone"] = zone
    assert browser.post("/auth/login", data).status_code == 302


def _zone(user_id: int) -> tuple[str | None, bool]:
    db.session.expire_all()
    user = db.session.get(User, user_id)
    return user.timezone, user.timezone_chosen


def test_sign_in_form_carries_the_hidden_field_and_its_script(client) -> None:
    html = client.get("/auth/login").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="browser_timezone"[^>]*type="hidden"', html) or re.search(
        r'<input[^>]*type="hidden"[^>]*name="browser_timezone"', html
    )
    assert "/static/timezone.js" in html


def test_first_sign_in_adopts_the_browsers_zone(browser) -> None:
    manager = make_manager()
    _sign_in(browser, manager.email, "America/New_York")
    assert _zone(manager.id) == ("America/New_York", False)
    queue = browser.get("/console/queue").get_data(as_text=True)
    assert "Times in America/New_York." in queue
    assert 'href="/account/#timezone"' in queue


def test_without_script_nothing_changes(browser) -> None:
    manager = make_manager()
    _sign_in(browser, manager.email, None)
    assert _zone(manager.id) == (None, False)
    assert "Times in UTC." in browser.get("/console/queue").get_data(as_text=True)


@pytest.mark.parametrize(
    "zone",
    ["", "Mars/Olympus_Mons", "EST5EDT; DROP TABLE users", "x" * 5000, "../../etc/passwd", "utc"],
)
def test_an_invalid_zone_is_ignored_and_sign_in_still_works(browser, zone: str) -> None:
    manager = make_manager()
    _sign_in(browser, manager.email, zone)
    assert _zone(manager.id) == (None, False)


def test_an_explicit_choice_is_never_overridden(browser) -> None:
    manager = make_manager()
    accounts.set_reading_preferences(manager, timezone="Asia/Kolkata", locale=None)
    _sign_in(browser, manager.email, "America/New_York")
    assert _zone(manager.id) == ("Asia/Kolkata", True)


def test_choosing_the_organisations_zone_is_a_choice_too(browser) -> None:
    """The Account page's empty choice (organisation's zone, else UTC) is kept as chosen."""
    manager = make_manager()
    browser.login(manager.email)
    response = browser.post("/account/", {"timezone": "", "locale": ""})
    assert response.status_code == 302
    browser.post("/auth/logout")
    _sign_in(browser, manager.email, "America/New_York")
    assert _zone(manager.id) == (None, True)


def test_an_adopted_zone_is_not_replaced_by_another_browser(browser, new_browser) -> None:
    manager = make_manager()
    _sign_in(browser, manager.email, "Europe/Berlin")
    _sign_in(new_browser(), manager.email, "Asia/Tokyo")
    assert _zone(manager.id) == ("Europe/Berlin", False)


def test_a_zone_set_by_the_admin_at_creation_is_kept(browser) -> None:
    manager = make_manager(timezone="Europe/Paris")
    _sign_in(browser, manager.email, "America/New_York")
    assert _zone(manager.id) == ("Europe/Paris", True)


def test_accepting_an_invitation_adopts_the_browsers_zone(app, browser) -> None:
    from tracker.clock import utcnow

    invited = accounts.create_user(
        email="new@example.com", name="New Person", role="manager", now=utcnow()
    )
    token = accounts.invite_token(invited, app.config["SECRET_KEY"])
    page = browser.get(f"/auth/invite/{token}").get_data(as_text=True)
    assert 'name="browser_timezone"' in page
    response = browser.post(
        f"/auth/invite/{token}",
        {"password": PASSWORD, "confirm": PASSWORD, "browser_timezone": "Asia/Kolkata"},
    )
    assert response.status_code == 302
    assert _zone(invited.id) == ("Asia/Kolkata", False)


def test_conflict_pages_say_which_zone_times_are_in(browser) -> None:
    manager = make_manager(timezone="Europe/Berlin")
    conflict = make_conflict()
    browser.login(manager.email)
    page = browser.get(f"/console/conflicts/{conflict.id}").get_data(as_text=True)
    assert "Times in Europe/Berlin." in page
    assert "Times in Europe/Berlin." in browser.get("/console/escalations").get_data(as_text=True)
