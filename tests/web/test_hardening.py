"""Hostile input through HTTP: off-site redirects, odd digits, huge ids and pages, wrong roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.factories import (
    WHEN,
    make_admin,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import Conflict, Escalation
from tracker.services import conflicts, partners
from tracker.web.paging import MAX_PAGE, page_arg, strict_int
from tracker.web.redirects import is_safe_target

HUGE = "99999999999999999999"  # above 2**63: SQLite cannot even bind it
OFF_SITE = [
    "https://evil.example/x",
    "//evil.example",
    "/\\evil",
    "\t//evil",
    "/\t/evil",
    "http:/evil.example",
    "javascript:alert(1)",
    "",
]


def _location(response) -> str:  # type: ignore[no-untyped-def]
    """The redirect target, asserting it stays on this site."""
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.netloc in ("", "localhost"), location
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- redirects -----------------------------------------------------------------------------


@pytest.mark.parametrize("target", OFF_SITE)
def test_off_site_targets_are_not_safe(target: str) -> None:
    assert not is_safe_target(target)


@pytest.mark.parametrize("target", ["/", "/console/queue?status=open&page=2", "/portal/trust"])
def test_same_site_paths_are_safe(target: str) -> None:
    assert is_safe_target(target)


@pytest.mark.parametrize("back", OFF_SITE)
def test_bulk_never_redirects_off_site(browser, back: str) -> None:
    browser.login(make_manager().email)
    response = browser.post("/console/queue/bulk", {"operation": "assign", "back": back})
    assert _location(response) == "/console/queue"


def test_bulk_returns_to_the_filtered_queue_it_came_from(browser) -> None:
    browser.login(make_manager().email)
    back = "/console/queue?status=open&page=2"
    response = browser.post("/console/queue/bulk", {"operation": "assign", "back": back})
    assert _location(response) == back


@pytest.fixture
def breach():  # type: ignore[no-untyped-def]
    owner = make_manager()
    partner = make_partner(owner_id=owner.id)
    make_conflict(make_partner_user(partner=partner), severity="critical")
    sweep(datetime(2026, 11, 16, 10, 0, tzinfo=UTC))
    return owner, db.session.scalar(select(Escalation).where(Escalation.level == "breach"))


@pytest.mark.parametrize("back", OFF_SITE)
def test_acknowledge_never_redirects_off_site(browser, breach, back: str) -> None:
    owner, escalation = breach
    browser.login(owner.email)
    url = f"/console/escalations/{escalation.id}/acknowledge"
    response = browser.post(url, {"note": "On it.", "back": back})
    assert _location(response) == "/console/escalations"


def test_acknowledge_returns_to_the_page_it_came_from(browser, breach) -> None:
    owner, escalation = breach
    browser.login(owner.email)
    back = "/console/escalations?level=breach"
    url = f"/console/escalations/{escalation.id}/acknowledge"
    assert _location(browser.post(url, {"note": "On it.", "back": back})) == back


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_follows_next_off_site(browser, target: str) -> None:
    user = make_manager()
    response = browser.post(
        "/auth/login",
        {"email": user.email, "password": "correct-horse-battery"},
        query_string={"next": target},
    )
    assert _location(response) == "/"


def test_sign_in_follows_a_same_site_next(browser) -> None:
    user = make_manager()
    response = browser.post(
        "/auth/login",
        {"email": user.email, "password": "correct-horse-battery"},
        query_string={"next": "/console/queue?status=open"},
    )
    assert _location(response) == "/console/queue?status=open"


# --- odd numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("42", 42), ("1", 1), ("2147483647", 2**31 - 1), ("0", None), ("2147483648", None),
     (HUGE, None), ("²", None), ("١", None), ("-1", None), (" 4", None), ("", None), (None, None)],
)  # fmt: skip
def test_strict_int_takes_plain_ascii_digits_in_range(value, expected) -> None:  # type: ignore[no-untyped-def]
    assert strict_int(value) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", 1), ("page=3", 3), ("page=0", 1), ("page=²", 1), ("page=abc", 1),
     (f"page={MAX_PAGE + 1}", MAX_PAGE), (f"page={HUGE}", MAX_PAGE),
     ("page=" + "9" * 5000, MAX_PAGE)],
)  # fmt: skip
def test_page_arg_is_clamped(app, query: str, expected: int) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context(f"/?{query}"):
        assert page_arg() == expected


def test_queue_ignores_non_ascii_digits_in_filters(browser) -> None:
    browser.login(make_manager().email)
    response = browser.get("/console/queue?partner_id=%C2%B2&assignee=%C2%B2")
    assert response.status_code == 200


def test_bulk_ignores_non_ascii_digit_ids(browser) -> None:
    browser.login(make_manager().email)
    response = browser.post(
        "/console/queue/bulk", {"operation": "assign", "conflict_ids": ["²", HUGE]}
    )
    assert _location(response) == "/console/queue"
    follow = browser.get("/console/queue").get_data(as_text=True)
    assert "Select at least one conflict" in follow


@pytest.mark.parametrize("conflict_id", [HUGE, str(2**31), "%C2%B2"])
def test_ids_too_large_or_not_ascii_are_404(browser, conflict_id: str) -> None:
    make_conflict()
    browser.login(make_admin().email)
    for url in (
        f"/console/conflicts/{conflict_id}",
        f"/partners/{conflict_id}",
        f"/admin/users/{conflict_id}",
        f"/api/v1/conflicts/{conflict_id}",
    ):
        assert browser.get(url).status_code == 404, url


def test_huge_ids_in_partner_urls_are_404(browser) -> None:
    browser.login(make_partner_user().email)
    assert browser.get(f"/portal/conflicts/{HUGE}").status_code == 404


@pytest.mark.parametrize(
    "url",
    ["/console/queue", "/console/escalations", "/partners/", "/admin/users", "/admin/outbox",
     "/notifications"],
)  # fmt: skip
def test_huge_page_numbers_answer_an_empty_page(browser, url: str) -> None:
    browser.login(make_admin().email)
    assert browser.get(url, query_string={"page": HUGE}).status_code == 200


def test_huge_page_numbers_on_partner_pages(browser) -> None:
    user = make_partner_user()
    make_conflict(user)
    browser.login(user.email)
    for url in ("/portal/conflicts", "/portal/trust"):
        assert browser.get(f"{url}?page={HUGE}").status_code == 200, url


def test_partner_posting_a_manager_action_is_told_why(browser) -> None:
    user = make_partner_user()
    conflict = make_conflict(user)
    browser.login(user.email)
    response = browser.post(
        f"/portal/conflicts/{conflict.id}/actions/triage",
        {"severity": "low", "category": "other", "assignee_id": "1"},
    )
    assert _location(response) == f"/portal/conflicts/{conflict.id}"
    page = browser.get(f"/portal/conflicts/{conflict.id}").get_data(as_text=True)
    assert "Only an alliance manager can triage a conflict." in page
    assert db.session.get(Conflict, conflict.id).status == "open"


# --- what partners see ---------------------------------------------------------------------


def test_partner_page_does_not_name_the_assignee(browser) -> None:
    maya = make_manager(name="Maya Internal")
    user = make_partner_user()
    conflict = make_conflict(user)
    triage(conflict, make_manager(name="Leo Triage"), assignee_id=maya.id)
    browser.login(user.email)
    page = browser.get(f"/portal/conflicts/{conflict.id}").get_data(as_text=True)
    assert "Maya Internal" not in page
    assert "your alliance team" in page


def test_partner_page_names_the_author_of_a_public_reply(browser) -> None:
    maya = make_manager(name="Maya Internal")
    user = make_partner_user()
    conflict = make_conflict(user)
    triage(conflict, maya)
    conflicts.comment(maya, conflict.id, "We are on it.", now=WHEN + timedelta(hours=2))
    browser.login(user.email)
    page = browser.get(f"/portal/conflicts/{conflict.id}").get_data(as_text=True)
    assert "Maya Internal" in page


# --- inactive partners ---------------------------------------------------------------------


def _set_partner_active(partner, active: bool) -> None:  # type: ignore[no-untyped-def]
    partners.update_partner(
        partner.id,
        name=partner.name,
        tier=partner.tier,
        timezone=partner.timezone,
        country=partner.country,
        owner_id=partner.owner_id,
        active=active,
    )


def test_deactivating_a_partner_ends_its_users_sessions_and_sign_ins(new_browser) -> None:
    partner = make_partner()
    user = make_partner_user(partner=partner)
    signed_in = new_browser()
    signed_in.login(user.email)
    assert signed_in.get("/portal/conflicts").status_code == 200
    _set_partner_active(partner, False)
    assert signed_in.get("/portal/conflicts").status_code == 302  # back to sign-in
    refused = new_browser().post(
        "/auth/login", {"email": user.email, "password": "correct-horse-battery"}
    )
    assert refused.status_code == 401
    _set_partner_active(partner, True)
    again = new_browser()
    again.login(user.email)
    assert again.get("/portal/conflicts").status_code == 200
