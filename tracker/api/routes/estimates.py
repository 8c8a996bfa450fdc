"""Honest ETA: how long conflicts like this one took, before raising one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.api import schemas as s
from tracker.api.endpoint import endpoint
from tracker.clock import utcnow
from tracker.domain.estimates import MONTHS
from tracker.services import estimates

if TYPE_CHECKING:
    from tracker.models import User


@endpoint(
    "/estimates",
    summary="How long conflicts like this took",
    tag="estimates",
    query=s.EstimateQuery,
    responses={200: s.Estimate},
)
def get_estimate(user: User, query: s.EstimateQuery) -> s.Estimate:
    """Median and 9-in-10 business hours to a first resolution per (category, severity) over
    the last 12 months, with the dates they mean from now; null below 5 conflicts."""
    shown = estimates.forecast(
        user, query.category.value, query.severity.value, utcnow(), partner_id=query.partner_id
    )
    found = shown.estimate
    return s.Estimate(
        category=shown.category,
        severity=shown.severity,
        months=MONTHS,
        conflicts=found.conflicts,
        shown=shown.shown,
        median_business_hours=found.median_hours if shown.shown else None,
        p90_business_hours=found.p90_hours if shown.shown else None,
        median_date=shown.median_date,
        p90_date=shown.p90_date,
    )
