"""Partners' outgoing webhooks: registered by the partner, signed, public events only."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import assert_problem
from tests.factories import make_conflict, make_manager, make_partner_user, triage
from tracker.channels.webhook import SIGNATURE_HEADER, verify
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import OutboxMessage
from tracker.services import conflict_access, conflicts, outbox, partner_webhooks

NEW = {
    "title": "Delivery 881 arrived two weeks late",
    "description": "Promised for the 1st, arrived on the 15th.",
    "category": "delivery",
    "severity": "medium",
}


def _deliver() -> None:
    outbox.deliver_due(utcnow())


def test_a_partner_registers_a_hook_and_receives_signed_public_events(
    api, webhook_receiver
) -> None:
    user, manager = make_partner_user(), make_manager()
    client = api(user)
    created = client.post("/api/v1/webhooks", json={"url": webhook_receiver.url})
    assert created.status_code == 201
    secret = created.get_json()["secret"]
    assert set(created.get_json()["events"]) == set(partner_webhooks.EVENTS)
    assert "secret" not in client.get("/api/v1/webhooks").get_json()["items"][0]

    conflict_id = client.post("/api/v1/conflicts", json=NEW).get_json()["id"]
    _deliver()
    [request] = webhook_receiver.requests
    assert verify(request.body, secret, request.headers[SIGNATURE_HEADER])
    payload = json.loads(request.body)
    assert payload["event"] == "conflict.created"
    assert payload["conflict"]["id"] == conflict_id
    assert "/portal/conflicts/" in payload["conflict"]["url"]

    conflicts.comment(
        manager, conflict_id, "Internal: chase logistics.", internal=True, now=utcnow()
    )
    _deliver()
    assert len(webhook_receiver.requests) == 1  # internal notes produce nothing

    triage(
        db.session.get(type(conflict_access.visible_conflict(manager, conflict_id)), conflict_id),
        manager,
        now=utcnow(),
    )
    conflicts.comment(manager, conflict_id, "We are on it.", now=utcnow())
    _deliver()
    events = [json.loads(r.body) for r in webhook_receiver.requests[1:]]
    assert [e["event"] for e in events] == ["conflict.state_changed", "conflict.public_comment"]
    assert events[0]["change"]["to"] == "triaged"
    assert events[1]["comment"] == {"body": "We are on it.", "author": manager.name}
    for request in webhook_receiver.requests:
        assert verify(request.body, secret, request.headers[SIGNATURE_HEADER])
        assert b"chase logistics" not in request.body and b"assignee" not in request.body


def test_a_hook_hears_only_its_events_and_only_its_partner(api, webhook_receiver) -> None:
    user, manager = make_partner_user(), make_manager()
    api(user).post(
        "/api/v1/webhooks", json={"url": webhook_receiver.url, "events": ["conflict.resolved"]}
    )
    make_conflict(make_partner_user())  # another partner's
    conflict = make_conflict(user, now=utcnow())
    triage(conflict, manager, now=utcnow())
    conflicts.act(
        manager,
        conflict.id,
        "resolve",
        {"summary": "Paid.", "root_cause": "process_gap", "accountable_side": "us"},
        now=utcnow(),
    )
    _deliver()
    assert [json.loads(r.body)["event"] for r in webhook_receiver.requests] == ["conflict.resolved"]


def test_a_deactivated_hook_gets_nothing_more(api, webhook_receiver) -> None:
    user = make_partner_user()
    client = api(user)
    hook = client.post("/api/v1/webhooks", json={"url": webhook_receiver.url}).get_json()
    assert client.post(f"/api/v1/webhooks/{hook['id']}/deactivate").get_json()["active"] is False
    make_conflict(user, now=utcnow())
    _deliver()
    assert webhook_receiver.requests == []
    assert db.session.query(OutboxMessage).count() == 0


@pytest.mark.parametrize(
    "url", ["http://example.com/hook", "ftp://example.com/hook", "https://", "not a url"]
)
def test_webhook_urls_must_be_https(api, url) -> None:
    response = api(make_partner_user()).post("/api/v1/webhooks", json={"url": url})
    assert "url" in assert_problem(response, 422)["errors"]


def test_only_partner_users_manage_webhooks_and_only_their_own(api, webhook_receiver) -> None:
    assert_problem(api(make_manager()).get("/api/v1/webhooks"), 403)
    hook = api(make_partner_user()).post("/api/v1/webhooks", json={"url": webhook_receiver.url})
    stranger = api(make_partner_user())
    assert stranger.get("/api/v1/webhooks").get_json()["items"] == []
    assert_problem(stranger.post(f"/api/v1/webhooks/{hook.get_json()['id']}/deactivate"), 404)


def test_unknown_events_are_422(api) -> None:
    response = api(make_partner_user()).post(
        "/api/v1/webhooks", json={"url": "https://example.com/h", "events": ["conflict.exploded"]}
    )
    assert_problem(response, 422)
