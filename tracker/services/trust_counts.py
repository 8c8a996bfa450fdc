"""The trust page's day counts: kept as the ledger grows, summed for a period's figures.

Every ledger entry goes through `trust.record()`, which hands it here (`count_entry`); a
rating's stars and a repeat link come from their own use cases. Each fact adds one with a
single `INSERT … ON CONFLICT DO UPDATE` (`database.add_to_counts`), atomic under concurrent
writers on both engines. A period reads one row per (day, fact, split) of its own days:
the figures of the last 30, 90 or 365 days cost the same after ten years of history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select

from tracker.database import add_to_counts, add_to_counts_many
from tracker.domain import trust_period as period
from tracker.domain.estimates import business_hours
from tracker.extensions import db
from tracker.models import TrustDayCount, TrustEvent

# The ledger kinds counted as they are (the others are facts the period does not show).
_AS_IS = {"disputed": period.DISPUTED, "reopened": period.REOPENED}


def add(partner_id: int, at: datetime, measure: str, *, severity: str = "", value: int = 0) -> None:
    """One more `measure` for the partner on `at`'s UTC day."""
    keys = {
        "partner_id": partner_id,
        "day": period.day_of(at),
        "measure": measure,
        "severity": severity or "",
        "value": value,
    }
    add_to_counts(db.session, TrustDayCount, keys, {"count": 1})


def add_many(facts: Iterable[tuple[int, datetime, str]]) -> None:
    """One more of each (partner, moment, measure), in one statement for all of them (a
    sweep's batch breaches many conflicts); equal rows are summed first, since one
    statement may not update a row twice."""
    totals: Counter[tuple[int, date, str]] = Counter(
        (partner_id, period.day_of(at), measure) for partner_id, at, measure in facts
    )
    if not totals:
        return
    rows = [
        {"partner_id": p, "day": day, "measure": m, "severity": "", "value": 0, "count": n}
        for (p, day, m), n in totals.items()
    ]
    add_to_counts_many(db.session, TrustDayCount, KEYS, ("count",), rows)


KEYS = ("partner_id", "day", "measure", "severity", "value")


def count_entry(event: TrustEvent) -> None:
    """What a new ledger entry adds to its day (a first breach is counted by the caller,
    which knows whether the conflict breached before: `first_breaches`)."""
    if event.kind in period.CLOSING_KINDS:
        hours = business_hours(event.resolution_business_seconds or 0)
        add(event.partner_id, event.at, period.CLOSED, severity=event.severity, value=hours)
        if event.sla_met:
            add(event.partner_id, event.at, period.MET)
    elif event.kind in _AS_IS:
        add(event.partner_id, event.at, _AS_IS[event.kind])


def first_breaches(conflict_ids: Iterable[int]) -> set[int]:
    """Which of these conflicts have no "breached" ledger entry yet: one statement for a
    sweep's whole batch (read before the batch's own entries are added)."""
    ids = set(conflict_ids)
    if not ids:
        return set()
    seen = db.session.scalars(
        select(TrustEvent.conflict_id)
        .where(TrustEvent.kind == "breached", TrustEvent.conflict_id.in_(ids))
        .distinct()
    )
    return ids - set(seen)


def stats(partner_id: int, since: datetime, until: datetime) -> period.PeriodStats:
    """The figures over the whole UTC days from `since`'s to `until`'s (both included)."""
    return period.stats(day_counts(partner_id, since, until))


def day_counts(partner_id: int, since: datetime, until: datetime) -> list[period.DayCount]:
    """The period's counts, summed per (fact, split) by the database: one short row each."""
    total = db.func.sum(TrustDayCount.count)
    rows = db.session.execute(
        select(TrustDayCount.measure, TrustDayCount.severity, TrustDayCount.value, total)
        .where(
            TrustDayCount.partner_id == partner_id,
            TrustDayCount.day >= period.day_of(since),
            TrustDayCount.day <= period.day_of(until),
        )
        .group_by(TrustDayCount.measure, TrustDayCount.severity, TrustDayCount.value)
    )
    return [period.DayCount(m, s, v, int(n)) for m, s, v, n in rows]
