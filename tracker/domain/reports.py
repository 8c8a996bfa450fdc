"""Report figures from monthly rollups: volumes, times (p50/p90), SLA compliance, rates.

A rollup row counts what happened in one month to one group of conflicts (all of them, or
one category, partner or assignee: each fact is counted once per grouping): the conflicts
raised, triaged and first resolved, how many of those met the resolution target, reopens
and disputes; a time row counts conflicts per whole business hours to triage or to a first
resolution. A report line is a sum of its group's months (the database sums them:
services/reports.py), and its percentiles come from the summed hour counts, exactly as from
the values.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tracker.domain.estimates import histogram_rank

COUNTERS = ("raised", "triaged", "resolved", "sla_met", "reopened", "disputed")
MEASURES = ("triage", "resolution")
NOBODY = 0  # the assignee key of conflicts nobody was assigned to (a key cannot be NULL)
# Every fact is counted once under each grouping; "month" is the month as a whole (the
# total of the window is its sum), keyed by the empty string.
GROUPINGS = ("month", "category", "partner", "assignee")


# A month is closed for good this long after it ended: no transaction that began in its last
# moments (and so counts its fact in it) is still open by then.
SETTLED_AFTER = timedelta(hours=1)


def months_before(now: datetime, count: int) -> date:
    """The first day of the month `count - 1` months before `now`'s (1: `now`'s own)."""
    index = now.year * 12 + now.month - 1 - (count - 1)
    return date(index // 12, index % 12 + 1, 1)


def closed_months(now: datetime, months_back: int) -> tuple[date, date] | None:
    """The window's months that have ended and settled (first, last), to be summed once;
    None when there are none (a window of this month only, or the first hour of a month,
    when last month may still take a fact)."""
    this_month = months_before(now, 1)
    first, last = months_before(now, months_back), months_before(now, 2)
    month_start = datetime(this_month.year, this_month.month, 1, tzinfo=now.tzinfo)
    if first > last or now - month_start < SETTLED_AFTER:
        return None
    return first, last


def facts(counts: dict[str, int]) -> int:
    """How many facts a rollup line holds, each counted once per counter it added to: a
    window's closed months hold as many as when they were summed unless one was added."""
    return sum(counts[name] for name in COUNTERS)


def group_keys(partner_id: int, category: str, assignee_id: int) -> list[tuple[str, str]]:
    """The (grouping, key) of every group a fact about such a conflict counts in."""
    return [
        ("month", ""),
        ("category", category),
        ("partner", str(partner_id)),
        ("assignee", str(assignee_id)),
    ]


def _no_hours() -> dict[str, dict[int, int]]:
    return {m: defaultdict(int) for m in MEASURES}


@dataclass
class Figures:
    """One line of a report."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    hours: dict[str, dict[int, int]] = field(default_factory=_no_hours)

    ranks: dict[tuple[str, float], int | None] = field(default_factory=dict, repr=False)

    def p(self, measure: str, q: float) -> int | None:
        """The nearest-rank percentile, computed once per line (read once summed)."""
        key = (measure, q)
        if key not in self.ranks:
            self.ranks[key] = histogram_rank(self.hours[measure], q)
        return self.ranks[key]

    def add(self, other: Figures) -> None:
        """Add another line's counts and hour counts to this one's."""
        for name, value in other.counts.items():
            self.counts[name] += value
        for measure, counts in other.hours.items():
            mine = self.hours[measure]
            for hours, conflicts in counts.items():
                mine[hours] += conflicts
        self.ranks.clear()

    def clear_hours(self) -> None:
        """Drop the hour counts (and the percentiles read from them); the counts stay."""
        self.hours = _no_hours()
        self.ranks.clear()

    def rate(self, counter: str) -> float | None:
        """`counter` per first resolution, in percent (SLA compliance, reopens, disputes)."""
        resolved = self.counts["resolved"]
        return 100 * self.counts[counter] / resolved if resolved else None
