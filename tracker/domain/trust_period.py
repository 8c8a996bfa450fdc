"""The trust page's period figures from day counts: what a period is, and how its counts sum.

A period is whole UTC days: "the last 30 days" is today and the 29 days before it, from
midnight UTC, so that a day's counts (services/trust_counts.py) are either in it or not.
Each count says how often one fact happened to one partner on one day; the figures of any
period are their sums, and the percentiles of time to resolution come from the summed
counts per whole business hour, nearest rank, as the reports and the ETA read theirs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from tracker.domain.estimates import histogram_rank
from tracker.domain.trust import SEVERITIES

# What is counted, per partner and day (the ledger kind, or the row, it comes from):
CLOSED = "closed"  # accepted / auto_accepted: severity, value = business hours, rounded up
MET = "met"  # of those, within the resolution target
FIRST_BREACH = "first_breach"  # a conflict's first "breached" entry: conflicts, not levels
DISPUTED = "disputed"
REOPENED = "reopened"
RATED = "rated"  # value = the stars
REPEAT = "repeat"  # a conflict linked as a repeat, on the day it was raised
MEASURES = (CLOSED, MET, FIRST_BREACH, DISPUTED, REOPENED, RATED, REPEAT)
CLOSING_KINDS = ("accepted", "auto_accepted")
ALL_TIME = date(2000, 1, 1)


def day_of(moment: datetime) -> date:
    """The UTC day a moment counts on."""
    return moment.astimezone(UTC).date()


def period_start(now: datetime, days: int | None) -> datetime:
    """The first moment of the period of `days` whole days ending today (None: all time)."""
    first = ALL_TIME if days is None else day_of(now) - timedelta(days=max(1, days) - 1)
    return datetime.combine(first, time(0), tzinfo=UTC)


@dataclass(frozen=True)
class DayCount:
    measure: str
    severity: str
    value: int
    count: int


@dataclass(frozen=True)
class PeriodStats:
    """The trust page's "In this period": hours are whole business hours (nearest rank)."""

    resolution_p50: dict[str, int | None]
    resolution_p90: dict[str, int | None]
    closed: int
    met: int
    breaches: int
    disputes: int
    reopens: int
    repeat_incidents: int
    ratings: int
    average_rating: float | None

    @property
    def compliance(self) -> float | None:
        return 100 * self.met / self.closed if self.closed else None


def stats(counts: Iterable[DayCount]) -> PeriodStats:
    """Sum a period's day counts into its figures."""
    totals: dict[str, int] = defaultdict(int)
    hours: dict[str, dict[int, int]] = {s: defaultdict(int) for s in SEVERITIES}
    stars = 0
    for c in counts:
        totals[c.measure] += c.count
        if c.measure == CLOSED and c.severity in hours:
            hours[c.severity][c.value] += c.count
        elif c.measure == RATED:
            stars += c.value * c.count
    ratings = totals[RATED]
    return PeriodStats(
        resolution_p50={s: histogram_rank(h, 0.5) for s, h in hours.items()},
        resolution_p90={s: histogram_rank(h, 0.9) for s, h in hours.items()},
        closed=totals[CLOSED],
        met=totals[MET],
        breaches=totals[FIRST_BREACH],
        disputes=totals[DISPUTED],
        reopens=totals[REOPENED],
        repeat_incidents=totals[REPEAT],
        ratings=ratings,
        average_rating=stars / ratings if ratings else None,
    )
