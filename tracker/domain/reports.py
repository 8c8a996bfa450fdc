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

from tracker.domain.estimates import histogram_rank

COUNTERS = ("raised", "triaged", "resolved", "sla_met", "reopened", "disputed")
MEASURES = ("triage", "resolution")
NOBODY = 0  # the assignee key of conflicts nobody was assigned to (a key cannot be NULL)
# Every fact is counted once under each grouping; "month" is the month as a whole (the
# total of the window is its sum), keyed by the empty string.
GROUPINGS = ("month", "category", "partner", "assignee")


def group_keys(partner_id: int, category: str, assignee_id: int) -> list[tuple[str, str]]:
    """The (grouping, key) of every group a fact about such a conflict counts in."""
    return [
        ("month", ""),
        ("category", category),
        ("partner", str(partner_id)),
        ("assignee", str(assignee_id)),
    ]


@dataclass
class Figures:
    """One line of a report."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    hours: dict[str, dict[int, int]] = field(
        default_factory=lambda: {m: defaultdict(int) for m in MEASURES}
    )

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

    def rate(self, counter: str) -> float | None:
        """`counter` per first resolution, in percent (SLA compliance, reopens, disputes)."""
        resolved = self.counts["resolved"]
        return 100 * self.counts[counter] / resolved if resolved else None
