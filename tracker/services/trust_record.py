"""One partner's trust record as people read it: figures, trend, ledger and check-ins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.domain import trust as model
from tracker.extensions import db
from tracker.models import CheckIn, Conflict, TrustEvent
from tracker.services import paging, trust


@dataclass(frozen=True)
class TrustFigures:
    """A partner's scores now, their 30-day change, the period's statistics and the trend."""

    scores: dict[str, trust.SideScore]
    changes: dict[str, float]
    fading_only: dict[str, bool]  # the change comes from ageing alone, no new evidence
    stats: trust.PeriodStats
    trend: dict[str, list[tuple[datetime, trust.SideScore]]]
    half_life_days: int


def figures(partner_id: int, since: datetime, until: datetime, now: datetime) -> TrustFigures:
    """Every number the trust page shows for `partner_id`, statistics over [since, until)."""
    scores = trust.scores(partner_id, now)
    # Both trends and both sides' tallies 30 days ago: one look-up of history, not 28.
    month_ago, moments = now - timedelta(days=30), trust.trend_moments(now)
    wanted = [(side, month_ago) for side in model.SIDES]
    wanted += [(side, moment) for side in model.SIDES for moment in moments]
    tallies = iter(trust.scores_at(partner_id, wanted))
    moved = {side: trust.change_since(next(tallies), scores[side], now) for side in model.SIDES}
    trend = {
        side: [(moment, trust.side_score(side, next(tallies))) for moment in moments]
        for side in model.SIDES
    }
    return TrustFigures(
        scores=scores,
        changes={side: change for side, (change, _) in moved.items()},
        fading_only={side: fading for side, (_, fading) in moved.items()},
        stats=trust.period_stats(partner_id, since, until),
        trend=trend,
        half_life_days=trust.weights().half_life.days,
    )


def ledger_page(
    partner_id: int, since: datetime, until: datetime, page: int, per_page: int
) -> Pagination:
    """The explained ledger over [since, until), newest first, one page of it, each row's
    conflict (its reference, for the explanation) loaded with the page, not row by row."""
    query = trust.ledger(partner_id, since, until).options(
        selectinload(TrustEvent.conflict).load_only(Conflict.id, Conflict.ref)
    )
    return paging.numbered(query, page, per_page)


def ledger(
    partner_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    limit: int | None = None,
) -> list[TrustEvent]:
    """The ledger's events (at most `limit`), newest first."""
    return list(db.session.scalars(trust.ledger(partner_id, since, until).limit(limit)))


def recent_check_ins(partner_id: int, limit: int = 10) -> list[CheckIn]:
    """The partner's latest check-ins, newest first (managers only: the route checks)."""
    return list(
        db.session.scalars(
            select(CheckIn)
            .where(CheckIn.partner_id == partner_id)
            .order_by(CheckIn.at.desc())
            .limit(limit)
        )
    )
