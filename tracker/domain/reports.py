"""Report figures from monthly rollups: volumes, times (p50/p90), SLA compliance, rates.

A rollup row counts what happened in one month for one (partner, category, assignee): the
conflicts raised, triaged and first resolved, how many of those met the resolution target,
reopens and disputes; a time row counts conflicts per whole business hours to triage or to
a first resolution. Any grouping (by month, category, partner, assignee) is a sum of rows
(the database sums them: services/reports.py), and its percentiles come from the summed
hour counts, exactly as from the values.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from tracker.domain.estimates import histogram_rank

COUNTERS = ("raised", "triaged", "resolved", "sla_met", "reopened", "disputed")
MEASURES = ("triage", "resolution")
NOBODY = 0  # the assignee key of conflicts nobody was assigned to (a key cannot be NULL)


@dataclass
class Figures:
    """One line of a report."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    hours: dict[str, dict[int, int]] = field(
        default_factory=lambda: {m: defaultdict(int) for m in MEASURES}
    )

    def p(self, measure: str, q: float) -> int | None:
        return histogram_rank(self.hours[measure], q)

    def rate(self, counter: str) -> float | None:
        """`counter` per first resolution, in percent (SLA compliance, reopens, disputes)."""
        resolved = self.counts["resolved"]
        return 100 * self.counts[counter] / resolved if resolved else None
