"""A sweep that runs three days late (downtime): the record is exact, people hear once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from tests.factories import make_admin, make_conflict, make_manager, make_partner, make_partner_user
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import Escalation, Notification, OutboxMessage

MONDAY_10_BERLIN = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
THREE_DAYS_LATE = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)  # Thursday: both clocks long past


def test_a_sweep_three_days_late_records_every_level_and_alerts_once_per_clock(app) -> None:
    owner = make_manager(name="Maya", email="maya@example.com")
    admin = make_admin(name="Ada", email="ada@example.com")
    partner = make_partner(name="Northwind", owner_id=owner.id)
    anna = make_partner_user(partner=partner, email="anna@northwind.example")
    conflict = make_conflict(anna, severity="critical", now=MONDAY_10_BERLIN)
    db.session.execute(db.delete(Notification))  # the submission's own notices
    db.session.execute(db.delete(OutboxMessage))
    db.session.commit()

    report = sweep(THREE_DAYS_LATE)

    # Every level of both clocks is on the record, as if the sweep had never stopped.
    rows = db.session.scalars(select(Escalation).where(Escalation.conflict_id == conflict.id))
    assert sorted((e.clock, e.level) for e in rows) == sorted(
        (clock, level)
        for clock in ("triage", "resolution")
        for level in ("warning", "breach", "critical")
    )
    assert report.escalated == {"warning": 2, "breach": 2, "critical": 2}
    # One alert per clock per person, at the highest level, naming the levels passed.
    notices = db.session.execute(select(Notification.user_id, Notification.title)).all()
    per_user = Counter(user_id for user_id, _ in notices)
    assert per_user[owner.id] == 2 and per_user[admin.id] == 2
    assert per_user[anna.id] == 2  # "escalated to senior management", once per clock
    assert len(notices) == len(set(notices))  # never the same words twice to one person
    staff_titles = [t for user_id, t in notices if user_id == owner.id]
    assert all("critical" in t and "also passed" in t for t in staff_titles)
    mails = db.session.execute(
        select(OutboxMessage.address, OutboxMessage.subject, OutboxMessage.body_text).where(
            OutboxMessage.channel == "email"
        )
    ).all()
    by_person = Counter(address for address, _, _ in mails)
    assert by_person["maya@example.com"] == 2 and by_person["ada@example.com"] == 2
    assert len({(a, s) for a, s, _ in mails}) == len(mails)  # distinct subjects per person
    maya = [body for address, _, body in mails if address == "maya@example.com"]
    assert all("Warning since" in body and "Breach since" in body for body in maya)
    # A second sweep at the same moment says nothing more.
    sweep(THREE_DAYS_LATE)
    assert len(db.session.execute(select(Notification.id)).all()) == len(notices)
