"""Honest ETA: how long conflicts like this were taken to resolve, kept as they resolve.

`on_state_changed` adds each first resolution to its (category, severity, month, business
hours) count with one UPSERT, in the transaction that resolves it; `forecast()` reads at
most twelve months of counts for one (category, severity), never the conflicts themselves.
The value counted is the ledger's: the business time a "resolved" trust event records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tracker.database import add_to_counts
from tracker.domain import estimates as model
from tracker.domain import workflow
from tracker.domain.calendar import add_business_time
from tracker.domain.events import StateChanged
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import Conflict, Partner, ResolutionTimeCount, User
from tracker.services import sla
from tracker.services.errors import InvalidInput


def on_state_changed(event: StateChanged, now: datetime) -> None:
    """A first resolution (no reopen or dispute before it) joins its count."""
    if event.action != "resolve":
        return
    conflict = db.session.get(Conflict, event.conflict_id)
    if conflict.reopen_count:
        return
    add_to_counts(
        db.session,
        ResolutionTimeCount,
        {
            "category": conflict.category,
            "severity": conflict.severity,
            "month": model.month_of(now),
            "business_hours": model.business_hours(conflict.resolution_spent_seconds),
        },
        {"conflicts": 1},
    )


def estimate(category: str, severity: str, now: datetime) -> model.Estimate:
    """The last twelve months' estimate for (category, severity); unknown values are refused."""
    if category not in workflow.CATEGORIES:
        raise InvalidInput(
            N_("Unknown category."), field_errors={"category": N_("Choose a category.")}
        )
    if severity not in workflow.SEVERITIES:
        raise InvalidInput(
            N_("Unknown severity."), field_errors={"severity": N_("Choose a severity.")}
        )
    rows = db.session.execute(
        select(ResolutionTimeCount.business_hours, func.sum(ResolutionTimeCount.conflicts))
        .where(
            ResolutionTimeCount.category == category,
            ResolutionTimeCount.severity == severity,
            ResolutionTimeCount.month >= model.window_start(now),
        )
        .group_by(ResolutionTimeCount.business_hours)
    )
    return model.estimate({int(hours): int(count) for hours, count in rows})


@dataclass(frozen=True)
class Forecast:
    """The estimate, and (for a partner) the dates it means from now, in their timezone."""

    category: str
    severity: str
    estimate: model.Estimate
    median_date: date | None = None
    p90_date: date | None = None

    @property
    def shown(self) -> bool:
        return self.estimate.enough


def forecast(
    viewer: User,
    category: str,
    severity: str,
    now: datetime,
    *,
    partner_id: int | None = None,
    start: datetime | None = None,
) -> Forecast:
    """What to expect: the dates the estimate means from `start` (default now), counted in
    the partner's business calendar and shown in its timezone. A partner's people get their
    own organisation's; staff the partner they name, else no dates."""
    found = estimate(category, severity, now)
    partner = viewer.partner if viewer.is_partner else None
    if partner_id is not None and (viewer.is_staff or partner_id != viewer.partner_id):
        partner = db.session.get(Partner, partner_id) if viewer.is_staff else None
        if partner is None:  # the same answer for another's partner and for none
            raise InvalidInput(
                N_("No such partner."), field_errors={"partner_id": N_("No such partner.")}
            )
    if not found.enough or partner is None:
        return Forecast(category, severity, found)
    calendar = sla.agreement_for(partner).calendar
    zone = ZoneInfo(partner.timezone)
    begin = start or now

    def day(hours: int | None) -> date | None:
        if hours is None:
            return None
        return add_business_time(begin, timedelta(hours=hours), calendar).astimezone(zone).date()

    return Forecast(category, severity, found, day(found.median_hours), day(found.p90_hours))


def for_conflict(viewer: User, conflict: Conflict, now: datetime) -> Forecast:
    """The forecast next to a conflict's SLA promise: dates counted from when it was raised."""
    partner_id = conflict.partner_id if viewer.is_staff else None
    return forecast(
        viewer,
        conflict.category,
        conflict.severity,
        now,
        partner_id=partner_id,
        start=conflict.created_at,
    )


def for_choice(
    viewer: User, category: str | None, severity: str | None, now: datetime
) -> Forecast | None:
    """The forecast for what the new-conflict form has chosen so far; None until both are
    valid choices (the form explains nothing until then)."""
    if category not in workflow.CATEGORIES or severity not in workflow.SEVERITIES:
        return None
    return forecast(viewer, category, severity, now)
