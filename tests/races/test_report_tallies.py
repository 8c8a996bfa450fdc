"""The reports' rollups under concurrency: two changes of the same group at the same instant
both count, on both engines (one `INSERT … ON CONFLICT DO UPDATE` per table, never a read
and a write); two jobs summing the same closed months write them once, and a write dated in
a month being summed is never lost from the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from tests.factories import WHEN, make_conflict, make_manager, make_partner, make_partner_user
from tests.factories import triage as triage_conflict
from tests.races.test_conflicting_actions import _at_once, _slow
from tracker.domain import estimates
from tracker.extensions import db
from tracker.models import Conflict, ReportRollup, ReportTimeCount, User
from tracker.services import reports


def _rollup(grouping: str, key: str, counter: str) -> int:
    row = db.session.scalars(
        select(ReportRollup).where(
            ReportRollup.month == estimates.month_of(WHEN),
            ReportRollup.grouping == grouping,
            ReportRollup.group_key == key,
        )
    ).one()
    return getattr(row, counter)


def test_two_conflicts_raised_at_once_are_both_counted_in_every_grouping(app, monkeypatch) -> None:
    partner = make_partner()
    ids = [make_partner_user(partner=partner).id for _ in range(2)]
    _slow(monkeypatch, reports, "_count")  # each holds its upsert's row until it commits

    def raise_one(user_id: int):  # type: ignore[no-untyped-def]
        def call():  # type: ignore[no-untyped-def]
            return make_conflict(db.session.get(User, user_id), category="delivery", now=WHEN).id

        return call

    results = _at_once(app, *(raise_one(i) for i in ids))
    assert all(isinstance(r, int) for r in results), results
    for grouping, key in (
        ("month", ""),
        ("category", "delivery"),
        ("partner", str(partner.id)),
        ("assignee", "0"),
    ):
        assert _rollup(grouping, key, "raised") == 2, grouping


def test_two_triages_at_once_are_both_counted_with_their_hours(app, monkeypatch) -> None:
    partner = make_partner()
    user, manager = make_partner_user(partner=partner), make_manager()
    made = [make_conflict(user, category="quality", now=WHEN).id for _ in range(2)]
    manager_id = manager.id
    _slow(monkeypatch, reports, "_time")

    def triage_one(conflict_id: int):  # type: ignore[no-untyped-def]
        def call():  # type: ignore[no-untyped-def]
            conflict = db.session.get(Conflict, conflict_id)
            actor = db.session.get(User, manager_id)
            return triage_conflict(conflict, actor, now=WHEN + timedelta(minutes=30))

        return call

    results = _at_once(app, *(triage_one(i) for i in made))
    assert not any(isinstance(r, Exception) for r in results), results
    assert _rollup("assignee", str(manager_id), "triaged") == 2
    counts = db.session.scalars(
        select(ReportTimeCount).where(
            ReportTimeCount.grouping == "partner",
            ReportTimeCount.group_key == str(partner.id),
            ReportTimeCount.measure == "triage",
        )
    ).all()
    assert sum(c.conflicts for c in counts) == 2 and len(counts) == 1


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # October and before are closed and settled


def _october_story() -> tuple[int, int]:
    """Two conflicts triaged in October (a closed month at NOW); returns a partner user's
    and a manager's ids for more."""
    partner = make_partner()
    user, manager = make_partner_user(partner=partner), make_manager()
    for day in (5, 12):
        conflict = make_conflict(
            user, category="delivery", now=datetime(2026, 10, day, 9, tzinfo=UTC)
        )
        triage_conflict(conflict, manager, now=datetime(2026, 10, day, 11, tzinfo=UTC))
    return user.id, manager.id


def _windows() -> list[tuple]:
    return [tuple(r) for r in db.session.execute(text("SELECT id, facts FROM report_windows"))]


def _window_rows() -> list[tuple]:
    return sorted(
        tuple(str(v) for v in row)
        for row in db.session.execute(
            text(
                "SELECT grouping, group_key, month, measure, business_hours, conflicts "
                "FROM report_window_counts"
            )
        )
    )


def _figures(report) -> dict:  # type: ignore[no-untyped-def]
    lines = [*report.by_month, *report.by_category, *report.by_partner, *report.by_assignee]
    return {
        (line.label, name): value
        for line in lines
        for name, value in [
            *line.figures.counts.items(),
            *((f"p50 {m}", line.figures.p(m, 0.5)) for m in ("triage", "resolution")),
        ]
    }


def test_two_jobs_summing_the_same_window_at_once_write_it_once(app, monkeypatch) -> None:
    _october_story()
    _slow(monkeypatch, reports, "_sum_window", seconds=0.2)  # holds its rows uncommitted

    def close():  # type: ignore[no-untyped-def]
        return reports.close_window(NOW)

    results = _at_once(app, close, close)
    assert sorted(results, key=str) == [False, True], results
    ((_, facts),) = _windows()
    assert facts == 4  # two raised, two triaged
    once = _window_rows()
    db.session.execute(text("DELETE FROM report_window_counts"))
    db.session.execute(text("DELETE FROM report_windows"))
    db.session.commit()
    assert reports.close_window(NOW) is True
    assert _window_rows() == once  # not twice the counts, not half of them


def test_a_fact_recorded_in_a_closed_month_while_it_is_summed_is_never_lost(
    app, monkeypatch
) -> None:
    """The turn of a month: a write dated in the month being summed commits while the job
    sums it. Whichever commits first, the page's figures equal a direct count, and the
    next run of the job leaves a window that agrees with the rollups."""
    user_id, manager_id = _october_story()
    manager = db.session.get(User, manager_id)
    late = make_conflict(
        db.session.get(User, user_id),
        category="quality",
        now=datetime(2026, 10, 31, 22, tzinfo=UTC),
    )
    late_id = late.id
    _slow(monkeypatch, reports, "_sum_window", seconds=0.2)
    _slow(monkeypatch, reports, "_time", seconds=0.2)

    def close():  # type: ignore[no-untyped-def]
        return reports.close_window(NOW)

    def triage_late():  # type: ignore[no-untyped-def]
        conflict = db.session.get(Conflict, late_id)
        actor = db.session.get(User, manager_id)
        return triage_conflict(conflict, actor, now=datetime(2026, 10, 31, 23, 30, tzinfo=UTC))

    results = _at_once(app, close, triage_late)
    assert not any(isinstance(r, Exception) for r in results), results
    shown = _figures(reports.report(manager, NOW))
    db.session.execute(text("DELETE FROM report_window_counts"))
    db.session.execute(text("DELETE FROM report_windows"))
    db.session.commit()
    summed_here = _figures(reports.report(manager, NOW))  # no window: the months summed
    assert shown == summed_here
    assert shown[("Oct 2026", "triaged")] == 3 and shown[("Oct 2026", "raised")] == 3
    reports.close_window(NOW)
    assert _figures(reports.report(manager, NOW)) == summed_here
    ((_, facts),) = _windows()
    assert facts == 6
