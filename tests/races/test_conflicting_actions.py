"""Races on one conflict: two requests at the same instant, exactly one wins, on both engines.

Each test widens the window between judging a conflict's state and writing the change (a
short sleep in the judged step), so that without a write lock taken *before* the state is
read, both requests would pass the check. SQLite ignores `FOR UPDATE`; these tests are what
keeps `database.lock_for_write` in place.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.api.conftest import token_for
from tests.factories import (
    RESOLUTION,
    WHEN,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
)
from tests.factories import triage as triage_conflict
from tracker.domain import workflow
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import Conflict, ConflictEvent, Escalation, TrustEvent, TrustScore
from tracker.services import conflicts, escalations, trust
from tracker.services.errors import StateConflict

ROUNDS = 4


def _slow(monkeypatch, module, name: str, seconds: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    original = getattr(module, name)

    def slowed(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = original(*args, **kwargs)
        time.sleep(seconds)  # the other request gets to read the same state meanwhile
        return result

    monkeypatch.setattr(module, name, slowed)


def _at_once(app, *calls: Callable[[], object]) -> list[object]:  # type: ignore[no-untyped-def]
    """Run each call in its own thread and app context (its own connection), released
    together; returns each call's result or the exception it raised."""
    results: list[object] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int, call: Callable[[], object]) -> None:
        with app.app_context():
            start.wait()
            try:
                results[index] = call()
            except Exception as exc:  # noqa: BLE001  (the caller judges it)
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    db.session.expire_all()
    return results


def _resolved_conflict(partner_user, manager, now):  # type: ignore[no-untyped-def]
    conflict = make_conflict(partner_user, now=now)
    triage_conflict(conflict, manager, now=now)
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=now + timedelta(hours=1))
    return conflict


def _transitions_from(conflict_id: int, state: str) -> list[str]:
    events = db.session.scalars(
        select(ConflictEvent)
        .where(ConflictEvent.conflict_id == conflict_id, ConflictEvent.kind == "status_changed")
        .order_by(ConflictEvent.id)
    ).all()
    return [e.data["action"] for e in events if e.data["from"] == state]


ACTION_BODIES = {
    "accept": {"action": "accept"},
    "dispute": {"action": "dispute", "reason": "The payment still has not arrived."},
}


@pytest.mark.parametrize(
    "pair", [("accept", "accept"), ("accept", "dispute"), ("dispute", "dispute")]
)
def test_two_partner_actions_on_one_resolved_conflict_exactly_one_wins(
    app, monkeypatch, pair
) -> None:
    manager = make_manager()
    partner = make_partner()
    anna, jonas = make_partner_user(partner=partner), make_partner_user(partner=partner)
    tokens = [token_for(anna), token_for(jonas)]
    _slow(monkeypatch, workflow, "plan")
    for round_ in range(ROUNDS):
        conflict = _resolved_conflict(anna, manager, WHEN + timedelta(days=round_))
        ledger_before = db.session.scalar(select(func.count(TrustEvent.id)))

        def post(index: int, action: str, conflict_id: int = conflict.id) -> Callable[[], object]:
            def call():  # type: ignore[no-untyped-def]
                return app.test_client().post(
                    f"/api/v1/conflicts/{conflict_id}/actions",
                    json=ACTION_BODIES[action],
                    headers={"Authorization": f"Bearer {tokens[index]}"},
                )

            return call

        responses = _at_once(app, post(0, pair[0]), post(1, pair[1]))
        statuses = sorted(r.status_code for r in responses)  # type: ignore[attr-defined]
        assert statuses == [200, 409], [r.get_data(as_text=True) for r in responses]  # type: ignore[attr-defined]
        loser = next(r for r in responses if r.status_code == 409)  # type: ignore[attr-defined]
        assert loser.mimetype == "application/problem+json"
        assert len(_transitions_from(conflict.id, workflow.RESOLVED)) == 1
        won = next(r for r in responses if r.status_code == 200).get_json()  # type: ignore[attr-defined]
        assert db.session.get(Conflict, conflict.id).status == won["status"]
        ledger_after = db.session.scalar(select(func.count(TrustEvent.id)))
        assert ledger_after - ledger_before == 1  # the winner's evidence, never twice


def test_the_sweeps_auto_close_and_a_partners_dispute_never_both_happen(app, monkeypatch) -> None:
    manager = make_manager()
    partner = make_partner()
    anna = make_partner_user(partner=partner)
    _slow(monkeypatch, workflow, "plan")
    for round_ in range(ROUNDS):
        conflict = _resolved_conflict(anna, manager, WHEN + timedelta(days=round_))
        anna_id, conflict_id = anna.id, conflict.id
        later = WHEN + timedelta(days=round_ + 8)  # past the 7-day auto-close

        def dispute(user_id: int = anna_id, conflict_id: int = conflict_id, now=later):  # type: ignore[no-untyped-def]
            from tracker.models import User

            user = db.session.get(User, user_id)
            return conflicts.act(user, conflict_id, "dispute", {"reason": "Still unpaid."}, now=now)

        def run_sweep(now=later):  # type: ignore[no-untyped-def]
            return sweep(now)

        results = _at_once(app, run_sweep, dispute)
        transitions = _transitions_from(conflict.id, workflow.RESOLVED)
        assert len(transitions) == 1, transitions
        status = db.session.get(Conflict, conflict.id).status
        if transitions == ["dispute"]:
            assert status == workflow.TRIAGED
        else:
            assert transitions == ["auto_close"] and status == workflow.CLOSED
            assert isinstance(results[1], StateConflict)


def test_two_managers_acknowledging_one_escalation_exactly_one_wins(app, monkeypatch) -> None:
    maya, leo = make_manager(), make_manager()
    partner = make_partner(owner_id=maya.id)
    anna = make_partner_user(partner=partner)
    make_conflict(anna, severity="critical", now=WHEN)
    sweep(WHEN + timedelta(hours=3))
    escalation = db.session.scalars(select(Escalation).order_by(Escalation.id)).first()
    assert escalation is not None
    escalation_id, ids = escalation.id, (maya.id, leo.id)
    _slow(monkeypatch, escalations.sla, "open_escalations")

    def acknowledge(user_id: int):  # type: ignore[no-untyped-def]
        from tracker.models import User

        def call():  # type: ignore[no-untyped-def]
            user = db.session.get(User, user_id)
            return escalations.acknowledge(user, escalation_id, "On it.", now=WHEN)

        return call

    results = _at_once(app, acknowledge(ids[0]), acknowledge(ids[1]))
    assert sum(isinstance(r, StateConflict) for r in results) == 1, results
    acknowledged = db.session.scalar(
        select(func.count(ConflictEvent.id)).where(ConflictEvent.kind == "escalation_acknowledged")
    )
    assert acknowledged == 1


def test_parallel_evidence_on_one_partner_keeps_the_tally_equal_to_its_ledger(
    app, monkeypatch
) -> None:
    manager = make_manager()
    partner = make_partner()
    anna = make_partner_user(partner=partner)
    resolved = [_resolved_conflict(anna, manager, WHEN + timedelta(minutes=i)) for i in range(6)]
    events_before = db.session.scalar(select(func.sum(TrustScore.events))) or 0
    _slow(monkeypatch, trust, "_tally", 0.02)  # between reading the tally and writing it back
    anna_id = anna.id
    later = WHEN + timedelta(days=1)

    def accept(conflict_id: int):  # type: ignore[no-untyped-def]
        def call():  # type: ignore[no-untyped-def]
            from tracker.models import User

            return conflicts.act(
                db.session.get(User, anna_id), conflict_id, "accept", None, now=later
            )

        return call

    results = _at_once(app, *(accept(c.id) for c in resolved))
    assert [type(r).__name__ for r in results] == ["Conflict"] * len(resolved)
    weighed = db.session.scalar(
        select(func.count(TrustEvent.id)).where(
            TrustEvent.partner_id == partner.id, TrustEvent.weight != 0
        )
    )
    assert (db.session.scalar(select(func.sum(TrustScore.events))) or 0) == weighed
    assert weighed > events_before
    for _, side, stored, rebuilt in trust.rebuild(later):
        assert stored == pytest.approx(rebuilt, abs=1e-9), side
