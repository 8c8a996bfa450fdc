"""Partner webhooks may only call public internet hosts, a few per partner, and stop with it."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem
from tests.factories import make_partner_user
from tracker.extensions import db
from tracker.models import PartnerWebhook


@pytest.fixture
def production_rules(app):  # type: ignore[no-untyped-def]
    """Outside tests and development, loopback http is not allowed either."""
    app.config.update(TESTING=False, ENV_NAME="production")
    yield
    app.config.update(TESTING=True, ENV_NAME="test")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:6379/",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.5/admin",
        "https://[::1]/",
        "https://localhost/",
        "https://0.0.0.0/",
        "https://2130706433/",
        "https://[::ffff:127.0.0.1]:8443/x",
        "https://internal.example.com/hook",  # a public-looking name for a private address
        "https://erp.example.com:99999/",
        "https://erp.example.com:abc/",
        "https://ex ample.com/",
    ],
)
def test_internal_or_malformed_targets_are_refused(api, production_rules, url) -> None:
    user = make_partner_user()
    body = assert_problem(api(user).post("/api/v1/webhooks", json={"url": url}), 422)
    assert "url" in body["errors"]
    assert db.session.query(PartnerWebhook).count() == 0


def test_a_public_https_endpoint_is_accepted(api, production_rules) -> None:
    user = make_partner_user()
    response = api(user).post("/api/v1/webhooks", json={"url": "https://erp.example.com/hook"})
    assert response.status_code == 201, response.get_data(as_text=True)


def test_at_most_five_active_hooks_and_no_duplicates(api) -> None:
    user = make_partner_user()
    client = api(user)
    for i in range(5):
        assert (
            client.post(
                "/api/v1/webhooks", json={"url": f"https://erp.example.com/h{i}"}
            ).status_code
            == 201
        )
    assert_problem(client.post("/api/v1/webhooks", json={"url": "https://erp.example.com/h9"}), 422)
    assert_problem(client.post("/api/v1/webhooks", json={"url": "https://erp.example.com/h0"}), 422)


def test_a_host_that_turns_internal_is_not_called_at_delivery(
    api, webhook_receiver, monkeypatch
) -> None:
    from tests.factories import make_conflict
    from tracker.clock import utcnow
    from tracker.models import OutboxMessage
    from tracker.services import outbox, partner_webhooks

    user = make_partner_user()
    api(user).post("/api/v1/webhooks", json={"url": webhook_receiver.url})
    make_conflict(user)
    monkeypatch.setattr(partner_webhooks, "deliverable", lambda url: False)  # DNS now says 10.x
    report = outbox.deliver_due(utcnow())
    assert report.gave_up == 1 and webhook_receiver.requests == []
    row = db.session.query(OutboxMessage).filter_by(channel="webhook").one()
    assert "public address" in row.last_error


def test_an_inactive_partners_hooks_queue_nothing(api) -> None:
    from tests.factories import make_conflict, make_manager
    from tracker.clock import utcnow
    from tracker.models import OutboxMessage
    from tracker.services import conflicts, partners

    user = make_partner_user()
    api(user).post("/api/v1/webhooks", json={"url": "https://erp.example.com/hook"})
    conflict = make_conflict(user)
    before = db.session.query(OutboxMessage).filter_by(channel="webhook").count()
    partner = user.partner
    partners.update_partner(
        partner.id, name=partner.name, tier=partner.tier, timezone=partner.timezone,
        country=partner.country, owner_id=partner.owner_id, active=False,
    )  # fmt: skip
    conflicts.comment(make_manager(), conflict.id, "Public reply", now=utcnow())
    assert db.session.query(OutboxMessage).filter_by(channel="webhook").count() == before


def test_partners_cannot_filter_by_assignee(api) -> None:
    user = make_partner_user()
    body = assert_problem(api(user, "read").get("/api/v1/conflicts?assignee_id=4"), 422)
    assert "assignee_id" in body["errors"]


def test_token_expiry_is_capped_and_far_dates_do_not_break_the_page(browser) -> None:
    user = make_partner_user()
    browser.login(user.email)
    response = browser.post(
        "/account/tokens", {"name": "far", "scope": "read", "expires_on": "9999-12-31"}
    )
    assert response.status_code == 200
    assert "at most two years" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert browser.get("/account/tokens").status_code == 200
