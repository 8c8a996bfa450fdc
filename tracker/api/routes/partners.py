"""Partner organisations and the SLA agreement in force for each."""

from __future__ import annotations

from tracker.api import present, queries
from tracker.api import schemas as s
from tracker.api.endpoint import endpoint
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import User
from tracker.services import partners, trust
from tracker.services.errors import NotFound


@endpoint("/partners", summary="List partners", tag="partners", responses={200: s.PartnerList})
def list_partners(user: User) -> s.PartnerList:
    """Managers see every partner; a partner's users see their own organisation."""
    return s.PartnerList(items=[present.partner(p) for p in queries.visible_partners(user)])


@endpoint(
    "/partners/<id:partner_id>/agreement",
    summary="The partner's SLA agreement",
    tag="partners",
    responses={200: s.Agreement},
)
def get_agreement(user: User, partner_id: int) -> s.Agreement:
    """Weekly hours in the partner's timezone, holidays, per-severity targets (business minutes)."""
    if user.is_partner and user.partner_id != partner_id:
        raise NotFound("No such partner.")
    return present.agreement(partners.get_partner(partner_id))


@endpoint(
    "/partners/<id:partner_id>/trust",
    summary="The partnership's trust record",
    tag="partners",
    responses={200: s.Trust},
    query=s.TrustQuery,
)
def get_trust(user: User, partner_id: int, query: s.TrustQuery) -> s.Trust:
    """Both scores with intervals (r, s decayed to as_of) and the explained ledger, newest first.

    Managers read any partner; a partner's users only their own (404 for others).
    """
    if user.is_partner and user.partner_id != partner_id:
        raise NotFound("No such partner.")
    partner = partners.get_partner(partner_id)
    now = utcnow()
    sides = trust.scores(partner.id, now)
    rows = db.session.scalars(trust.ledger(partner.id, since=query.since).limit(query.limit))
    return s.Trust(
        as_of=now,
        half_life_days=trust.weights().half_life.days,
        delivery=_side(sides["delivery"]),
        responsiveness=_side(sides["responsiveness"]),
        events=[
            s.TrustLedgerEvent(
                at=row.at,
                conflict_ref=row.conflict.ref if row.conflict else None,
                kind=row.kind,
                side=row.side,
                weight=row.weight,
                rule=row.rule,
                explanation=trust.explain(row),
            )
            for row in rows
        ],
    )


def _side(score: trust.SideScore) -> s.TrustSide:
    return s.TrustSide(
        score=round(score.score, 2),
        interval=[round(score.low, 2), round(score.high, 2)],
        r=score.r,
        s=score.s,
    )
