"""The trust page's period figures come from day counts and equal a direct computation from
the ledger; reading them does not grow with history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, text

from tests.factories import RESOLUTION, make_conflict, make_manager, make_partner, make_partner_user
from tests.factories import triage as triage_conflict
from tests.statements import counting_statements
from tracker.domain import estimates
from tracker.domain import trust_period as period
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import Conflict, Rating, TrustDayCount, TrustEvent
from tracker.services import conflicts, count_rebuild, trust

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PERIODS = (1, 30, 90, 365, None)


def _story() -> int:
    """Eight months of one partner's conflicts, every fact the page counts; and a second
    partner's, which must never count for the first."""
    north = make_partner_user(partner=make_partner(name="Northwind"))
    blue = make_partner_user(partner=make_partner(name="Bluefin"))
    manager = make_manager()
    earlier = None
    for week in range(0, 37, 3):
        user = north if week % 2 == 0 else blue
        raised = START + timedelta(weeks=week, hours=week % 5)
        severity = ("critical", "high", "medium", "low")[week % 4]
        conflict = make_conflict(user, severity=severity, now=raised)
        if severity == "critical":
            sweep(raised + timedelta(hours=6))  # triage missed: a breach
            sweep(raised + timedelta(days=3))  # and the resolution target: the same conflict
        triage_conflict(conflict, manager, now=raised + timedelta(hours=7))
        resolved = raised + timedelta(hours=8 + 5 * (week % 7))
        conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=resolved)
        if week % 9 == 0:
            conflicts.act(user, conflict.id, "dispute", {"reason": "No."}, now=resolved)
            resolved += timedelta(hours=2)
            conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=resolved)
        conflicts.act(user, conflict.id, "accept", {}, now=resolved + timedelta(hours=1))
        if week % 12 == 6:
            later = resolved + timedelta(hours=2)
            conflicts.act(user, conflict.id, "reopen", {"reason": "Back."}, now=later)
            conflicts.act(
                manager, conflict.id, "resolve", RESOLUTION, now=later + timedelta(hours=3)
            )
            conflicts.act(user, conflict.id, "accept", {}, now=later + timedelta(hours=4))
        else:
            trust.rate(user, conflict.id, 1 + week % 5, "", now=resolved + timedelta(days=1))
        if user is north and earlier is not None and week % 4 == 0:
            conflicts.link_repeat(manager, conflict.id, earlier.ref, now=resolved)
            conflicts.link_repeat(manager, conflict.id, earlier.ref, now=resolved)  # once only
        if user is north:
            earlier = conflict
    return north.partner_id


def _direct(partner_id: int, since: datetime, until: datetime) -> period.PeriodStats:
    """The figures as their definitions say, from the ledger, ratings and conflicts."""
    end = datetime.combine(period.day_of(until) + timedelta(days=1), datetime.min.time(), UTC)

    def within(moment: datetime) -> bool:
        return since <= moment < end

    ledger = db.session.scalars(
        select(TrustEvent).where(TrustEvent.partner_id == partner_id).order_by(TrustEvent.id)
    ).all()
    closed = [e for e in ledger if e.kind in period.CLOSING_KINDS and within(e.at)]
    hours = {s: [] for s in ("low", "medium", "high", "critical")}
    for e in closed:
        hours[e.severity].append(estimates.business_hours(e.resolution_business_seconds))
    first_breach: dict[int, datetime] = {}
    for e in ledger:
        if e.kind == "breached":
            first_breach.setdefault(e.conflict_id, e.at)
    stars = [
        r.stars
        for r in db.session.scalars(
            select(Rating).join(Conflict).where(Conflict.partner_id == partner_id)
        )
        if within(r.created_at)
    ]
    repeats = db.session.scalars(
        select(Conflict).where(
            Conflict.partner_id == partner_id, Conflict.repeat_of_id.is_not(None)
        )
    ).all()
    return period.PeriodStats(
        resolution_p50={s: estimates.nearest_rank(v, 0.5) for s, v in hours.items()},
        resolution_p90={s: estimates.nearest_rank(v, 0.9) for s, v in hours.items()},
        closed=len(closed),
        met=sum(1 for e in closed if e.sla_met),
        breaches=sum(1 for at in first_breach.values() if within(at)),
        disputes=sum(1 for e in ledger if e.kind == "disputed" and within(e.at)),
        reopens=sum(1 for e in ledger if e.kind == "reopened" and within(e.at)),
        repeat_incidents=sum(1 for c in repeats if within(c.created_at)),
        ratings=len(stars),
        average_rating=sum(stars) / len(stars) if stars else None,
    )


def test_period_figures_equal_a_direct_computation_from_the_ledger(app) -> None:
    partner_id = _story()
    for days in PERIODS:
        since = period.period_start(NOW, days)
        figures = trust.period_stats(partner_id, since, NOW)
        assert figures == _direct(partner_id, since, NOW), days
    # the story has every fact in it, and the periods differ
    assert figures.closed and figures.met < figures.closed and figures.breaches
    assert figures.disputes and figures.reopens and figures.ratings
    assert figures.repeat_incidents and figures.resolution_p90["critical"]
    assert trust.period_stats(partner_id, period.period_start(NOW, 90), NOW) != figures


def test_a_period_is_whole_utc_days_ending_today() -> None:
    assert period.period_start(NOW, 30) == datetime(2026, 10, 22, tzinfo=UTC)
    assert period.period_start(NOW, 1) == datetime(2026, 11, 20, tzinfo=UTC)
    assert period.period_start(NOW, None) == datetime(2000, 1, 1, tzinfo=UTC)


def _count_rows() -> list[tuple]:
    return sorted(
        tuple(str(v) for v in row)
        for row in db.session.execute(
            text("SELECT partner_id, day, measure, severity, value, count FROM trust_day_counts")
        )
    )


def test_a_rebuild_from_the_ledger_gives_the_counts_kept_as_it_grew(app) -> None:
    """History that did not move through the services (the migration, `flask demo
    generate`) gets its day counts from the rebuild: the ones the writers keep."""
    _story()
    kept = _count_rows()
    assert kept
    count_rebuild.rebuild_trust_days(db.session.connection())
    assert _count_rows() == kept


def test_reading_a_period_does_not_grow_with_history(app) -> None:
    """One statement over the day counts of the period's own days; years of older history
    (here: day counts of two more years) change neither it nor what it returns."""
    partner_id = _story()
    since = period.period_start(NOW, 30)
    statements: list[str] = []

    def read() -> tuple[period.PeriodStats, int]:
        with counting_statements() as sent:
            figures = trust.period_stats(partner_id, since, NOW)
        statements[:] = sent
        return figures, len(trust_counts_rows(partner_id, since))

    before, rows_before = read()
    assert len(statements) == 1 and "trust_day_counts" in statements[0]
    assert not any(t in statements[0] for t in ("trust_events", "ratings", "conflicts "))
    old = [
        TrustDayCount(
            partner_id=partner_id, day=date(2023, 1, 1) + timedelta(days=n), measure=measure,
            severity="high" if measure == period.CLOSED else "", value=n % 40, count=3,
        )
        for n in range(730)
        for measure in (period.CLOSED, period.DISPUTED, period.RATED)
    ]  # fmt: skip
    db.session.add_all(old)
    db.session.commit()
    after, rows_after = read()
    assert len(statements) == 1
    assert (after, rows_after) == (before, rows_before)
    if db.engine.dialect.name == "sqlite":  # the plan: a range of the unique key, not a scan
        plan = " ".join(
            row[-1]
            for row in db.session.execute(
                text("EXPLAIN QUERY PLAN " + statements_for(partner_id, since))
            )
        )
        assert "SEARCH trust_day_counts USING INDEX" in plan, plan
        assert "(partner_id=? AND day>? AND day<?)" in plan, plan


def trust_counts_rows(partner_id: int, since: datetime) -> list[TrustDayCount]:
    """The day-count rows a period's statement reads."""
    return list(
        db.session.scalars(
            select(TrustDayCount).where(
                TrustDayCount.partner_id == partner_id,
                TrustDayCount.day >= period.day_of(since),
                TrustDayCount.day <= period.day_of(NOW),
            )
        )
    )


def statements_for(partner_id: int, since: datetime) -> str:
    return (
        "SELECT measure, severity, value, sum(count) FROM trust_day_counts "  # noqa: S608
        f"WHERE partner_id = {int(partner_id)} AND day >= '{period.day_of(since)}' "
        f"AND day <= '{period.day_of(NOW)}' GROUP BY measure, severity, value"
    )
