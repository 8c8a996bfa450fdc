"""The trust ledger against hand-computed numbers: evidence, decay, pauses, ratings, alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import (
    RESOLUTION,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tracker.domain import trust as model
from tracker.extensions import db
from tracker.models import Notification, OutboxMessage, Partner, TrustEvent, TrustScore
from tracker.services import conflicts, preferences, trust
from tracker.services.errors import StateConflict

H = timedelta(hours=1)


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour - 1, minute, tzinfo=UTC)


def close_loop(
    user, manager, severity: str, resolve_at: datetime, accept_at: datetime | None = None
):  # type: ignore[no-untyped-def]
    conflict = make_conflict(user, severity=severity, now=berlin(16, 10))
    triage(conflict, manager, now=berlin(16, 10, 30))
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=resolve_at)
    conflicts.act(user, conflict.id, "accept", {}, now=accept_at or resolve_at + H)
    return conflict


def test_resolution_within_target_scores_as_computed_by_hand(app) -> None:
    manager, user = make_manager(), make_partner_user()
    close_loop(user, manager, "high", berlin(16, 15))  # 5h of a 24h target
    # High x1.5: r = 1.5, s = 0, E = (1.5 + 1) / (1.5 + 0 + 2) = 2.5 / 3.5.
    delivery = trust.scores(user.partner_id, berlin(16, 16))["delivery"]
    assert delivery.score == pytest.approx(100 * 2.5 / 3.5)
    assert (delivery.r, delivery.s) == (pytest.approx(1.5), 0)
    # 90 days later the evidence has halved: r = 0.75, E = 1.75 / 2.75.
    later = trust.scores(user.partner_id, berlin(16, 16) + timedelta(days=90))["delivery"]
    assert later.score == pytest.approx(100 * 1.75 / 2.75)
    assert later.high - later.low > delivery.high - delivery.low  # less evidence, wider interval


def test_late_resolution_is_weighed_by_its_overrun_and_severity(app) -> None:
    manager, user = make_manager(), make_partner_user()
    # Critical, 8h target; resolved Tue 13:00 Berlin: Mon 10-17 (7h) + Tue 9-13 (4h) = 11h, 3h late.
    conflict = close_loop(user, manager, "critical", berlin(17, 13))
    (event,) = db.session.scalars(select(TrustEvent).where(TrustEvent.kind == "accepted"))
    # Penalty min(1 + 3/8, 3) = 1.375, x2 for critical = -2.75.
    assert event.weight == pytest.approx(-2.75)
    assert (event.sla_met, event.overrun_seconds, event.resolution_business_seconds) == (
        False,
        3 * 3600,
        11 * 3600,
    )
    assert event.rule == "sla_breach"
    assert trust.explain(event).startswith(f"-2.8: {conflict.ref} resolution 3h late")
    assert "accountable: us" in trust.explain(event)
    score = trust.scores(user.partner_id, berlin(17, 14))["delivery"]
    assert score.score == pytest.approx(100 * 1 / (2.75 + 2))


def test_dispute_and_reopen_count_against_our_delivery(app) -> None:
    manager, user = make_manager(), make_partner_user()
    conflict = make_conflict(user, severity="medium", now=berlin(16, 10))
    triage(conflict, manager, now=berlin(16, 11))
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=berlin(16, 12))
    conflicts.act(user, conflict.id, "dispute", {"reason": "No"}, now=berlin(16, 13))
    kinds = [
        (e.kind, e.weight) for e in db.session.scalars(select(TrustEvent).order_by(TrustEvent.id))
    ]
    assert kinds == [("resolved", 0.0), ("disputed", -1.0)]


def test_paused_time_is_charged_to_the_partner_not_to_us(app) -> None:
    manager, user = make_manager(), make_partner_user()
    conflict = make_conflict(user, severity="high", now=berlin(16, 10))
    triage(conflict, manager, now=berlin(16, 11))
    conflicts.act(
        manager, conflict.id, "wait_on_partner", {"message": "Invoice copy?"}, now=berlin(16, 12)
    )
    # The partner answers a week later: Mon 12-17 (5h) + 4 x 8h + Mon 9-12 (3h) = 40h of waiting.
    conflicts.comment(user, conflict.id, "Attached.", now=berlin(23, 12))
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=berlin(23, 14))
    conflicts.act(user, conflict.id, "accept", {}, now=berlin(23, 15))
    accepted = db.session.scalar(select(TrustEvent).where(TrustEvent.kind == "accepted"))
    assert accepted.resolution_business_seconds == 4 * 3600  # Mon 10-12 + Mon 12-14: ours
    assert accepted.sla_met is True and accepted.weight == pytest.approx(1.5)
    answered = db.session.scalar(select(TrustEvent).where(TrustEvent.kind == "partner_answered"))
    assert answered.side == "responsiveness"
    # 40h against a 16h expectation: -(1 + 24/16) = -2.5, x1.5 = -3.75.
    assert answered.weight == pytest.approx(-3.75)
    scores = trust.scores(user.partner_id, berlin(23, 16))
    assert scores["responsiveness"].s == pytest.approx(3.75 * 0.5 ** ((4 / 24) / 90))  # 4h of decay
    assert scores["delivery"].s == 0


def test_withdrawn_conflicts_leave_no_evidence(app) -> None:
    user = make_partner_user()
    conflict = make_conflict(user)
    conflicts.act(user, conflict.id, "withdraw", {"reason": "raised_in_error"}, now=berlin(16, 12))
    assert db.session.scalar(select(func.count(TrustEvent.id))) == 0


def test_rating_is_once_per_user_within_30_days_of_closing(app) -> None:
    manager, user = make_manager(), make_partner_user()
    colleague = make_partner_user(partner=db.session.get(Partner, user.partner_id))
    conflict = close_loop(user, manager, "low", berlin(16, 12), berlin(16, 13))
    trust.rate(user, conflict.id, 5, "Quick and fair.", now=berlin(17, 9))
    with pytest.raises(StateConflict, match="already rated"):
        trust.rate(user, conflict.id, 1, "", now=berlin(17, 10))
    with pytest.raises(StateConflict, match="30 days"):
        trust.rate(colleague, conflict.id, 4, "", now=berlin(16, 13) + timedelta(days=31))
    rating = db.session.scalar(select(TrustEvent).where(TrustEvent.kind == "rated"))
    assert rating.weight == 1.0  # ratings are not multiplied by severity


def test_open_conflicts_cannot_be_rated(app) -> None:
    user = make_partner_user()
    conflict = make_conflict(user)
    with pytest.raises(StateConflict, match="closed"):
        trust.rate(user, conflict.id, 5, "", now=berlin(16, 12))


def test_rebuild_agrees_with_the_increments(app) -> None:
    manager, user = make_manager(), make_partner_user()
    close_loop(user, manager, "high", berlin(16, 15))
    close_loop(user, manager, "critical", berlin(18, 15))
    now = berlin(30, 12)
    before = trust.scores(user.partner_id, now)
    results = trust.rebuild(now)
    assert all(abs(stored - rebuilt) < 1e-9 for _, _, stored, rebuilt in results)
    after = trust.scores(user.partner_id, now)
    assert after["delivery"].score == pytest.approx(before["delivery"].score, rel=1e-12)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 400 * 24),
            st.floats(-6, 3, allow_nan=False).filter(lambda w: abs(w) > 1e-6),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_incremental_and_rebuilt_scores_agree_for_any_history(app, history) -> None:
    partner = make_partner()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for hours, weight in sorted(history):
        evidence = model.Evidence(weight=weight, rule="test", explanation="generated")
        trust.record(
            partner.id, "delivery", "test", start + timedelta(hours=hours), evidence=evidence
        )
    db.session.commit()
    now = start + timedelta(days=420)
    row = db.session.scalar(select(TrustScore).where(TrustScore.partner_id == partner.id))
    incremental = model.TrustTally(row.r, row.s, row.as_of).decayed_to(now, timedelta(days=90))
    rebuilt = model.rebuild(
        [(start + timedelta(hours=h), w) for h, w in history], now, timedelta(days=90)
    )
    assert incremental.r == pytest.approx(rebuilt.r, rel=1e-9, abs=1e-12)
    assert incremental.s == pytest.approx(rebuilt.s, rel=1e-9, abs=1e-12)


def test_a_falling_score_alerts_the_relationship_owner_once(app) -> None:
    owner = make_manager(email="owner@example.com")
    partner = make_partner(owner_id=owner.id)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    for day in range(5):  # a good month...
        trust.record(partner.id, "delivery", "test", start + timedelta(days=day),
                     evidence=model.Evidence(2.0, "sla_met", "good"))  # fmt: skip
    for day in range(3):  # ...then three bad weeks
        trust.record(partner.id, "delivery", "test", start + timedelta(days=40 + day),
                     evidence=model.Evidence(-3.0, "sla_breach", "bad"))  # fmt: skip
    db.session.commit()
    alerts = db.session.scalars(
        select(Notification).where(Notification.kind == "trust_alert")
    ).all()
    assert len(alerts) >= 1 and all(a.user_id == owner.id for a in alerts)
    assert "fell" in alerts[0].title
    assert db.session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.address == "owner@example.com")
    ) == len(alerts)


@pytest.mark.parametrize(
    ("turned_off", "in_app", "emails"),
    [
        pytest.param(set(), 1, 1, id="both-channels-by-default"),
        pytest.param({("trust", "email")}, 1, 0, id="in-app-only"),
        pytest.param({("trust", "in_app")}, 0, 1, id="email-only"),
        pytest.param({("trust", "in_app"), ("trust", "email")}, 0, 0, id="neither"),
    ],
)
def test_trust_alerts_follow_the_owners_choices(app, turned_off, in_app, emails) -> None:
    """Trust alerts go through the same preferences as every other notice."""
    owner = make_manager(email="owner@example.com")
    make_partner(name="Quiet Co", owner_id=owner.id, now=datetime(2026, 1, 1, tzinfo=UTC))
    everything = set(preferences.choices(owner))
    preferences.save(owner, everything - turned_off)
    assert trust.watch_silence(datetime(2026, 3, 1, tzinfo=UTC)) == 1
    kinds = select(func.count(Notification.id)).where(Notification.kind == "trust_alert")
    assert db.session.scalar(kinds) == in_app
    mail = select(func.count(OutboxMessage.id)).where(OutboxMessage.address == "owner@example.com")
    assert db.session.scalar(mail) == emails


def test_no_contact_for_45_days_suggests_a_check_in(app) -> None:
    owner = make_manager()
    quiet = make_partner(name="Quiet Co", owner_id=owner.id, now=datetime(2026, 1, 1, tzinfo=UTC))
    busy = make_partner(name="Busy Co", owner_id=owner.id, now=datetime(2026, 1, 1, tzinfo=UTC))
    now = datetime(2026, 3, 1, tzinfo=UTC)
    trust.check_in(owner, busy.id, "Quarterly review call.", now=now - timedelta(days=44))
    assert trust.watch_silence(now) == 1
    assert trust.watch_silence(now) == 1  # still quiet, but the alert is not repeated
    titles = db.session.scalars(
        select(Notification.title).where(Notification.kind == "trust_alert")
    ).all()
    assert titles == ["No contact with Quiet Co for 59 days"]
    trust.check_in(owner, quiet.id, "Called them.", now=now)
    assert trust.watch_silence(now) == 0
