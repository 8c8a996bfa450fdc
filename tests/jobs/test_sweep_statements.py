"""The sweep's cost follows what is due: statements per conflict stay flat as the batch grows.

Counted: every statement the database runs during the sweep, executemany and savepoints
included. Batch-level work (the job lock, the due selection, the batch's escalations, people,
preferences and hooks, read once; its escalations, timeline entries, notices and outbox rows,
written once) is paid once; what is left per conflict must not grow with the batch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import make_admin, make_conflict, make_manager, make_partner, make_partner_user
from tests.statements import counting_statements
from tracker.jobs.sweep import sweep

# The ceiling is 10 a conflict; the set-based sweep needs about 1 (SQLite writes each
# ledger fact of a breach on its own; PostgreSQL batches those too). 2 leaves room for noise
# in what the ORM groups, not for a read per conflict.
PER_CONFLICT_LIMIT = 2
MONDAY_10_BERLIN = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def _due_batch(user, count: int, raised_at: datetime) -> None:  # type: ignore[no-untyped-def]
    for i in range(count):
        make_conflict(user, severity="critical", title=f"Critical number {i}", now=raised_at)


@pytest.mark.parametrize("window", [0, 120], ids=["mail-at-once", "mail-coalesced"])
def test_statements_per_conflict_do_not_grow_with_the_batch(app, window: int) -> None:
    app.config["MAIL_COALESCE_SECONDS"] = window
    owner = make_manager(email="maya@example.com")
    make_admin(email="ada@example.com")
    partner = make_partner(name="Northwind", owner_id=owner.id)
    user = make_partner_user(partner=partner, email="anna@northwind.example")
    sizes, statements = (3, 12), []
    raised_at = MONDAY_10_BERLIN
    for size in sizes:
        _due_batch(user, size, raised_at)
        all_levels_reached = raised_at + timedelta(hours=2)  # warning, breach, critical
        with counting_statements() as seen:
            report = sweep(all_levels_reached)
        assert report.evaluated == size and report.escalated["critical"] == size
        statements.append(len(seen))
        raised_at = all_levels_reached + timedelta(minutes=30)  # the first batch not due
    small, large = statements
    per_added_conflict = (large - small) / (sizes[1] - sizes[0])
    assert per_added_conflict <= PER_CONFLICT_LIMIT, statements
    assert large / sizes[1] <= small / sizes[0]  # batch work is paid once, not per conflict
