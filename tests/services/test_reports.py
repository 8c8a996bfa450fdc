"""Reports: the monthly rollups give what a direct computation over conflicts and ledger gives."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from tests.factories import (
    RESOLUTION,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tracker.domain import estimates
from tracker.domain.calendar import business_time_between
from tracker.extensions import db
from tracker.models import Conflict, TrustEvent
from tracker.services import conflicts, count_rebuild, reports, sla
from tracker.services.errors import PermissionDenied

START = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)  # a Monday, 10:00 in Berlin
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _story() -> None:
    north = make_partner_user(partner=make_partner(name="Northwind"))
    blue = make_partner_user(partner=make_partner(name="Bluefin"))
    ann, bob = make_manager(name="Ann"), make_manager(name="Bob")
    plan = [  # partner, manager, category, weeks after START, hours to triage, to resolve
        (north, ann, "delivery", 0, 1, 3),
        (north, ann, "delivery", 1, 2, 30),
        (north, bob, "payment_terms", 2, 5, 6),
        (blue, bob, "delivery", 4, 0.5, 2),
        (blue, ann, "quality", 6, 3, None),
        (blue, bob, "quality", 8, None, None),
        (north, bob, "delivery", 9, 1, 4),
    ]
    for user, manager, category, week, to_triage, to_resolve in plan:
        raised = START + timedelta(weeks=week)
        conflict = make_conflict(user, category=category, severity="high", now=raised)
        if to_triage is None:
            continue
        triage(conflict, manager, now=raised + timedelta(hours=to_triage), assignee_id=manager.id)
        if to_resolve is None:
            continue
        resolved = raised + timedelta(hours=to_resolve)
        conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=resolved)
        if week == 1:  # disputed, then resolved again: one first resolution, one dispute
            conflicts.act(
                user, conflict.id, "dispute", {"reason": "No."}, now=resolved + timedelta(hours=1)
            )
            conflicts.act(
                manager, conflict.id, "resolve", RESOLUTION, now=resolved + timedelta(hours=2)
            )
        if week == 2:  # accepted, then reopened
            conflicts.act(user, conflict.id, "accept", {}, now=resolved + timedelta(hours=1))
            conflicts.act(
                user, conflict.id, "reopen", {"reason": "Back."}, now=resolved + timedelta(hours=2)
            )


def _direct(key) -> dict:  # type: ignore[no-untyped-def]
    """Per key(conflict): counts and percentiles from the conflicts and the ledger itself."""
    counters = ("raised", "triaged", "resolved", "sla_met", "reopened", "disputed")
    out: dict = defaultdict(lambda: {**dict.fromkeys(counters, 0), "triage": [], "resolution": []})
    rows = db.session.scalars(select(Conflict)).all()
    for c in rows:
        out[key(c, raised=True)]["raised"] += 1
        if c.triage_stopped_at is not None:
            spent = business_time_between(
                c.created_at, c.triage_stopped_at, sla.snapshot_policy(c).calendar
            )
            out[key(c)]["triaged"] += 1
            out[key(c)]["triage"].append(estimates.business_hours(int(spent.total_seconds())))
    first: set[int] = set()
    for e in db.session.scalars(select(TrustEvent).order_by(TrustEvent.id)):
        c = e.conflict
        if e.kind == "resolved" and c.id not in first:
            first.add(c.id)
            out[key(c)]["resolved"] += 1
            out[key(c)]["sla_met"] += int(bool(e.sla_met))
            out[key(c)]["resolution"].append(
                estimates.business_hours(e.resolution_business_seconds)
            )
        elif e.kind in ("reopened", "disputed"):
            out[key(c)][e.kind] += 1
    return out


def _compare(lines, direct) -> None:  # type: ignore[no-untyped-def]
    assert {line.key for line in lines} == set(direct)
    for line in lines:
        want, f = direct[line.key], line.figures
        for name in ("raised", "triaged", "resolved", "sla_met", "reopened", "disputed"):
            assert f.counts[name] == want[name], (line.label, name)
        for measure in ("triage", "resolution"):
            for q in (0.5, 0.9):
                assert f.p(measure, q) == estimates.nearest_rank(want[measure], q), (
                    line.label,
                    measure,
                )


def test_report_figures_equal_a_direct_computation(app) -> None:
    _story()
    report = reports.report(make_manager(), NOW)
    # Nobody is assigned while a conflict is raised; afterwards its (fixed) assignee counts.
    _compare(report.by_partner, _direct(lambda c, raised=False: c.partner_id))
    _compare(report.by_category, _direct(lambda c, raised=False: c.category))
    _compare(report.by_assignee, _direct(lambda c, raised=False: 0 if raised else c.assignee_id))
    assert report.total.counts["raised"] == 7 and report.total.counts["resolved"] == 5
    assert report.total.counts["disputed"] == 1 and report.total.counts["reopened"] == 1
    # Per month (the month the fact happened in), and the window's total.
    _compare(report.by_month, _direct_by_month())
    (everything,) = _direct(lambda c, raised=False: None).values()
    for name, value in report.total.counts.items():
        assert value == everything[name], name
    for measure in ("triage", "resolution"):
        for q in (0.5, 0.9):
            assert report.total.p(measure, q) == estimates.nearest_rank(everything[measure], q)


def _direct_by_month() -> dict:
    """Per month of the fact: raised by creation, triaged by triage, the rest by the ledger."""
    counters = ("raised", "triaged", "resolved", "sla_met", "reopened", "disputed")
    out: dict = defaultdict(lambda: {**dict.fromkeys(counters, 0), "triage": [], "resolution": []})
    for c in db.session.scalars(select(Conflict)):
        out[estimates.month_of(c.created_at)]["raised"] += 1
        if c.triage_stopped_at is not None:
            spent = business_time_between(
                c.created_at, c.triage_stopped_at, sla.snapshot_policy(c).calendar
            )
            month = out[estimates.month_of(c.triaged_at)]
            month["triaged"] += 1
            month["triage"].append(estimates.business_hours(int(spent.total_seconds())))
    first: set[int] = set()
    for e in db.session.scalars(select(TrustEvent).order_by(TrustEvent.id)):
        month = out[estimates.month_of(e.at)]
        if e.kind == "resolved" and e.conflict_id not in first:
            first.add(e.conflict_id)
            month["resolved"] += 1
            month["sla_met"] += int(bool(e.sla_met))
            month["resolution"].append(estimates.business_hours(e.resolution_business_seconds))
        elif e.kind in ("reopened", "disputed"):
            month[e.kind] += 1
    return out


def test_months_count_what_happened_in_them(app) -> None:
    _story()
    report = reports.report(make_manager(), NOW)
    by_month = {line.key.month: line.figures.counts["raised"] for line in report.by_month}
    assert by_month == {9: 3, 10: 2, 11: 2}
    assert reports.report(make_manager(), datetime(2027, 11, 1, tzinfo=UTC)).by_month == []


def test_reports_are_for_staff_only(app) -> None:
    with pytest.raises(PermissionDenied):
        reports.report(make_partner_user(), NOW)


def _count_rows() -> dict[str, list[tuple]]:
    tables = {
        "report_rollups": "month, grouping, group_key, raised, triaged, resolved, sla_met,"
        " reopened, disputed",
        "report_time_counts": "month, grouping, group_key, measure, business_hours, conflicts",
        "resolution_time_counts": "category, severity, month, business_hours, conflicts",
    }
    return {
        table: sorted(
            tuple(str(v) for v in row)
            for row in db.session.execute(text(f"SELECT {columns} FROM {table}"))  # noqa: S608
        )
        for table, columns in tables.items()
    }


def test_a_rebuild_from_the_ledger_gives_the_counts_kept_as_conflicts_moved(app) -> None:
    """Bulk history (`flask demo generate`, the migration) gets its counts from the rebuild:
    they must be the ones the consumers keep incrementally."""
    _story()
    kept = _count_rows()
    assert all(kept.values())
    count_rebuild.rebuild(db.session.connection())
    assert _count_rows() == kept


def test_the_time_counts_are_read_from_the_covering_index_without_a_sort(app) -> None:
    """SQLite: each group's hour counts come from ix_report_time_counts_by_group in its
    order (0025_reports_covering), not from a temporary B-tree of the window's rows."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan; PostgreSQL hashes the window's rows")
    from sqlalchemy import event

    _story()
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "FROM report_time_counts" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        reports.report(make_manager(), NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    ((statement, parameters),) = seen
    connection = db.session.connection()
    plan = " ".join(
        str(row[-1])
        for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    )
    assert "ix_report_time_counts_by_group" in plan and "TEMP B-TREE" not in plan, plan
