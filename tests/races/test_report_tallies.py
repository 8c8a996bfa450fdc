"""The reports' rollups under concurrency: two changes of the same group at the same instant
both count, on both engines (one `INSERT … ON CONFLICT DO UPDATE` per table, never a read
and a write)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

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
