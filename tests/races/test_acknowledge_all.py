"""Two managers press "Acknowledge all" on one conflict at the same instant: every level is
acknowledged once, with one timeline entry each, and neither press fails (both engines)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import WHEN, make_conflict, make_manager, make_partner, make_partner_user
from tests.races.test_conflicting_actions import _at_once, _slow
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import ConflictEvent, Escalation, User
from tracker.services import escalations

ROUNDS = 4
LATE = WHEN + timedelta(days=3)


def _escalated_conflict(owner: User) -> int:
    partner = make_partner(owner_id=owner.id)
    conflict = make_conflict(make_partner_user(partner=partner), severity="critical", now=WHEN)
    sweep(LATE)
    return conflict.id


def _entries(conflict_id: int) -> int:
    return db.session.scalar(
        select(func.count(ConflictEvent.id)).where(
            ConflictEvent.conflict_id == conflict_id,
            ConflictEvent.kind == "escalation_acknowledged",
        )
    )


def _rows(conflict_id: int) -> list[Escalation]:
    db.session.expire_all()
    return list(db.session.scalars(select(Escalation).where(Escalation.conflict_id == conflict_id)))


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_managers_acknowledging_all_at_once_acknowledge_each_level_once(
    app, monkeypatch, round_: int
) -> None:
    maya, leo = make_manager(), make_manager()
    conflict_id = _escalated_conflict(maya)
    levels = len(_rows(conflict_id))
    assert levels == 6  # two clocks, three levels each
    # Both have found the conflict before either writes: only the conditional UPDATE (and,
    # on SQLite, the write lock) keeps the second press from acknowledging again.
    _slow(monkeypatch, escalations, "lock_for_write")

    def press(user_id: int, note: str):  # type: ignore[no-untyped-def]
        def call():  # type: ignore[no-untyped-def]
            actor = db.session.get(User, user_id)
            return escalations.acknowledge_all(actor, conflict_id, note, now=LATE)

        return call

    results = _at_once(app, press(maya.id, "Maya on it."), press(leo.id, "Leo on it."))
    assert not any(isinstance(r, Exception) for r in results), results
    taken = sorted(len(r) for r in results)
    assert taken == [0, levels], taken  # one press took every level, the other none
    rows = _rows(conflict_id)
    assert all(r.acknowledged_at is not None and r.next_reminder_at is None for r in rows)
    assert len({r.acknowledged_by_id for r in rows}) == 1
    assert _entries(conflict_id) == levels


def test_two_presses_through_the_pages_at_once_both_answer_without_error(app, new_browser) -> None:
    """The same race over HTTP: two signed-in managers, released by a barrier."""

    maya, leo = make_manager(), make_manager()
    conflict_id = _escalated_conflict(maya)
    browsers = [new_browser(), new_browser()]
    for browser, user in zip(browsers, (maya, leo), strict=True):
        browser.login(user.email)
        browser.csrf_token()
    url = f"/console/escalations/conflicts/{conflict_id}/acknowledge"
    start = threading.Barrier(2)
    answers: list[object] = [None, None]

    def run(index: int) -> None:
        with app.app_context():
            start.wait()
            try:
                answers[index] = browsers[index].post(url, {"note": "on it"}, follow_redirects=True)
            except Exception as exc:  # noqa: BLE001  (judged below)
                answers[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert all(getattr(a, "status_code", None) == 200 for a in answers), answers
    texts = [a.get_data(as_text=True) for a in answers]  # type: ignore[union-attr]
    assert sum("Acknowledged 6 levels" in t for t in texts) == 1
    assert sum("Nothing left to acknowledge" in t for t in texts) == 1
    assert _entries(conflict_id) == 6
    assert all(r.acknowledged_at is not None for r in _rows(conflict_id))
