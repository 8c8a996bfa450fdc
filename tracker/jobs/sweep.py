"""The SLA sweep: take what is due by the indexed next_check_at, act, schedule the next look."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from tracker.extensions import db
from tracker.jobs import locks
from tracker.models import Conflict
from tracker.services import escalations, sla

LOCK_NAME = "sla_sweep"
log = logging.getLogger("tracker.jobs")


@dataclass
class SweepReport(escalations.SweepCounts):
    """What one sweep did: the evaluation counts, plus what only the sweep knows."""

    failed: int = 0
    skipped: bool = False

    def lines(self) -> list[str]:
        if self.skipped:
            return ["sweep skipped: another process is sweeping"]
        levels = ", ".join(f"{level} {count}" for level, count in self.escalated.items())
        return [
            f"evaluated {self.evaluated}",
            f"escalated: {levels}",
            f"reminders {self.reminders}",
            f"auto-closed {self.auto_closed}",
            *([f"failed {self.failed} (logged; retried in 5 minutes)"] if self.failed else []),
        ]


def sweep(
    now: datetime,
    *,
    batch_size: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> SweepReport:
    """Evaluate every conflict due by `now`, batch by batch, each batch one transaction.

    Idempotent: a second sweep at the same `now` finds nothing due. A sweep killed
    mid-batch leaves that batch uncommitted; the next sweep does it again, once.
    """
    if batch_size is None:
        # SQLite has one writer: short batches keep web requests from waiting on the sweep.
        batch_size = 50 if db.engine.dialect.name == "sqlite" else 200
    report = SweepReport()
    processed = 0
    while True:
        if not locks.acquire(LOCK_NAME, now):
            report.skipped = processed == 0
            break
        query = (
            select(Conflict)
            .where(Conflict.next_check_at <= now)
            .order_by(Conflict.next_check_at, Conflict.id)
            .limit(batch_size)
        )
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=Conflict)
        due = list(db.session.scalars(query))
        for conflict in due:
            _evaluate_safely(conflict, now, report)
            processed += 1
            if on_progress is not None:
                on_progress(processed)
        db.session.commit()
        if len(due) < batch_size:
            break
    return report


def _evaluate_safely(conflict: Conflict, now: datetime, report: SweepReport) -> None:
    """One conflict's failure must not stop the others: it is logged and looked at later."""
    conflict_id = conflict.id
    try:
        with db.session.begin_nested():
            escalations.evaluate_due(conflict, now, report)
    except Exception:
        log.exception("sweep: conflict %s failed; retrying in 5 minutes", conflict_id)
        report.failed += 1
        with db.session.begin_nested():
            sla.retry_later(conflict_id, now)
