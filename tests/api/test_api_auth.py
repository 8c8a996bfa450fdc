"""Tokens: who may call, with which scope, and how often."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.conftest import ApiClient, assert_problem, token_for
from tests.factories import make_conflict, make_manager, make_partner_user
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import ApiToken
from tracker.services import accounts, api_tokens
from tracker.services.errors import NotFound


def test_a_request_without_a_token_is_401_with_a_bearer_challenge(api) -> None:
    response = api(None).get("/api/v1/conflicts")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_401(client) -> None:
    response = ApiClient(client, "trk_not-a-real-token").get("/api/v1/conflicts")
    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_token_is_stored_only_as_its_hash_and_records_its_use(client) -> None:
    user = make_manager()
    token = token_for(user, "read")
    row = db.session.query(ApiToken).one()
    assert token.startswith("trk_") and token not in (row.token_hash, row.prefix)
    assert row.token_hash == api_tokens.hash_token(token) and token.startswith(row.prefix)
    assert ApiClient(client, token).get("/api/v1/conflicts").status_code == 200
    assert db.session.get(ApiToken, row.id).last_used_at is not None


def test_a_revoked_token_stops_working(client) -> None:
    user = make_manager()
    token = token_for(user)
    row = db.session.query(ApiToken).one()
    api_tokens.revoke(user, row.id, utcnow())
    assert_problem(ApiClient(client, token).get("/api/v1/conflicts"), 401)


def test_an_expired_token_stops_working(client) -> None:
    user = make_manager()
    token = token_for(user)
    row = db.session.query(ApiToken).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert_problem(ApiClient(client, token).get("/api/v1/conflicts"), 401)


def test_a_deactivated_users_token_stops_working(client) -> None:
    user = make_partner_user()
    token = token_for(user)
    accounts.set_active(user.id, False, now=utcnow())
    assert_problem(ApiClient(client, token).get("/api/v1/conflicts"), 401)


def test_a_read_token_cannot_write(api) -> None:
    user = make_partner_user()
    conflict = make_conflict(user)
    reader = api(user, "read")
    assert reader.get(f"/api/v1/conflicts/{conflict.id}").status_code == 200
    body = assert_problem(
        reader.post(f"/api/v1/conflicts/{conflict.id}/comments", json={"body": "Hello"}), 403
    )
    assert "read-only" in body["detail"]


def test_one_cannot_revoke_someone_elses_token(app) -> None:
    owner, other = make_manager(), make_manager()
    token_for(owner)
    row = db.session.query(ApiToken).one()
    with pytest.raises(NotFound):
        api_tokens.revoke(other, row.id, utcnow())
    assert db.session.get(ApiToken, row.id).revoked_at is None


def test_requests_are_rate_limited_per_token(app, client) -> None:
    app.config["API_RATE_LIMIT"] = "2/minute"
    user = make_manager()
    first, second = ApiClient(client, token_for(user)), ApiClient(client, token_for(user))
    assert first.get("/api/v1/partners").status_code == 200
    assert first.get("/api/v1/partners").status_code == 200
    limited = first.get("/api/v1/partners")
    assert_problem(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1
    assert second.get("/api/v1/partners").status_code == 200


def test_tokens_of_an_inactive_partners_users_stop_working(api) -> None:
    from tests.factories import make_partner_user
    from tracker.services import partners

    user = make_partner_user()
    client = api(user, "read")
    assert client.get("/api/v1/conflicts").status_code == 200
    partner = user.partner
    partners.update_partner(
        partner.id, name=partner.name, tier=partner.tier, timezone=partner.timezone,
        country=partner.country, owner_id=partner.owner_id, active=False,
    )  # fmt: skip
    response = client.get("/api/v1/conflicts")
    assert response.status_code == 401


def test_reactivating_a_partner_does_not_revive_its_users_tokens(api) -> None:
    from tests.factories import make_partner_user
    from tracker.services import partners

    user = make_partner_user()
    client = api(user, "read")
    partner = user.partner
    fields = dict(
        name=partner.name, tier=partner.tier, timezone=partner.timezone,
        country=partner.country, owner_id=partner.owner_id,
    )  # fmt: skip
    partners.update_partner(partner.id, active=False, **fields)
    assert client.get("/api/v1/conflicts").status_code == 401
    partners.update_partner(partner.id, active=True, **fields)
    assert client.get("/api/v1/conflicts").status_code == 401  # revoked for good
    assert api(user, "read").get("/api/v1/conflicts").status_code == 200  # a new one works
