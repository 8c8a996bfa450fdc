"""Escalations: firing levels, reminders, acknowledgement, and telling the right people once.

Everything here runs inside the caller's transaction (the sweep's, or an acknowledgement's):
the escalation row, its in-app notices and its outbox rows commit together or not at all,
and unique keys make a repeated run write nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, render_template
from sqlalchemy import case, select
from sqlalchemy.orm import selectinload

from tracker.database import lock_for_write
from tracker.domain import clock, workflow
from tracker.domain import escalation as esc
from tracker.domain.accounts import ADMIN
from tracker.domain.calendar import add_business_time
from tracker.extensions import db
from tracker.models import Conflict, Escalation, EscalationReminder, Notification, User
from tracker.models.conflict import INTERNAL, PUBLIC
from tracker.services import conflicts as conflict_service
from tracker.services import links, notifications, outbox, preferences, sla, trust
from tracker.services.errors import NotFound, PermissionDenied, StateConflict


@dataclass
class SweepCounts:
    evaluated: int = 0
    escalated: dict[str, int] | None = None
    reminders: int = 0
    auto_closed: int = 0

    def __post_init__(self) -> None:
        if self.escalated is None:
            self.escalated = {level: 0 for level in esc.LEVELS}


def _cycle(conflict: Conflict, clock_name: str) -> int:
    return 1 if clock_name == "triage" else conflict.resolution_cycle


def _clocks(conflict: Conflict, policy: clock.Policy) -> dict[str, clock.Clock]:
    return {
        "triage": sla.triage_clock(conflict, policy),
        "resolution": sla.resolution_clock(conflict),
    }


def evaluate(conflict: Conflict, now: datetime, counts: SweepCounts) -> None:
    """Fire what is due, remind what is unacknowledged, then schedule the next look."""
    counts.evaluated += 1
    policy = sla.snapshot_policy(conflict)
    clocks = _clocks(conflict, policy)
    for name, value in clocks.items():
        if not value.running:
            continue
        for level in esc.levels_reached(value, now, policy, policy.calendar):
            if _find(conflict, name, level) is None:
                fire(conflict, name, level, now, policy)
                counts.escalated[level] += 1
    for escalation in sla.open_escalations(conflict):
        due = escalation.next_reminder_at is not None and escalation.next_reminder_at <= now
        if due and escalation.acknowledged_at is None:
            remind(escalation, now, policy)
            counts.reminders += 1
    sla.refresh(conflict, now)


def _find(conflict: Conflict, clock_name: str, level: str) -> Escalation | None:
    return db.session.scalar(
        select(Escalation).where(
            Escalation.conflict_id == conflict.id,
            Escalation.clock == clock_name,
            Escalation.level == level,
            Escalation.cycle == _cycle(conflict, clock_name),
        )
    )


def fire(
    conflict: Conflict, clock_name: str, level: str, now: datetime, policy: clock.Policy
) -> Escalation:
    """Record a level once and tell its audience (in-app, email, webhook)."""
    due = conflict.triage_due_at if clock_name == "triage" else conflict.resolution_due_at
    escalation = Escalation(
        conflict_id=conflict.id,
        clock=clock_name,
        level=level,
        cycle=_cycle(conflict, clock_name),
        fired_at=now,
        due_at=due,
        next_reminder_at=add_business_time(now, policy.reminder_interval, policy.calendar),
    )
    db.session.add(escalation)
    db.session.flush()
    for lower in sla.open_escalations(conflict):
        same_clock = lower.clock == clock_name and lower.cycle == escalation.cycle
        if same_clock and esc.LEVEL_RANK[lower.level] < esc.LEVEL_RANK[level]:
            lower.next_reminder_at = None  # the higher level speaks for it now
    conflict_service.record_event(
        conflict,
        None,
        "escalated_internal",
        now,
        visibility=INTERNAL,
        data={"clock": clock_name, "level": level, "escalation_id": escalation.id},
    )
    if level == esc.BREACH:
        trust.on_breach(conflict, clock_name, now)
    if level in esc.PUBLIC_NOTICE:
        event = conflict_service.record_event(
            conflict, None, "escalated", now, visibility=PUBLIC, data={"level": level}
        )
        db.session.flush()
        notifications.fan_out(conflict, event, now)
    _announce(escalation, conflict, now, sequence=0)
    return escalation


def remind(escalation: Escalation, now: datetime, policy: clock.Policy) -> None:
    sequence = escalation.reminders_sent + 1
    db.session.add(EscalationReminder(escalation_id=escalation.id, sequence=sequence, sent_at=now))
    escalation.reminders_sent = sequence
    escalation.next_reminder_at = add_business_time(now, policy.reminder_interval, policy.calendar)
    _announce(escalation, escalation.conflict, now, sequence=sequence)


def audience(conflict: Conflict, level: str) -> list[User]:
    """The people a level is for (active staff only), without duplicates."""
    partner = conflict.partner
    ids: list[int] = []
    for rule in esc.AUDIENCE[level]:
        if rule == "assignee_or_owner":
            ids.append(conflict.assignee_id or partner.owner_id)
        elif rule == "assignee":
            ids.append(conflict.assignee_id)
        elif rule == "owner":
            ids.append(partner.owner_id)
        elif rule == "admins":
            ids.extend(db.session.scalars(select(User.id).where(User.role == ADMIN)))
    wanted = [i for i in dict.fromkeys(ids) if i is not None]
    users = db.session.scalars(select(User).where(User.id.in_(wanted))).all() if wanted else []
    people = [u for u in users if u.is_active and u.is_staff]
    if not people:
        # Nobody to hear of it (no assignee, owner gone or deactivated): admins, never silence.
        admins = db.session.scalars(select(User).where(User.role == ADMIN)).all()
        people = [u for u in admins if u.is_active]
    return people


def _announce(escalation: Escalation, conflict: Conflict, now: datetime, *, sequence: int) -> None:
    level = escalation.level
    label = esc.LEVEL_LABELS[level]
    reminder = f" (reminder {sequence})" if sequence else ""
    heading = (
        f"{conflict.ref} {label.lower()}: {esc.CLOCK_LABELS[escalation.clock]} "
        f"for {conflict.partner.name}{reminder}"
    )
    subject = workflow.one_line(
        f"[Trustomer] {conflict.ref} {label} · {conflict.partner.name} · {conflict.title}"
    )[:300]
    url = links.conflict_url(conflict, staff=True)
    key = f"esc:{escalation.id}:{sequence}"
    for user in audience(conflict, level):
        if preferences.wants(user, preferences.ESCALATIONS, preferences.IN_APP):
            _in_app(user, conflict, f"{key}:in_app:{user.id}", heading, now)
        if preferences.wants(user, preferences.ESCALATIONS, preferences.EMAIL):
            _email(
                user.email,
                user,
                escalation,
                conflict,
                f"{key}:email:{user.id}",
                subject,
                heading,
                sequence,
                url,
                now,
            )
    mailing_list = current_app.config.get("ESCALATION_EMAIL")
    if "mailing_list" in esc.AUDIENCE[level] and mailing_list:
        _email(
            mailing_list,
            None,
            escalation,
            conflict,
            f"{key}:email:list",
            subject,
            heading,
            sequence,
            url,
            now,
        )
    webhook = current_app.config.get("WEBHOOK_URL")
    if webhook:
        outbox.enqueue_webhook(
            dedupe_key=f"{key}:webhook",
            url=webhook,
            payload={
                "event": "escalation.reminder" if sequence else f"escalation.{level}",
                "conflict": conflict.ref,
                "partner": conflict.partner.name,
                "title": conflict.title,
                "severity": conflict.severity,
                "clock": escalation.clock,
                "level": level,
                "reminder": sequence,
                "due_at": escalation.due_at.isoformat() if escalation.due_at else None,
                "url": url,
                "text": f"{_slack(heading)}: {_slack(conflict.title)} <{url}|open {conflict.ref}>",
            },
            conflict_id=conflict.id,
            now=now,
        )  # fmt: skip


def _slack(text: str) -> str:
    """Slack reads <...> as links and mentions (<!channel>): partner text must not."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _in_app(user: User, conflict: Conflict, key: str, title: str, now: datetime) -> None:
    exists = db.session.scalar(select(Notification.id).where(Notification.dedupe_key == key))
    if exists is None:
        db.session.add(
            Notification(
                user_id=user.id,
                conflict_id=conflict.id,
                kind="escalation",
                title=title[:300],
                dedupe_key=key,
                created_at=now,
            )
        )


def _email(
    address: str,
    user: User | None,
    escalation: Escalation,
    conflict: Conflict,
    key: str,
    subject: str,
    heading: str,
    sequence: int,
    url: str,
    now: datetime,
) -> None:
    context = {
        "heading": heading,
        "conflict": conflict,
        "clock_label": esc.CLOCK_LABELS[escalation.clock],
        "level_label": esc.LEVEL_LABELS[escalation.level],
        "reminder": sequence,
        "due_at": escalation.due_at,
        "timezone": user.display_timezone if user else "UTC",
        "url": url,
    }
    outbox.enqueue_email(
        dedupe_key=key,
        address=address,
        subject=subject,
        text=render_template("email/escalation.txt", **context),
        html=render_template("email/escalation.html", **context),
        recipient_id=user.id if user else None,
        conflict_id=conflict.id,
        now=now,
    )


def acknowledge(actor: User, escalation_id: int, note: str, *, now: datetime) -> Escalation:
    """A manager takes it: reminders for this level stop; the next level still fires."""
    if not actor.is_staff:
        raise PermissionDenied("Only alliance managers can acknowledge escalations.")
    # Judge "already acknowledged" under the write lock (the conflict's row on PostgreSQL,
    # the database on SQLite): two managers, or a sweep working on this conflict, wait.
    lock_for_write(db.session)
    escalation = db.session.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFound("No such escalation.")
    db.session.scalar(
        select(Conflict.id).where(Conflict.id == escalation.conflict_id).with_for_update()
    )
    db.session.refresh(escalation)
    if escalation.acknowledged_at is not None:
        raise StateConflict("This escalation was already acknowledged.")
    if escalation.closed_at is not None:
        raise StateConflict("This escalation is over: its clock has stopped.")
    text = (note or "").strip()
    if len(text) > 2000:
        raise StateConflict("The note is too long (at most 2,000 characters).")
    # Taking a level takes the lower ones of the same clock with it: one answer, not three.
    for item in [escalation, *sla.open_escalations(escalation.conflict)]:
        same_clock = item.clock == escalation.clock and item.cycle == escalation.cycle
        lower_or_same = esc.LEVEL_RANK[item.level] <= esc.LEVEL_RANK[escalation.level]
        if same_clock and lower_or_same and item.acknowledged_at is None:
            item.acknowledged_at = now
            item.acknowledged_by_id = actor.id
            item.acknowledgement_note = text or None
            item.next_reminder_at = None
    conflict = escalation.conflict
    conflict_service.record_event(
        conflict,
        actor,
        "escalation_acknowledged",
        now,
        visibility=INTERNAL,
        body=text or None,
        data={"level": escalation.level, "clock": escalation.clock},
    )
    sla.refresh(conflict, now)
    db.session.commit()
    return escalation


def active_query(level: str | None = None, acknowledged: str | None = None):  # type: ignore[no-untyped-def]
    """Open escalations, highest level first, oldest first within a level."""
    query = (
        select(Escalation)
        .where(Escalation.closed_at.is_(None))
        .options(
            selectinload(Escalation.conflict).selectinload(Conflict.partner),
            selectinload(Escalation.acknowledged_by),
        )
    )
    if level in esc.LEVELS:
        query = query.where(Escalation.level == level)
    if acknowledged == "no":
        query = query.where(Escalation.acknowledged_at.is_(None))
    elif acknowledged == "yes":
        query = query.where(Escalation.acknowledged_at.is_not(None))
    level_rank = case(esc.LEVEL_RANK, value=Escalation.level, else_=0)
    return query.order_by(level_rank.desc(), Escalation.fired_at.asc(), Escalation.id.asc())
