"""How long conflicts like this one really take: percentiles from a histogram of hours.

The forecast shown to partners is read from counts of first resolutions per (category,
severity, month, whole business hours), kept up to date as conflicts resolve, so reading
it never scans history. Percentiles are nearest-rank over whole business hours (rounded
up): the histogram gives exactly what sorting the underlying values would.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from tracker.domain.text import N_

MONTHS = 12  # the window: this month and the eleven before it
MIN_CONFLICTS = 5  # fewer than this say nothing honest about the next one


def business_hours(seconds: int) -> int:
    """Business seconds as whole business hours, rounded up (a started hour counts)."""
    return max(0, -(-int(seconds) // 3600))


def month_of(moment: datetime) -> date:
    """The first day of the moment's month (UTC)."""
    return date(moment.year, moment.month, 1)


def window_start(now: datetime) -> date:
    """The first month of the window that ends with `now`'s month."""
    index = now.year * 12 + now.month - 1 - (MONTHS - 1)
    return date(index // 12, index % 12 + 1, 1)


def nearest_rank(values: Iterable[int], q: float) -> int | None:
    """The nearest-rank percentile of the values: the smallest one with at least q of all
    values at or below it."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def histogram_rank(counts: Mapping[int, int], q: float) -> int | None:
    """`nearest_rank` read from counts per value instead of the values themselves."""
    total = sum(counts.values())
    if total == 0:
        return None
    needed, seen = max(1, math.ceil(q * total)), 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= needed:
            return value
    raise AssertionError(N_("unreachable: the counts add up to total"))


@dataclass(frozen=True)
class Estimate:
    """Business hours to a first resolution: the median and the 9-in-10 mark, over N."""

    conflicts: int
    median_hours: int | None
    p90_hours: int | None

    @property
    def enough(self) -> bool:
        return self.conflicts >= MIN_CONFLICTS


def estimate(counts: Mapping[int, int]) -> Estimate:
    """The estimate the counts (conflicts per whole business hours) support."""
    return Estimate(
        conflicts=sum(counts.values()),
        median_hours=histogram_rank(counts, 0.5),
        p90_hours=histogram_rank(counts, 0.9),
    )
