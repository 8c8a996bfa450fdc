"""GET /api/v1/partners/{id}/trust: the same numbers as the trust page, tenant-scoped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import assert_problem
from tests.factories import (
    RESOLUTION,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tracker.services import conflicts, trust


def _closed_loop(user, manager):  # type: ignore[no-untyped-def]
    start = datetime.now(UTC) - timedelta(days=2)
    conflict = make_conflict(user, severity="high", now=start)
    triage(conflict, manager, now=start + timedelta(minutes=20))
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=start + timedelta(hours=1))
    conflicts.act(user, conflict.id, "accept", {}, now=start + timedelta(hours=2))
    return conflict


def test_trust_record_has_both_sides_and_the_explained_ledger(api) -> None:
    manager = make_manager()
    user = make_partner_user()
    conflict = _closed_loop(user, manager)
    response = api(manager).get(f"/api/v1/partners/{user.partner_id}/trust")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["half_life_days"] == 90
    expected = trust.scores(user.partner_id, datetime.now(UTC))["delivery"]
    assert body["delivery"]["score"] == pytest.approx(expected.score, abs=0.01)
    assert body["delivery"]["r"] == pytest.approx(expected.r, rel=1e-4)
    low, high = body["delivery"]["interval"]
    assert low < body["delivery"]["score"] < high
    assert body["responsiveness"]["r"] == 0 and body["responsiveness"]["s"] == 0
    accepted = next(e for e in body["events"] if e["kind"] == "accepted")
    assert accepted["conflict_ref"] == conflict.ref and accepted["weight"] == 1.5
    assert accepted["side"] == "delivery" and accepted["rule"] == "sla_met"
    assert accepted["explanation"].startswith(f"+1.5: {conflict.ref}")
    assert body["as_of"].endswith("+00:00")


def test_a_partner_reads_its_own_trust_but_not_another_partners(api) -> None:
    user = make_partner_user()
    other = make_partner(name="Other Co")
    client = api(user, "read")
    assert client.get(f"/api/v1/partners/{user.partner_id}/trust").status_code == 200
    assert_problem(client.get(f"/api/v1/partners/{other.id}/trust"), 404)
    assert_problem(api(make_manager()).get("/api/v1/partners/424242/trust"), 404)


def test_trust_query_is_validated(api) -> None:
    manager = make_manager()
    partner = make_partner()
    assert_problem(api(manager).get(f"/api/v1/partners/{partner.id}/trust?limit=0"), 422)
    assert_problem(api(manager).get(f"/api/v1/partners/{partner.id}/trust?since=yesterday"), 422)
    ok = api(manager).get(f"/api/v1/partners/{partner.id}/trust?since=2026-01-01T00:00:00Z&limit=5")
    assert ok.status_code == 200 and ok.get_json()["events"] == []
