"""The SLA sweep: each level once at the right moment, reminders, acknowledgement, auto-close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import (
    RESOLUTION,
    make_admin,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import (
    Conflict,
    Escalation,
    EscalationReminder,
    Notification,
    OutboxMessage,
)
from tracker.services import conflict_access, conflicts, escalations


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """A November 2026 Berlin wall time (UTC+1) as UTC."""
    return datetime(2026, 11, day, hour - 1, minute, tzinfo=UTC)


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    """A partner owned by Maya, a colleague Leo, an admin, and a critical conflict at Mon 10:00."""
    owner = make_manager(name="Maya", email="maya@example.com")
    colleague = make_manager(name="Leo", email="leo@example.com")
    admin = make_admin(name="Ada", email="ada@example.com")
    partner = make_partner(name="Northwind", owner_id=owner.id)
    user = make_partner_user(partner=partner, email="anna@northwind.example")
    conflict = make_conflict(user, severity="critical", now=berlin(16, 10))
    # Critical: triage 1h (warning 10:45, breach 11:00, critical 11:30 Berlin);
    # resolution 8h (warning Mon 16:00, breach Tue 11:00, critical Tue 15:00).
    return {
        "owner": owner,
        "colleague": colleague,
        "admin": admin,
        "user": user,
        "conflict": conflict,
    }


def levels(conflict: Conflict) -> list[tuple[str, str, int]]:
    rows = db.session.scalars(
        select(Escalation).where(Escalation.conflict_id == conflict.id).order_by(Escalation.id)
    )
    return [(e.clock, e.level, e.cycle) for e in rows]


def escalation_notices(user) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(
            select(Notification.title)
            .where(Notification.user_id == user.id, Notification.kind == "escalation")
            .order_by(Notification.id)
        )
    )


def test_each_level_fires_once_at_its_moment(world) -> None:
    conflict = world["conflict"]
    assert sweep(berlin(16, 10, 44)).evaluated == 0  # nothing is due yet: not even looked at
    assert levels(conflict) == []
    report = sweep(berlin(16, 10, 45))
    assert report.escalated["warning"] == 1
    assert levels(conflict) == [("triage", "warning", 1)]
    assert sweep(berlin(16, 10, 45)).evaluated == 0  # the same now again changes nothing
    sweep(berlin(16, 11))
    sweep(berlin(16, 11, 29))
    assert levels(conflict) == [("triage", "warning", 1), ("triage", "breach", 1)]
    sweep(berlin(16, 11, 30))
    assert levels(conflict)[-1] == ("triage", "critical", 1)
    assert db.session.scalar(select(func.count(Escalation.id))) == 3
    assert db.session.get(Conflict, conflict.id).escalation_level == "critical"


def test_audience_grows_with_the_level(world, app) -> None:
    app.config["ESCALATION_EMAIL"] = "escalations@trustomer.example"
    conflict = world["conflict"]
    sweep(berlin(16, 10, 45))
    # Before triage nobody is assigned: the warning goes to the relationship owner.
    assert len(escalation_notices(world["owner"])) == 1
    assert escalation_notices(world["colleague"]) == [] and escalation_notices(world["admin"]) == []
    triage(conflict, world["colleague"], now=berlin(16, 10, 50))
    conflict2 = make_conflict(world["user"], severity="critical", now=berlin(16, 10))
    conflicts.assign(world["colleague"], conflict2.id, world["colleague"].id, now=berlin(16, 10))
    sweep(berlin(16, 11, 30))  # conflict2: warning, breach and critical at once
    for person in ("owner", "colleague", "admin"):
        assert any("critical" in t for t in escalation_notices(world[person])), person
    addresses = set(
        db.session.scalars(
            select(OutboxMessage.address).where(
                OutboxMessage.conflict_id == conflict2.id, OutboxMessage.channel == "email"
            )
        )
    )
    assert {
        "maya@example.com",
        "leo@example.com",
        "ada@example.com",
        "escalations@trustomer.example",
    } <= addresses
    partner_mail = select(func.count(OutboxMessage.id)).where(
        OutboxMessage.address == world["user"].email
    )
    partner_escalation_mail = partner_mail.where(OutboxMessage.subject.like("%breached%"))
    assert db.session.scalar(partner_escalation_mail) == 0
    assert escalation_notices(world["user"]) == []


def test_partner_timeline_says_escalated_without_internal_names(world) -> None:
    conflict = world["conflict"]
    for moment in (berlin(16, 10, 45), berlin(16, 11), berlin(16, 11, 30)):  # on time
        sweep(moment)
    public = conflict_access.timeline(conflict, world["user"])
    escalated = [e for e in public if e.kind == "escalated"]
    assert [e.data["level"] for e in escalated] == ["breach", "critical"]
    assert all(e.actor_id is None and e.visibility == "public" for e in escalated)
    assert not any(e.kind == "escalated_internal" for e in public)
    staff_view = conflict_access.timeline(conflict, world["owner"])
    assert sum(e.kind == "escalated_internal" for e in staff_view) == 3


def test_a_late_sweep_records_every_level_and_tells_the_partner_once(world) -> None:
    conflict = world["conflict"]
    sweep(berlin(16, 11, 30))  # warning, breach and critical all reached since the last look
    public = conflict_access.timeline(conflict, world["user"])
    assert [e.data["level"] for e in public if e.kind == "escalated"] == ["critical"]
    staff_view = conflict_access.timeline(conflict, world["owner"])
    internal = [e.data for e in staff_view if e.kind == "escalated_internal"]
    assert [d["level"] for d in internal] == ["warning", "breach", "critical"]
    assert [d["reached_at"] for d in internal] == [
        berlin(16, 10, 45).isoformat(),
        berlin(16, 11).isoformat(),
        berlin(16, 11, 30).isoformat(),
    ]


def test_reminders_follow_the_interval_and_never_every_sweep(world) -> None:
    owner, user = world["owner"], world["user"]
    # High: resolution target 24h from Mon 10:00; warning at 18h (Wed 12:00), breach Thu 10:00.
    conflict = make_conflict(user, severity="high", now=berlin(16, 10))
    triage(conflict, owner, now=berlin(16, 10, 30))
    triage(world["conflict"], owner, now=berlin(16, 10, 30))  # keep the critical one quiet
    sweep(berlin(18, 12))
    warning = db.session.scalar(select(Escalation).where(Escalation.conflict_id == conflict.id))
    assert (warning.clock, warning.level) == ("resolution", "warning")
    assert warning.next_reminder_at == berlin(18, 16)  # 4 business hours later
    for minute in range(0, 60, 10):
        sweep(berlin(18, 13, minute))
    assert db.session.scalar(select(func.count(EscalationReminder.id))) == 0
    sweep(berlin(18, 16))
    sweep(berlin(18, 16))
    reminders = db.session.scalars(
        select(EscalationReminder.sequence).where(EscalationReminder.escalation_id == warning.id)
    ).all()
    assert reminders == [1]
    # Wed 16:00-17:00 is 1h of business time; the other 3h run on Thursday from 09:00.
    assert db.session.get(Escalation, warning.id).next_reminder_at == berlin(19, 12)
    assert db.session.get(Conflict, conflict.id).next_check_at == berlin(19, 10)  # the breach


def test_a_higher_level_takes_over_the_reminders_of_the_lower(world) -> None:
    owner, user = world["owner"], world["user"]
    conflict = make_conflict(user, severity="high", now=berlin(16, 10))
    triage(conflict, owner, now=berlin(16, 10, 30))
    triage(world["conflict"], owner, now=berlin(16, 10, 30))
    sweep(berlin(18, 12))
    sweep(berlin(19, 10))  # breach
    by_level = {
        e.level: e
        for e in db.session.scalars(select(Escalation).where(Escalation.conflict_id == conflict.id))
    }
    assert by_level["warning"].next_reminder_at is None
    assert by_level["breach"].next_reminder_at == berlin(19, 14)
    sweep(berlin(19, 14))
    ours = [e.id for e in by_level.values()]
    reminded = db.session.scalars(
        select(EscalationReminder.escalation_id).where(EscalationReminder.escalation_id.in_(ours))
    ).all()
    assert reminded == [by_level["breach"].id]


def test_acknowledging_stops_reminders_for_that_level_but_not_the_next(world) -> None:
    owner, user = world["owner"], world["user"]
    conflict = make_conflict(user, severity="high", now=berlin(16, 10))
    triage(conflict, owner, now=berlin(16, 10, 30))
    triage(world["conflict"], owner, now=berlin(16, 10, 30))
    sweep(berlin(18, 12))  # resolution warning
    warning = db.session.scalar(select(Escalation).where(Escalation.conflict_id == conflict.id))
    escalations.acknowledge(owner, warning.id, "Calling them now.", now=berlin(18, 12, 30))
    sweep(berlin(18, 16))  # the warning's reminder time: nothing, it was acknowledged
    sweep(berlin(19, 10))  # the breach still fires
    sweep(berlin(19, 14))  # and reminds
    ours = select(Escalation).where(Escalation.conflict_id == conflict.id).order_by(Escalation.id)
    assert [e.level for e in db.session.scalars(ours)] == ["warning", "breach"]
    reminded = {
        db.session.get(Escalation, r.escalation_id).level
        for r in db.session.scalars(select(EscalationReminder))
        if db.session.get(Escalation, r.escalation_id).conflict_id == conflict.id
    }
    assert reminded == {"breach"}


def test_an_acknowledged_escalation_never_reminds_even_if_its_time_was_set(world) -> None:
    sweep(berlin(16, 10, 45))
    warning = db.session.scalars(select(Escalation)).one()
    escalations.acknowledge(world["owner"], warning.id, "On it.", now=berlin(16, 10, 50))
    warning.next_reminder_at = berlin(16, 10, 55)  # as a racing sweep might have left it
    db.session.get(Conflict, world["conflict"].id).next_check_at = berlin(16, 10, 55)
    db.session.commit()
    assert sweep(berlin(16, 10, 56)).evaluated == 1
    assert db.session.scalar(select(func.count(EscalationReminder.id))) == 0


def test_triage_ends_the_triage_escalations(world) -> None:
    conflict = world["conflict"]
    sweep(berlin(16, 11))
    triage(conflict, world["owner"], now=berlin(16, 11, 5))
    assert all(e.closed_at is not None for e in db.session.scalars(select(Escalation)))
    assert db.session.get(Conflict, conflict.id).escalation_level is None
    sweep(berlin(16, 15))
    assert db.session.scalar(select(func.count(EscalationReminder.id))) == 0
    sweep(berlin(16, 16))  # the resolution clock has its own warning at 6 of 8 hours
    assert levels(conflict)[-1] == ("resolution", "warning", 1)


def test_paused_clock_does_not_escalate_and_a_reopen_starts_a_new_cycle(world) -> None:
    conflict, owner, user = world["conflict"], world["owner"], world["user"]
    triage(conflict, owner, now=berlin(16, 10, 30))
    conflicts.act(owner, conflict.id, "wait_on_partner", {"message": "Logs?"}, now=berlin(16, 11))
    sweep(berlin(18, 12))
    assert levels(conflict) == []
    conflicts.comment(user, conflict.id, "Here.", now=berlin(18, 12))
    # Our time: Mon 10-11 (1h) + Wed 12-17 (5h) + Thu 09-11:30 (2h30) = 8h30 of 8h.
    conflicts.act(owner, conflict.id, "resolve", RESOLUTION, now=berlin(19, 11, 30))
    assert levels(conflict) == []  # nobody swept in between
    conflicts.act(user, conflict.id, "dispute", {"reason": "No"}, now=berlin(19, 12))
    sweep(berlin(19, 12))
    assert levels(conflict) == [("resolution", "warning", 2), ("resolution", "breach", 2)]


def test_resolution_left_unanswered_is_auto_closed_after_seven_days(world) -> None:
    conflict, owner = world["conflict"], world["owner"]
    triage(conflict, owner, now=berlin(16, 10, 30))
    conflicts.act(owner, conflict.id, "resolve", RESOLUTION, now=berlin(16, 12))
    assert db.session.get(Conflict, conflict.id).next_check_at == berlin(16, 12) + timedelta(days=7)
    assert sweep(berlin(23, 11, 59)).auto_closed == 0
    assert sweep(berlin(23, 12)).auto_closed == 1
    conflict = db.session.get(Conflict, conflict.id)
    assert (conflict.status, conflict.close_reason) == ("closed", "auto_accepted")
    assert conflict.next_check_at is None
    assert sweep(berlin(30, 12)).auto_closed == 0


def test_sweep_work_scales_with_what_is_due(world) -> None:
    user = world["user"]
    for _ in range(20):
        make_conflict(user, severity="low", now=berlin(16, 10))
    report = sweep(berlin(16, 10, 45))
    assert report.evaluated == 1  # only the critical one has anything due


def test_sweep_command_prints_what_it_did(world, runner) -> None:
    result = runner.invoke(args=["sla", "sweep", "--now", "2026-11-16T10:30:00Z"])
    assert result.exit_code == 0, result.output
    assert "evaluated 1" in result.output
    assert "escalated: warning 1, breach 1, critical 1" in result.output
    bad = runner.invoke(args=["sla", "sweep", "--now", "yesterday"])
    assert bad.exit_code != 0 and "ISO 8601" in bad.output


def test_backfill_command_reports_what_it_did(world, runner) -> None:
    result = runner.invoke(args=["sla", "backfill", "--now", "2026-11-16T10:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "clocks started for 0 conflict(s)" in result.output  # every conflict has its clocks


def test_acknowledging_a_level_takes_the_lower_levels_with_it(world) -> None:
    sweep(berlin(16, 11, 30))  # warning, breach and critical of the triage clock at once
    critical = db.session.scalar(select(Escalation).where(Escalation.level == "critical"))
    escalations.acknowledge(world["owner"], critical.id, "Taking it.", now=berlin(16, 11, 35))
    assert all(e.acknowledged_at is not None for e in db.session.scalars(select(Escalation)))


def test_one_broken_conflict_in_a_batch_does_not_stop_the_others(world) -> None:
    """The batch is evaluated set-based; when that fails, each conflict alone: the broken one
    is logged and looked at again in 5 minutes, the others are escalated, once."""
    healthy = [
        make_conflict(world["user"], severity="critical", title=f"Healthy {i}", now=berlin(16, 10))
        for i in range(3)
    ]
    broken = world["conflict"]
    db.session.execute(
        Conflict.__table__.update()
        .where(Conflict.id == broken.id)
        .values(sla_snapshot={"not": "an agreement"})
    )
    db.session.commit()
    db.session.expire_all()
    now = berlin(16, 12)
    report = sweep(now)
    assert report.failed == 1
    assert report.evaluated == 3
    for conflict in healthy:
        assert levels(conflict) == [
            ("triage", "warning", 1),
            ("triage", "breach", 1),
            ("triage", "critical", 1),
        ]
    assert levels(broken) == []
    db.session.expire_all()
    assert db.session.get(Conflict, broken.id).next_check_at == now + timedelta(minutes=5)
    again = sweep(now)
    assert again.evaluated == 0 and again.failed == 0  # nothing doubled, the broken one waits
