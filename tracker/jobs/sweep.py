"""The SLA sweep: take what is due by the indexed next_check_at, act, schedule the next look."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

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
            .options(selectinload(Conflict.partner))  # the batch's partners in one read
        )
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=Conflict)
        due = list(db.session.scalars(query))
        _evaluate_batch(due, now, report)
        processed += len(due)
        if on_progress is not None:
            on_progress(processed)
        db.session.commit()
        if len(due) < batch_size:
            break
    return report


def _evaluate_batch(due: list[Conflict], now: datetime, report: SweepReport) -> None:
    """The batch at once, set-based; if that fails, each conflict on its own, so that one
    conflict's failure does not stop the others (it is logged and looked at later)."""
    if not due:
        return
    counts = escalations.SweepCounts()
    ids = [conflict.id for conflict in due]
    try:
        with db.session.begin_nested():
            escalations.evaluate_due(due, now, counts)
    except Exception:
        log.warning("sweep: a batch of %s failed; evaluating its conflicts one by one", len(due))
        for conflict_id in ids:
            _evaluate_safely(conflict_id, now, report)
        return
    report.add(counts)


def _evaluate_safely(conflict_id: int, now: datetime, report: SweepReport) -> None:
    """One conflict alone, in a savepoint: a failure is logged and retried in 5 minutes."""
    counts = escalations.SweepCounts()
    try:
        with db.session.begin_nested():
            conflict = db.session.get(Conflict, conflict_id)
            if conflict is not None:
                escalations.evaluate_due([conflict], now, counts)
    except Exception:
        log.exception("sweep: conflict %s failed; retrying in 5 minutes", conflict_id)
        report.failed += 1
        with db.session.begin_nested():
            sla.retry_later(conflict_id, now)
        return
    report.add(counts)
