"""Partner organisations and the SLA agreement in force for each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.api import present
from tracker.api import schemas as s
from tracker.api.endpoint import endpoint
from tracker.clock import utcnow
from tracker.services import partners, trust, trust_record

if TYPE_CHECKING:
    from tracker.models import User


@endpoint("/partners", summary="List partners", tag="partners", responses={200: s.PartnerList})
def list_partners(user: User) -> s.PartnerList:
    """Managers see every partner; a partner's users see their own organisation."""
    return s.PartnerList(items=[present.partner(p) for p in partners.visible_partners(user)])


@endpoint(
    "/partners/<id:partner_id>/agreement",
    summary="The partner's SLA agreement",
    tag="partners",
    responses={200: s.Agreement},
)
def get_agreement(user: User, partner_id: int) -> s.Agreement:
    """Weekly hours in the partner's timezone, holidays, per-severity targets (business minutes)."""
    return present.agreement(partners.visible_partner(user, partner_id))


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
    partner = partners.visible_partner(user, partner_id)
    now = utcnow()
    sides = trust.scores(partner.id, now)
    rows = trust_record.ledger(partner.id, since=query.since, limit=query.limit)
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
