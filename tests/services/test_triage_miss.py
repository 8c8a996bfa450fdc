"""A missed triage target: the ledger says the truth, and it weighs nothing on its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import RESOLUTION, WHEN, make_conflict, make_manager, make_partner_user, triage
from tracker.domain import trust as model
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import TrustEvent
from tracker.services import conflicts, trust


def test_breach_facts_say_which_clock_and_whether_it_weighs() -> None:
    triage_text = model.breach_fact("triage")
    assert "not weighed on its own" in triage_text
    assert "weighed by its overrun" in model.breach_fact("resolution")


def test_missed_triage_is_recorded_unweighted_and_the_close_weighs_only_the_resolution(app):  # type: ignore[no-untyped-def]
    manager, user = make_manager(), make_partner_user()
    conflict = make_conflict(user, severity="critical", now=WHEN)  # 1h triage, 8h resolution
    sweep(WHEN + timedelta(hours=3))  # triage breached (and critical) before anyone triaged
    (fact,) = db.session.scalars(select(TrustEvent).where(TrustEvent.kind == "breached"))
    assert (fact.weight, fact.explanation) == (0.0, model.breach_fact("triage"))
    triage(conflict, manager, now=WHEN + timedelta(hours=3))
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=WHEN + timedelta(hours=4))
    conflicts.act(user, conflict.id, "accept", {}, now=WHEN + timedelta(hours=5))

    weighed = db.session.scalars(select(TrustEvent).where(TrustEvent.weight != 0)).all()
    (accepted,) = weighed  # the triage miss adds nothing beside the resolution's own weight
    assert accepted.kind == "accepted" and accepted.rule == "sla_met"
    expected = model.resolution_evidence(
        "critical",
        timedelta(seconds=accepted.resolution_business_seconds),
        timedelta(seconds=accepted.target_seconds),
        trust.weights(),
    )
    assert accepted.weight == pytest.approx(expected.weight)
    # The hours before triage are inside the resolution time that was weighed.
    assert accepted.resolution_business_seconds >= accepted.triage_business_seconds
