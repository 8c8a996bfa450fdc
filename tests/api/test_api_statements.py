"""The API's list and create read a constant number of statements, whatever the history."""

from __future__ import annotations

from tests.factories import make_conflict, make_manager, make_partner, make_partner_user
from tests.statements import counting_statements
from tests.web.test_query_counts import SLACK

BODY = {
    "title": "Invoice 4471 paid 12 days after the agreed terms",
    "description": "The payment run missed the date agreed in the reseller terms.",
    "category": "payment_terms",
    "severity": "medium",
}
# What one create reads and writes (the token with its user, partner and the partner's
# agreement, the conflict's INSERT and one UPDATE for its reference and clocks, the
# partner's last contact, the rollup, the timeline entry, the search entry, the followers
# with their choices in one statement, the partner's hooks, the in-app notice, the mail
# notice and its outbox message; the answer re-reads nothing): a ceiling, so that a new
# read per request is noticed. Lower it when a statement goes; never raise it.
CREATE_CEILING = 12


def _count(call) -> int:  # type: ignore[no-untyped-def]
    with counting_statements() as seen:
        response = call()
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return len(seen)


def test_create_and_list_do_not_grow_with_history(app, api) -> None:
    partner = make_partner(owner_id=make_manager().id)
    user = make_partner_user(partner=partner)
    client = api(user)
    client.post("/api/v1/conflicts", json=BODY)  # warm-up
    small_create = _count(lambda: client.post("/api/v1/conflicts", json=BODY))
    small_list = _count(lambda: client.get("/api/v1/conflicts?limit=25"))
    for i in range(30):
        make_conflict(user, title=f"Older conflict {i}")
    large_create = _count(lambda: client.post("/api/v1/conflicts", json=BODY))
    large_list = _count(lambda: client.get("/api/v1/conflicts?limit=25"))
    assert large_create - small_create <= SLACK, (small_create, large_create)
    assert large_list - small_list <= SLACK, (small_list, large_list)
    assert large_create <= CREATE_CEILING, large_create


def test_create_snapshots_the_agreement_read_with_the_token(app, api) -> None:
    """The partner's agreement comes with the token's partner: its own policy, else its
    tier's, applied without a read of its own, and a changed tier is read again."""
    from tests.services.test_sla import _tier_policy
    from tracker.extensions import db
    from tracker.models import Conflict

    partner = make_partner(owner_id=make_manager().id, tier="strategic")
    tier = _tier_policy("strategic", 30, name="Strategic")
    own = _tier_policy("preferred", 45, name="Own")
    client = api(make_partner_user(partner=partner))
    client.post("/api/v1/conflicts", json=BODY)  # warm-up
    with counting_statements() as seen:
        response = client.post("/api/v1/conflicts", json=BODY)
    assert len(seen) <= CREATE_CEILING, len(seen)
    assert not [s for s in seen if s.lstrip().startswith("SELECT sla_policies")], seen
    made = db.session.get(Conflict, response.get_json()["id"])
    assert (made.sla_policy_id, made.triage_target_seconds) == (tier.id, 30 * 60)

    own.tier = None
    partner.sla_policy_id = own.id
    db.session.commit()
    made = db.session.get(Conflict, client.post("/api/v1/conflicts", json=BODY).get_json()["id"])
    assert (made.sla_policy_id, made.triage_target_seconds) == (own.id, 45 * 60)
