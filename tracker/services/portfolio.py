"""The trust portfolio: every active partner's scores, 30-day change, open conflicts, breaches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from tracker.domain import trust as model
from tracker.domain import workflow
from tracker.extensions import db
from tracker.models import Conflict, Partner, TrustEvent, TrustHistory, TrustScore
from tracker.services import trust

SORTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "change": lambda r: r["delivery_change"],
    "delivery": lambda r: r["delivery"].score,
    "responsiveness": lambda r: r["responsiveness"].score,
    "open": lambda r: -r["open"],
    "breaches": lambda r: -r["breaches"],
    "name": lambda r: r["partner"].name.lower(),
}
DEFAULT_SORT = "change"


def rows(now: datetime, sort: str = DEFAULT_SORT) -> list[dict[str, Any]]:
    """Every active partner with both scores, 30-day change, open conflicts and breaches this
    month, in `sort` order (one of SORTS; anything else is the default).

    A constant number of statements however many partners there are; the numbers are those
    of trust.scores() and trust.change().
    """
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    open_counts = dict(
        db.session.execute(
            select(Conflict.partner_id, func.count(Conflict.id))
            .where(Conflict.status.in_(workflow.ACTIVE_STATES))
            .group_by(Conflict.partner_id)
        ).all()
    )
    breach_counts = dict(
        db.session.execute(
            select(TrustEvent.partner_id, func.count(func.distinct(TrustEvent.conflict_id)))
            .where(TrustEvent.kind == "breached", TrustEvent.at >= month_start)
            .group_by(TrustEvent.partner_id)
        ).all()
    )
    half_life = trust.weights().half_life
    stored = {(row.partner_id, row.side): row for row in db.session.scalars(select(TrustScore))}
    shown = list(db.session.scalars(select(Partner).where(Partner.active.is_(True))))
    month_ago = _history_at(now - timedelta(days=30), half_life, [p.id for p in shown])
    result = []
    for partner in shown:
        row: dict[str, Any] = {
            "partner": partner,
            "open": open_counts.get(partner.id, 0),
            "breaches": breach_counts.get(partner.id, 0),
        }
        for side in model.SIDES:
            # As trust.scores() and trust.change(), from rows read once for every partner.
            score = stored.get((partner.id, side))
            tally = model.TrustTally(score.r, score.s, score.as_of) if score else model.TrustTally()
            tally = tally.decayed_to(now, half_life)
            low, high = tally.interval()
            events = score.events if score else 0
            row[side] = trust.SideScore(side, tally.score(), low, high, tally.r, tally.s, events)
            then = month_ago.get((partner.id, side), model.TrustTally())  # no history: prior
            row[f"{side}_change"] = tally.score() - then.score()
        result.append(row)
    return sorted(result, key=SORTS.get(sort, SORTS[DEFAULT_SORT]))


def _history_at(
    moment: datetime, half_life: timedelta, partner_ids: list[int]
) -> dict[tuple[int, str], model.TrustTally]:
    """Each (partner, side)'s tally as it stood at `moment`, as trust.score_at() reads it.

    One query: per partner and side, a correlated look-up that steps back once along
    ix_trust_history_partner_side_as_of, so the cost follows the partners shown, not history.
    """
    if not partner_ids:
        return {}
    columns = []
    for side in model.SIDES:
        columns.append(
            select(TrustHistory.id)
            .where(
                TrustHistory.partner_id == Partner.id,
                TrustHistory.side == side,
                TrustHistory.as_of <= moment,
            )
            .order_by(TrustHistory.as_of.desc())
            .limit(1)
            .scalar_subquery()
        )
    found = db.session.execute(select(Partner.id, *columns).where(Partner.id.in_(partner_ids)))
    ids = [history_id for _, *history_ids in found for history_id in history_ids if history_id]
    rows = db.session.scalars(select(TrustHistory).where(TrustHistory.id.in_(ids))) if ids else []
    return {
        (row.partner_id, row.side): model.TrustTally(row.r, row.s, row.as_of).decayed_to(
            moment, half_life
        )
        for row in rows
    }
