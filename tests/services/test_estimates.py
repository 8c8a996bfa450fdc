"""Honest ETA: the counts kept as conflicts resolve give what the ledger gives directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import RESOLUTION, make_conflict, make_manager, make_partner_user, triage
from tracker.domain import estimates as model
from tracker.extensions import db
from tracker.models import Conflict, TrustEvent
from tracker.services import conflicts, estimates
from tracker.services.errors import InvalidInput

MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Berlin: office hours begin


def _resolved_after(user, manager, hours: float, start: datetime, **values):  # type: ignore[no-untyped-def]
    conflict = make_conflict(user, now=start, **values)
    triage(conflict, manager, now=start)
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=start + timedelta(hours=hours))
    return conflict


def _direct(category: str, severity: str, now: datetime) -> tuple[int, int | None, int | None]:
    """From the ledger itself: each conflict's first "resolved" event in the window."""
    rows = db.session.execute(
        select(TrustEvent.conflict_id, TrustEvent.at, TrustEvent.resolution_business_seconds)
        .join(Conflict, Conflict.id == TrustEvent.conflict_id)
        .where(
            TrustEvent.kind == "resolved",
            Conflict.category == category,
            Conflict.severity == severity,
        )
        .order_by(TrustEvent.id)
    ).all()
    first: dict[int, tuple[datetime, int]] = {}
    for conflict_id, at, seconds in rows:
        first.setdefault(conflict_id, (at, seconds))
    start = model.window_start(now)
    hours = [-(-s // 3600) for at, s in first.values() if at.date().replace(day=1) >= start]
    return len(hours), model.nearest_rank(hours, 0.5), model.nearest_rank(hours, 0.9)


def test_the_estimate_equals_a_direct_computation_from_the_ledger(app) -> None:
    user, manager = make_partner_user(), make_manager()
    start = MONDAY
    for hours in (1, 2, 2.5, 3, 5, 6.25, 7, 30, 0.1):
        _resolved_after(user, manager, hours, start, category="delivery", severity="high")
        start += timedelta(days=7)
    other = _resolved_after(user, manager, 4, start, category="delivery", severity="low")
    # a second resolution after a dispute does not count twice
    conflicts.act(
        user, other.id, "dispute", {"reason": "Not fixed."}, now=start + timedelta(hours=5)
    )
    conflicts.act(manager, other.id, "resolve", RESOLUTION, now=start + timedelta(hours=6))
    now = start + timedelta(days=1)
    found = estimates.estimate("delivery", "high", now)
    assert (found.conflicts, found.median_hours, found.p90_hours) == _direct(
        "delivery", "high", now
    )
    assert found.conflicts == 9 and found.enough
    low = estimates.estimate("delivery", "low", now)
    assert (low.conflicts, low.median_hours) == _direct("delivery", "low", now)[:2] == (1, 4)
    assert not low.enough


def test_resolutions_older_than_twelve_months_drop_out(app) -> None:
    user, manager = make_partner_user(), make_manager()
    for week in range(6):
        _resolved_after(user, manager, 2, MONDAY + timedelta(weeks=week), category="quality")
    assert estimates.estimate("quality", "high", MONDAY + timedelta(weeks=8)).conflicts == 6
    a_year_on = datetime(2027, 3, 1, tzinfo=UTC)
    assert (
        estimates.estimate("quality", "high", a_year_on).conflicts
        == _direct("quality", "high", a_year_on)[0]
    )
    assert estimates.estimate("quality", "high", datetime(2027, 4, 1, tzinfo=UTC)).conflicts == 0


def test_the_forecast_is_a_date_in_the_partners_business_calendar(app) -> None:
    user, manager = make_partner_user(), make_manager()
    start = MONDAY
    for _ in range(5):
        _resolved_after(user, manager, 10, start, category="delivery", severity="medium")
        start += timedelta(days=7)
    friday_afternoon = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 16:00 in Berlin
    shown = estimates.forecast(user, "delivery", "medium", friday_afternoon)
    assert shown.shown and shown.estimate.median_hours == 8  # 8 business hours a day
    assert str(shown.median_date) == "2026-11-23"  # 1h Friday, 7h Monday: Monday
    staff = estimates.forecast(manager, "delivery", "medium", friday_afternoon)
    assert staff.median_date is None  # no partner named: no calendar to count in


@pytest.mark.parametrize(("category", "severity"), [("nope", "high"), ("delivery", "x")])
def test_unknown_category_or_severity_is_refused(app, category: str, severity: str) -> None:
    with pytest.raises(InvalidInput):
        estimates.estimate(category, severity, MONDAY)
