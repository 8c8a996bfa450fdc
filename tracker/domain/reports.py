"""Report figures from monthly rollups: volumes, times (p50/p90), SLA compliance, rates.

A rollup row counts what happened in one month for one (partner, category, assignee): the
conflicts raised, triaged and first resolved, how many of those met the resolution target,
reopens and disputes; a time row counts conflicts per whole business hours to triage or to
a first resolution. Any grouping (by month, category, partner, assignee) is a sum of rows,
and its percentiles come from the summed hour counts, exactly as from the values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from tracker.domain.estimates import histogram_rank

COUNTERS = ("raised", "triaged", "resolved", "sla_met", "reopened", "disputed")
MEASURES = ("triage", "resolution")
NOBODY = 0  # the assignee key of conflicts nobody was assigned to (a key cannot be NULL)


@dataclass(frozen=True)
class RollupRow:
    month: object
    partner_id: int
    category: str
    assignee_id: int
    counts: dict[str, int]


@dataclass(frozen=True)
class TimeRow:
    month: object
    partner_id: int
    category: str
    assignee_id: int
    measure: str
    business_hours: int
    conflicts: int


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


def group(
    rows: Iterable[RollupRow],
    times: Iterable[TimeRow],
    key: Callable[[RollupRow | TimeRow], Hashable],
) -> dict[Hashable, Figures]:
    """Sum rows and time counts into one `Figures` per `key(row)`."""
    result: dict[Hashable, Figures] = defaultdict(Figures)
    for row in rows:
        figures = result[key(row)]
        for name in COUNTERS:
            figures.counts[name] += row.counts.get(name, 0)
    for t in times:
        result[key(t)].hours[t.measure][t.business_hours] += t.conflicts
    return dict(result)
