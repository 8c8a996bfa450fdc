"""Server-side sessions: signing out, a password change or a deactivation ends them for real."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.api.conftest import ApiClient, assert_problem, token_for
from tests.factories import PASSWORD, WHEN, make_manager, make_partner_user
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import ApiToken, UserSession
from tracker.services import accounts, sessions
from tracker.services.errors import InvalidInput

COOKIE = "trustomer_session"
NEW_PASSWORD = "a-brand-new-pass"


def _copy_cookie(browser) -> str:  # type: ignore[no-untyped-def]
    cookie = browser.client.get_cookie(COOKIE)
    assert cookie is not None, "not signed in"
    return cookie.value


def _replay(app, cookie: str):  # type: ignore[no-untyped-def]
    """A second browser that only has a copy of the first one's session cookie."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie)
    return thief


def _to_sign_in(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, browser) -> None:
    user = make_manager(email="maya@example.com")
    browser.login(user.email)
    page = browser.get("/account/tokens")
    assert page.status_code == 200
    csrf = browser._TOKEN_RE.search(page.get_data(as_text=True)).group(1)
    copied = _copy_cookie(browser)
    assert _replay(app, copied).get("/partners/").status_code == 200  # the copy works, before

    assert browser.post("/auth/logout").status_code == 302

    thief = _replay(app, copied)
    assert _to_sign_in(thief.get("/partners/"))
    created = thief.post("/account/tokens", data={"csrf_token": csrf, "name": "stolen"})
    assert _to_sign_in(created)
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


def test_signing_out_ends_only_this_browsers_session(browser, new_browser) -> None:
    make_manager(email="maya@example.com")
    laptop, phone = browser, new_browser()
    laptop.login("maya@example.com")
    phone.login("maya@example.com")
    laptop.post("/auth/logout")
    assert _to_sign_in(laptop.get("/partners/"))
    assert phone.get("/partners/").status_code == 200


def test_the_cookie_names_a_session_whose_token_is_stored_only_hashed(browser) -> None:
    user = make_manager(email="maya@example.com")
    browser.login(user.email)
    with browser.client.session_transaction() as session:
        token = session["_user_id"]
    row = db.session.scalars(select(UserSession)).one()
    assert row.user_id == user.id and row.revoked_at is None
    assert row.id == sessions.hash_token(token) and token not in row.id
    assert str(user.id) != token


def test_a_password_change_ends_other_sessions_and_keeps_this_one(app, browser, new_browser):  # type: ignore[no-untyped-def]
    make_manager(email="maya@example.com")
    other = new_browser()
    other.login("maya@example.com")
    copied = _copy_cookie(other)
    browser.login("maya@example.com")
    response = browser.post(
        "/auth/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert browser.get("/partners/").status_code == 200
    assert _to_sign_in(other.get("/partners/"))
    assert _to_sign_in(_replay(app, copied).get("/partners/"))


def test_deactivation_ends_every_session_for_good(app, browser) -> None:
    user = make_manager(email="gone@example.com")
    browser.login(user.email)
    copied = _copy_cookie(browser)
    accounts.set_active(user.id, False, now=utcnow())
    assert _to_sign_in(browser.get("/partners/"))
    accounts.set_active(user.id, True, now=utcnow())
    assert _to_sign_in(_replay(app, copied).get("/partners/"))
    assert _to_sign_in(browser.get("/partners/"))


def test_a_password_change_revokes_the_users_api_tokens(client) -> None:
    user = make_partner_user()
    token = token_for(user)
    accounts.change_password(user, PASSWORD, NEW_PASSWORD, now=utcnow())
    assert_problem(ApiClient(client, token).get("/api/v1/conflicts"), 401)
    assert db.session.scalars(select(ApiToken)).one().revoked_at is not None


def test_api_tokens_stay_revoked_when_a_deactivated_user_is_reactivated(client) -> None:
    user = make_partner_user()
    token = token_for(user)
    accounts.set_active(user.id, False, now=utcnow())
    accounts.set_active(user.id, True, now=utcnow())
    assert_problem(ApiClient(client, token).get("/api/v1/conflicts"), 401)
    fresh = token_for(user)  # the reactivated user may make new ones
    assert ApiClient(client, fresh).get("/api/v1/conflicts").status_code == 200


def test_a_failed_password_change_revokes_nothing(client) -> None:
    user = make_partner_user()
    token = token_for(user)
    live = sessions.start(user, now=utcnow(), lifetime=timedelta(hours=1))
    with pytest.raises(InvalidInput):
        accounts.change_password(user, "not-the-password", NEW_PASSWORD, now=utcnow())
    assert ApiClient(client, token).get("/api/v1/conflicts").status_code == 200
    assert accounts.load_session_user(live, now=utcnow()) is not None


# --- the session rules, with time as a parameter -------------------------------------------

IDLE = timedelta(minutes=480)


def _start(user, *, hours: int = 12) -> str:  # type: ignore[no-untyped-def]
    return sessions.start(user, now=WHEN, lifetime=timedelta(hours=hours))


def test_last_seen_is_written_at_most_every_few_minutes(app) -> None:
    user = make_manager()
    token = _start(user)
    assert sessions.user_for(token, now=WHEN + timedelta(minutes=1), idle=IDLE) is not None
    assert db.session.scalars(select(UserSession)).one().last_seen_at == WHEN
    later = WHEN + sessions.LAST_SEEN_PRECISION + timedelta(seconds=1)
    assert sessions.user_for(token, now=later, idle=IDLE) is not None
    db.session.expire_all()
    assert db.session.scalars(select(UserSession)).one().last_seen_at == later


def test_an_idle_session_expires(app) -> None:
    user = make_manager()
    token = _start(user)
    assert sessions.user_for(token, now=WHEN + IDLE, idle=IDLE) is user
    assert sessions.user_for(token, now=WHEN + IDLE * 2 + timedelta(seconds=1), idle=IDLE) is None


def test_a_session_ends_at_its_lifetime_however_busy(app) -> None:
    user = make_manager()
    token = _start(user, hours=2)
    for minutes in range(0, 120, 10):
        assert sessions.user_for(token, now=WHEN + timedelta(minutes=minutes), idle=IDLE) is user
    assert sessions.user_for(token, now=WHEN + timedelta(hours=2), idle=IDLE) is None


def test_idle_and_lifetime_come_from_the_configuration(app) -> None:
    user = make_manager()
    app.config["SESSION_MAX_HOURS"] = 1
    token = accounts.open_session(user, now=WHEN)
    assert accounts.load_session_user(token, now=WHEN + timedelta(minutes=59)) is user
    assert accounts.load_session_user(token, now=WHEN + timedelta(minutes=61)) is None
    app.config["SESSION_IDLE_MINUTES"] = 5
    token = accounts.open_session(user, now=WHEN)
    assert accounts.load_session_user(token, now=WHEN + timedelta(minutes=6)) is None


def test_a_new_sign_in_clears_away_the_users_finished_sessions(app) -> None:
    user = make_manager()
    for _ in range(3):
        sessions.end(_start(user), now=WHEN)
    _start(user)
    assert db.session.scalar(select(func.count(UserSession.id))) == 1


def test_a_sweep_deletes_only_sessions_that_cannot_be_used(app) -> None:
    user = make_manager()
    live, idle_one = _start(user), _start(user)
    sessions.end(_start(user), now=WHEN)
    sessions.user_for(live, now=WHEN + IDLE, idle=IDLE)  # seen lately: stays
    assert sessions.purge_finished(WHEN + IDLE + timedelta(minutes=1), idle=IDLE) == 2
    assert sessions.user_for(live, now=WHEN + IDLE, idle=IDLE) is user
    assert sessions.user_for(idle_one, now=WHEN, idle=IDLE) is None


def test_unknown_or_oversized_tokens_load_nobody(app) -> None:
    make_manager()
    for token in ("", "x", "1:1", "a" * 65, "é" * 20):
        assert sessions.user_for(token, now=WHEN, idle=IDLE) is None
        sessions.end(token, now=WHEN)  # harmless
