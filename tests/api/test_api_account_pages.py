"""The account pages: API tokens (everyone) and webhooks (partner users); the token CLI."""

from __future__ import annotations

import re

from tests.api.conftest import ApiClient
from tests.factories import make_manager, make_partner_user
from tracker.extensions import db
from tracker.models import ApiToken, PartnerWebhook

TOKEN = re.compile(r"trk_[A-Za-z0-9_-]{40,}")


def test_a_token_is_created_on_the_page_shown_once_and_works(browser, client) -> None:
    user = make_manager()
    browser.login(user.email)
    assert "Manage API tokens" in browser.get("/auth/password").get_data(as_text=True)
    page = browser.post("/account/tokens", {"name": "ERP sync", "scope": "write"})
    token = TOKEN.search(page.get_data(as_text=True)).group(0)
    assert "not shown again" in page.get_data(as_text=True)
    assert ApiClient(client, token).get("/api/v1/partners").status_code == 200
    listing = browser.get("/account/tokens").get_data(as_text=True)
    assert "ERP sync" in listing and token not in listing and token[:8] in listing


def test_a_token_is_revoked_on_the_page(browser, client) -> None:
    user = make_partner_user()
    browser.login(user.email)
    page = browser.post("/account/tokens", {"name": "Script", "scope": "read"})
    token = TOKEN.search(page.get_data(as_text=True)).group(0)
    row = db.session.query(ApiToken).one()
    assert browser.post(f"/account/tokens/{row.id}/revoke").status_code == 302
    assert ApiClient(client, token).get("/api/v1/partners").status_code == 401


def test_a_past_expiry_date_is_refused(browser) -> None:
    browser.login(make_manager().email)
    page = browser.post(
        "/account/tokens", {"name": "Old", "scope": "read", "expires_on": "2001-01-01"}
    )
    assert "in the future" in page.get_data(as_text=True)
    assert db.session.query(ApiToken).count() == 0


def test_nobody_revokes_someone_elses_token(browser, new_browser) -> None:
    owner = make_manager()
    first = new_browser()
    first.login(owner.email)
    first.post("/account/tokens", {"name": "Mine", "scope": "read"})
    row = db.session.query(ApiToken).one()
    browser.login(make_manager().email)
    assert browser.post(f"/account/tokens/{row.id}/revoke").status_code == 404


def test_a_partner_adds_and_deactivates_a_webhook_on_the_page(browser) -> None:
    user = make_partner_user()
    browser.login(user.email)
    page = browser.post(
        "/account/webhooks",
        {"url": "https://erp.example.com/hooks/trustomer", "events": ["conflict.created"]},
    )
    hook = db.session.query(PartnerWebhook).one()
    assert hook.secret in page.get_data(as_text=True) and hook.events == ["conflict.created"]
    assert hook.secret not in browser.get("/account/webhooks").get_data(as_text=True)
    assert browser.post(f"/account/webhooks/{hook.id}/deactivate").status_code == 302
    assert db.session.get(PartnerWebhook, hook.id).active is False


def test_managers_have_no_webhooks_page(browser) -> None:
    browser.login(make_manager().email)
    assert browser.get("/account/webhooks").status_code == 403


def test_the_cli_prints_a_working_token_on_its_last_line(runner, client) -> None:
    user = make_partner_user()
    result = runner.invoke(
        args=[
            "tokens",
            "create",
            user.email,
            "--scope",
            "read",
            "--name",
            "ops",
            "--expires-days",
            "30",
        ]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert TOKEN.fullmatch(token)
    assert ApiClient(client, token).get("/api/v1/conflicts").status_code == 200
    row = db.session.query(ApiToken).one()
    assert row.name == "ops" and row.scope == "read" and row.expires_at is not None


def test_the_cli_refuses_an_unknown_user_or_scope(runner) -> None:
    unknown = runner.invoke(args=["tokens", "create", "nobody@example.com", "--scope", "read"])
    assert unknown.exit_code != 0 and "No user" in unknown.output
    bad_scope = runner.invoke(args=["tokens", "create", "x@example.com", "--scope", "admin"])
    assert bad_scope.exit_code != 0
