"""Signing in and out, lockouts, sessions, CSRF and passwords."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from tests.factories import PASSWORD, make_manager, make_partner_user
from tracker.clock import utcnow
from tracker.services import accounts


def test_login_page_labels_its_fields(client) -> None:
    html = client.get("/auth/login").get_data(as_text=True)
    assert re.search(r"<label[^>]*>Email</label>", html)
    assert re.search(r"<label[^>]*>Password</label>", html)


def test_user_signs_in_and_out(browser) -> None:
    user = make_manager(email="maya@example.com")
    browser.login(user.email)
    page = browser.get("/", follow_redirects=True)
    assert page.status_code == 200
    assert user.name in page.get_data(as_text=True)
    response = browser.post("/auth/logout")
    assert response.status_code == 302
    assert browser.get("/partners/").status_code == 302  # back to sign-in


def test_email_is_case_insensitive(browser) -> None:
    make_manager(email="maya@example.com")
    browser.login("  MAYA@Example.com ")


def test_wrong_password_is_refused_without_saying_which_part(browser) -> None:
    make_manager(email="maya@example.com")
    response = browser.post(
        "/auth/login", {"email": "maya@example.com", "password": "wrong-password"}
    )
    assert response.status_code == 401
    assert "Email or password is not correct" in response.get_data(as_text=True)
    unknown = browser.post("/auth/login", {"email": "nobody@example.com", "password": "x" * 12})
    assert unknown.status_code == 401
    assert "Email or password is not correct" in unknown.get_data(as_text=True)


def test_an_address_is_locked_out_of_an_account_after_repeated_failures(app, browser) -> None:
    make_manager(email="maya@example.com")
    limit = app.config["LOGIN_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        response = browser.post(
            "/auth/login", {"email": "maya@example.com", "password": "nope-nope-nope"}
        )
        assert response.status_code == 401
    locked = browser.post("/auth/login", {"email": "maya@example.com", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.get_data(as_text=True)


def test_address_is_limited_across_accounts(app, browser) -> None:
    app.extensions["login_throttle"].per_address = 3
    make_manager(email="victim@example.com")
    for i in range(3):
        browser.post("/auth/login", {"email": f"guess{i}@example.com", "password": "x" * 12})
    blocked = browser.post("/auth/login", {"email": "victim@example.com", "password": PASSWORD})
    assert blocked.status_code == 429


def test_successful_sign_in_forgives_earlier_typos(app, browser, new_browser) -> None:
    make_manager(email="maya@example.com")
    limit = app.config["LOGIN_FAILURES_PER_ACCOUNT"]
    for _ in range(limit - 1):
        browser.post("/auth/login", {"email": "maya@example.com", "password": "typo-typo-typo"})
    browser.login("maya@example.com")
    other = new_browser()
    for _ in range(limit - 1):
        other.post("/auth/login", {"email": "maya@example.com", "password": "typo-typo-typo"})
    other.login("maya@example.com")


def test_deactivated_user_cannot_sign_in_and_is_signed_out(browser, new_browser) -> None:
    user = make_manager(email="gone@example.com")
    browser.login(user.email)
    accounts.set_active(user.id, False, now=utcnow())
    assert browser.get("/partners/").status_code == 302
    fresh = new_browser()
    response = fresh.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_form_without_csrf_token_is_rejected(client) -> None:
    make_manager(email="maya@example.com")
    response = client.post("/auth/login", data={"email": "maya@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)


def test_form_with_a_forged_csrf_token_is_rejected(browser) -> None:
    make_manager(email="maya@example.com")
    response = browser.post(
        "/auth/login", {"email": "maya@example.com", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 400


def test_session_cookie_is_httponly_and_samesite_lax(browser) -> None:
    make_manager(email="maya@example.com")
    response = browser.post("/auth/login", {"email": "maya@example.com", "password": PASSWORD})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_session_is_renewed_at_sign_in(browser) -> None:
    make_manager(email="maya@example.com")
    browser.get("/auth/login")
    with browser.client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    browser.login("maya@example.com")
    with browser.client.session_transaction() as session:
        assert "planted" not in session
        assert len(session.get("_user_id", "")) >= 43  # a 256-bit session token, not the id


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/phish",
        "/\\evil.example/phish",  # browsers read a backslash as a slash
        "https://evil.example/phish",
        "\t//evil.example/phish",  # browsers drop leading tabs and newlines
    ],
)
def test_sign_in_never_redirects_off_site(browser, target) -> None:
    make_manager(email="maya@example.com")
    response = browser.post(
        f"/auth/login?{urlencode({'next': target})}",
        {"email": "maya@example.com", "password": PASSWORD},
    )
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_change_password_signs_out_other_sessions(browser, new_browser) -> None:
    make_manager(email="maya@example.com")
    other = new_browser()
    other.login("maya@example.com")
    browser.login("maya@example.com")
    response = browser.post(
        "/auth/password",
        {
            "current_password": PASSWORD,
            "new_password": "a-brand-new-pass",
            "confirm": "a-brand-new-pass",
        },
    )
    assert response.status_code == 302
    assert browser.get("/partners/").status_code == 200
    assert other.get("/partners/").status_code == 302
    fresh = new_browser()
    fresh.login("maya@example.com", "a-brand-new-pass")


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong-current-pw", "a-brand-new-pass", "a-brand-new-pass", "Not correct."),
        (PASSWORD, "short", "short", "at least 10"),
        (PASSWORD, "a-brand-new-pass", "different-pass!", "The passwords differ."),
    ],
)
def test_change_password_explains_what_is_wrong(browser, current, new, confirm, message) -> None:
    make_manager(email="maya@example.com")
    browser.login("maya@example.com")
    response = browser.post(
        "/auth/password", {"current_password": current, "new_password": new, "confirm": confirm}
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    browser.post("/auth/logout")
    browser.login("maya@example.com")  # the old password still works


def test_password_is_stored_hashed_and_never_logged(app, caplog) -> None:
    user = make_partner_user(email="p@example.com")
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    client = app.test_client()
    client.get("/auth/login")
    with caplog.at_level("DEBUG"):
        client.post("/auth/login", data={"email": "p@example.com", "password": PASSWORD})
    assert PASSWORD not in caplog.text


def test_security_headers_are_set(client) -> None:
    response = client.get("/auth/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Request-ID"]
