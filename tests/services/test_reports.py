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
from tests.statements import sent_statements
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


def _assert_direct(report) -> None:  # type: ignore[no-untyped-def]
    """Every line of the report as a direct computation over conflicts and ledger gives it."""
    # Nobody is assigned while a conflict is raised; afterwards its (fixed) assignee counts.
    _compare(report.by_partner, _direct(lambda c, raised=False: c.partner_id))
    _compare(report.by_category, _direct(lambda c, raised=False: c.category))
    _compare(report.by_assignee, _direct(lambda c, raised=False: 0 if raised else c.assignee_id))
    # Per month (the month the fact happened in), and the window's total.
    _compare(report.by_month, _direct_by_month())
    (everything,) = _direct(lambda c, raised=False: None).values()
    for name, value in report.total.counts.items():
        assert value == everything[name], name
    for measure in ("triage", "resolution"):
        for q in (0.5, 0.9):
            assert report.total.p(measure, q) == estimates.nearest_rank(everything[measure], q)


def test_report_figures_equal_a_direct_computation(app) -> None:
    _story()
    report = reports.report(make_manager(), NOW)
    assert report.total.counts["raised"] == 7 and report.total.counts["resolved"] == 5
    assert report.total.counts["disputed"] == 1 and report.total.counts["reopened"] == 1
    _assert_direct(report)


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


def _time_statements(call) -> list[tuple[str, object]]:  # type: ignore[no-untyped-def]
    """The statements `call` runs that read time counts (summed here or kept summed)."""
    with sent_statements() as sent:
        call()
    return [
        (statement, parameters)
        for statement, parameters in sent
        if "FROM report_time_counts" in statement or "FROM report_window_counts" in statement
    ]


def _plan(statement: str, parameters) -> str:  # type: ignore[no-untyped-def]
    connection = db.session.connection()
    return " ".join(
        str(row[-1])
        for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    )


def test_without_a_summed_window_the_time_counts_are_summed_from_the_covering_index(app) -> None:
    """SQLite: each group's hour counts come from ix_report_time_counts_by_group in its
    order (0025_reports_covering), not from a temporary B-tree of the window's rows."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan; PostgreSQL hashes the window's rows")
    _story()
    manager = make_manager()
    # The closed months are not summed yet: the page tries the (empty) window, sees that
    # the rollups hold facts it lacks, and sums the months itself.
    (_, (statement, parameters)) = _time_statements(lambda: reports.report(manager, NOW))
    plan = _plan(statement, parameters)
    assert "ix_report_time_counts_by_group" in plan and "TEMP B-TREE" not in plan, plan


def _windows() -> list[tuple]:
    return [
        tuple(row)
        for row in db.session.execute(
            text("SELECT first_month, last_month, facts FROM report_windows ORDER BY id")
        )
    ]


def test_the_summed_window_gives_the_same_figures_in_one_statement_bounded_by_this_month(
    app,
) -> None:
    """Once the job has summed the closed months, the page reads them and this month's
    rows in one statement: no month of history is walked, and every figure is unchanged."""
    _story()
    manager = make_manager()
    assert reports.close_window(NOW) is True
    assert [(str(a), str(b)) for a, b, _ in _windows()] == [("2025-12-01", "2026-10-01")]
    seen = _time_statements(lambda: _assert_direct(reports.report(manager, NOW)))
    ((statement, parameters),) = seen
    assert "report_window_counts" in statement and "report_time_counts" in statement
    if db.engine.dialect.name == "sqlite":
        plan = _plan(statement, parameters)
        assert "ix_report_window_counts_by_window" in plan and "TEMP B-TREE" not in plan, plan
        # this month's rows by their month, not a scan of every month of every group
        assert "report_time_counts USING INDEX sqlite_autoindex" in plan, plan
    # Unchanged months: nothing to do, however often it runs.
    assert reports.close_window(NOW) is False
    assert reports.close_window(NOW + timedelta(days=3)) is False
    assert len(_windows()) == 1


def test_a_fact_recorded_late_in_a_closed_month_is_counted_and_the_job_sums_again(app) -> None:
    """A back-dated write (an import, a clock behind) lands in a month already summed: the
    rollups then hold more facts than the window, so the page sums the months itself until
    the job has summed them again."""
    _story()
    manager = make_manager()
    reports.close_window(NOW)
    (facts_before,) = [f for _, _, f in _windows()]
    late = make_conflict(
        make_partner_user(), category="delivery", now=datetime(2026, 10, 30, 9, tzinfo=UTC)
    )
    triage(late, manager, now=datetime(2026, 10, 30, 11, tzinfo=UTC), assignee_id=manager.id)
    report = reports.report(manager, NOW)
    _assert_direct(report)
    assert len(_time_statements(lambda: reports.report(manager, NOW))) == 2  # tried, summed
    assert reports.close_window(NOW) is True
    ((_, _, facts_after),) = _windows()
    assert facts_after == facts_before + 2  # raised, triaged
    assert len(_time_statements(lambda: _assert_direct(reports.report(manager, NOW)))) == 1


def test_a_new_month_gets_its_window_once_it_has_settled_and_the_old_one_goes(app) -> None:
    _story()
    manager = make_manager()
    assert reports.close_window(NOW) is True
    december = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)  # November may still take a fact
    assert reports.close_window(december) is False
    _assert_direct(reports.report(manager, december))  # summed here meanwhile
    later = december + timedelta(hours=1)
    assert reports.close_window(later) is True
    assert [(str(a), str(b)) for a, b, _ in _windows()] == [("2026-01-01", "2026-11-01")]
    assert len(_time_statements(lambda: _assert_direct(reports.report(manager, later)))) == 1
    # A one-month window has nothing closed: this month's rows are all it reads.
    one = reports.report(manager, later, months_back=1)
    assert one.by_month == [] and one.total.counts["raised"] == 0


def test_a_rebuild_drops_the_summed_windows(app) -> None:
    _story()
    reports.close_window(NOW)
    count_rebuild.rebuild(db.session.connection())
    assert _windows() == []
    _assert_direct(reports.report(make_manager(), NOW))
