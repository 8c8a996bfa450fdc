"""Escalations: recording the levels a clock reaches, reminders, acknowledgement.

The only writer of escalation rows. Everything here runs inside the caller's transaction
(the sweep's batch, or an acknowledgement's); who hears of a level is the business of a
consumer of EscalationsFired and ReminderDue (services/escalation_notices.py), so the rows
and their notices commit together or not at all, and unique keys make a repeat harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import selectinload

from tracker.database import lock_for_write
from tracker.domain import clock
from tracker.domain import escalation as esc
from tracker.domain.events import EscalationsFired, Event, LevelPassed, ReminderDue
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import Conflict, Escalation, EscalationReminder, User
from tracker.models.conflict import INTERNAL
from tracker.services import conflicts, messagebus, paging, sla, timeline
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

    def add(self, other: SweepCounts) -> None:
        """Count what a committed piece of work did (a batch, or one conflict alone)."""
        self.evaluated += other.evaluated
        self.reminders += other.reminders
        self.auto_closed += other.auto_closed
        for level, count in (other.escalated or {}).items():
            self.escalated[level] = self.escalated.get(level, 0) + count


def _cycle(conflict: Conflict, clock_name: str) -> int:
    return 1 if clock_name == "triage" else conflict.resolution_cycle


def _clocks(conflict: Conflict, policy: clock.Policy) -> dict[str, clock.Clock]:
    return {
        "triage": sla.triage_clock(conflict, policy),
        "resolution": sla.resolution_clock(conflict),
    }


@dataclass
class _Reached:
    """Levels of one clock found reached by one evaluation, lowest first."""

    conflict: Conflict
    clock: str
    cycle: int
    moments: list[esc.LevelMoment]


def evaluate(batch: list[Conflict], now: datetime, counts: SweepCounts) -> None:
    """Record the levels reached, remind what is unacknowledged, schedule the next look,
    for a batch of conflicts at once.

    A late evaluation (after downtime, or a re-applied agreement) may find several levels
    of one clock reached at once: each is recorded, and one EscalationsFired carries them
    all, so people hear once, of the highest. The work is set-based: the batch's
    escalations are read in one statement, its new levels written in one, and its events
    published together, so the consumers write their rows a statement per table.
    """
    rows_by_conflict = sla.escalations_by_conflict([c.id for c in batch])
    policies: dict[int, clock.Policy] = {}
    known: dict[int, sla.Moments] = {}
    reached: list[_Reached] = []
    reminders: list[Event] = []
    for conflict in batch:
        counts.evaluated += 1
        policy = policies[conflict.id] = sla.snapshot_policy(conflict)
        rows = rows_by_conflict[conflict.id]
        fired = {(e.clock, e.level, e.cycle) for e in rows}
        known[conflict.id] = {}
        for name, value in _clocks(conflict, policy).items():
            if not value.running:
                continue
            cycle = _cycle(conflict, name)
            moments = [
                moment
                for moment in sla.level_moments(name, value, policy, known[conflict.id])
                if moment.at <= now and (name, moment.level, cycle) not in fired
            ]
            if moments:
                reached.append(_Reached(conflict, name, cycle, moments))
                _hand_over_reminders(rows, name, cycle, moments[-1].level)
                for moment in moments:
                    counts.escalated[moment.level] += 1
        for escalation in rows:
            due = escalation.next_reminder_at is not None and escalation.next_reminder_at <= now
            if due and escalation.closed_at is None and escalation.acknowledged_at is None:
                reminders.append(_remind(escalation, now, policy))
                counts.reminders += 1
    fired_events = _fire(reached, now, policies, rows_by_conflict)
    # The conflicts' own columns change in several consumers: written once, at the end.
    with db.session.no_autoflush:
        messagebus.publish([*fired_events, *reminders], now)
        for conflict in batch:
            sla.refresh(
                conflict,
                now,
                rows_by_conflict[conflict.id],
                policies[conflict.id],
                known[conflict.id],
            )
    db.session.flush()


def evaluate_due(batch: list[Conflict], now: datetime, counts: SweepCounts) -> None:
    """The sweep's work on a batch of due conflicts, in its transaction and under its lock:
    close the resolutions left unanswered, then evaluate the clocks."""
    for conflict in batch:
        if conflicts.close_unanswered(conflict, now):
            counts.auto_closed += 1
    evaluate(batch, now, counts)


def _hand_over_reminders(rows: list[Escalation], clock_name: str, cycle: int, top: str) -> None:
    """Lower open levels of the clock stop reminding: the higher level speaks for them now."""
    for lower in rows:
        same_clock = lower.clock == clock_name and lower.cycle == cycle
        lower_level = esc.LEVEL_RANK[lower.level] < esc.LEVEL_RANK[top]
        if same_clock and lower.closed_at is None and lower_level:
            lower.next_reminder_at = None


def _fire(
    reached: list[_Reached],
    now: datetime,
    policies: dict[int, clock.Policy],
    rows_by_conflict: dict[int, list[Escalation]],
) -> list[EscalationsFired]:
    """Record each level reached (lowest first), all in one INSERT; only the highest of a
    clock reminds. The new rows join their conflict's list in `rows_by_conflict`."""
    if not reached:
        return []
    values = []
    reminders: dict[tuple, datetime] = {}  # worked out once per interval and calendar
    for item in reached:
        conflict, policy = item.conflict, policies[item.conflict.id]
        due = conflict.triage_due_at if item.clock == "triage" else conflict.resolution_due_at
        key = (policy.reminder_interval, id(policy.calendar))
        reminder = reminders.get(key)
        if reminder is None:
            reminder = reminders[key] = policy.next_reminder(now)
        top = item.moments[-1].level
        values.extend(
            {
                "conflict_id": conflict.id,
                "clock": item.clock,
                "level": moment.level,
                "cycle": item.cycle,
                "fired_at": now,
                "due_at": due,
                "next_reminder_at": reminder if moment.level == top else None,
                "reminders_sent": 0,
            }
            for moment in item.moments
        )
    # The unique key keeps each level once; rows come back matched by that key, not order.
    inserted = db.session.scalars(
        insert(Escalation).returning(Escalation),
        values,
        execution_options={"render_nulls": True},  # one statement, not one per shape of row
    ).all()
    by_key = {(row.conflict_id, row.clock, row.level, row.cycle): row for row in inserted}
    events = []
    for item in reached:
        conflict_id = item.conflict.id
        new = [by_key[(conflict_id, item.clock, m.level, item.cycle)] for m in item.moments]
        rows_by_conflict[conflict_id].extend(new)
        passed = tuple(
            LevelPassed(level=m.level, reached_at=m.at, escalation_id=row.id)
            for m, row in zip(item.moments, new, strict=True)
        )
        events.append(
            EscalationsFired(
                conflict_id=conflict_id, clock=item.clock, cycle=item.cycle, passed=passed
            )
        )
    return events


def _remind(escalation: Escalation, now: datetime, policy: clock.Policy) -> ReminderDue:
    """One reminder for an unacknowledged level, however many intervals were missed."""
    sequence = escalation.reminders_sent + 1
    db.session.add(EscalationReminder(escalation_id=escalation.id, sequence=sequence, sent_at=now))
    escalation.reminders_sent = sequence
    escalation.next_reminder_at = policy.next_reminder(now)
    return ReminderDue(escalation_id=escalation.id, sequence=sequence)


def acknowledge(actor: User, escalation_id: int, note: str, *, now: datetime) -> Escalation:
    """A manager takes it: reminders for this level stop; the next level still fires."""
    if not actor.is_staff:
        raise PermissionDenied(N_("Only alliance managers can acknowledge escalations."))
    # Judge "already acknowledged" under the write lock (the conflict's row on PostgreSQL,
    # the database on SQLite): two managers, or a sweep working on this conflict, wait.
    lock_for_write(db.session)
    escalation = db.session.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFound(N_("No such escalation."))
    db.session.scalar(
        select(Conflict.id).where(Conflict.id == escalation.conflict_id).with_for_update()
    )
    db.session.refresh(escalation)
    if escalation.acknowledged_at is not None:
        raise StateConflict(N_("This escalation was already acknowledged."))
    if escalation.closed_at is not None:
        raise StateConflict(N_("This escalation is over: its clock has stopped."))
    text = (note or "").strip()
    if len(text) > 2000:
        raise StateConflict(N_("The note is too long (at most 2,000 characters)."))
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
    timeline.record(
        conflict,
        actor.id,
        "escalation_acknowledged",
        now,
        visibility=INTERNAL,
        body=text or None,
        data={"level": escalation.level, "clock": escalation.clock},
    )
    sla.refresh(conflict, now)
    db.session.commit()
    return escalation


def acknowledge_all(actor: User, conflict_id: int, note: str, *, now: datetime) -> list[Escalation]:
    """A manager takes every open level of one conflict at once (every clock, every level).

    Each level is claimed by a conditional UPDATE (`acknowledged_at IS NULL`), so of two
    managers pressing at the same instant, each level is acknowledged once, with one timeline
    entry, and the later press finds nothing left: an empty list, not an error."""
    if not actor.is_staff:
        raise PermissionDenied(N_("Only alliance managers can acknowledge escalations."))
    text = (note or "").strip()
    if len(text) > 2000:
        raise StateConflict(N_("The note is too long (at most 2,000 characters)."))
    # The conflict's row lock first (the write lock on SQLite), as the sweep and acknowledge()
    # take it: the timeline's chain and sla.refresh write that row.
    lock_for_write(db.session)
    conflict = db.session.scalar(
        select(Conflict)
        .where(Conflict.id == conflict_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if conflict is None:
        raise NotFound(N_("No such conflict."))
    claimed = db.session.execute(
        update(Escalation)
        .where(
            Escalation.conflict_id == conflict_id,
            Escalation.closed_at.is_(None),
            Escalation.acknowledged_at.is_(None),
        )
        .values(
            acknowledged_at=now,
            acknowledged_by_id=actor.id,
            acknowledgement_note=text or None,
            next_reminder_at=None,
        )
        .returning(Escalation.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(claimed.scalars())
    if not ids:
        db.session.rollback()
        return []
    rows = sorted(
        db.session.scalars(
            select(Escalation)
            .where(Escalation.id.in_(ids))
            .execution_options(populate_existing=True)
        ),
        key=lambda e: (-esc.LEVEL_RANK[e.level], e.clock, e.id),
    )
    for index, item in enumerate(rows):
        timeline.record(
            conflict,
            actor.id,
            "escalation_acknowledged",
            now,
            visibility=INTERNAL,
            body=(text or None) if index == 0 else None,  # the note once, on the highest
            data={"level": item.level, "clock": item.clock},
        )
    sla.refresh(conflict, now)
    db.session.commit()
    return rows


def _open_filtered(statement, level: str | None, acknowledged: str | None):  # type: ignore[no-untyped-def]
    statement = statement.where(Escalation.closed_at.is_(None))
    if level in esc.LEVELS:
        statement = statement.where(Escalation.level == level)
    if acknowledged == "no":
        statement = statement.where(Escalation.acknowledged_at.is_(None))
    elif acknowledged == "yes":
        statement = statement.where(Escalation.acknowledged_at.is_not(None))
    return statement


_LEVEL_RANK = case(esc.LEVEL_RANK, value=Escalation.level, else_=0)


def active_query(level: str | None = None, acknowledged: str | None = None):  # type: ignore[no-untyped-def]
    """Open escalations, highest level first, oldest first within a level."""
    query = _open_filtered(select(Escalation), level, acknowledged).options(
        selectinload(Escalation.conflict).selectinload(Conflict.partner),
        selectinload(Escalation.acknowledged_by),
    )
    return query.order_by(_LEVEL_RANK.desc(), Escalation.fired_at.asc(), Escalation.id.asc())


@dataclass(frozen=True)
class ConflictEscalations:
    """One conflict's open levels (those the filters kept), highest first."""

    conflict: Conflict
    levels: list[Escalation]

    @property
    def unacknowledged(self) -> list[Escalation]:
        return [e for e in self.levels if e.acknowledged_at is None]

    @property
    def by_clock(self) -> list[tuple[str, list[Escalation]]]:
        """The levels per clock (and cycle), the clock with the highest level first."""
        clocks: dict[tuple[str, int], list[Escalation]] = {}
        for item in self.levels:
            clocks.setdefault((item.clock, item.cycle), []).append(item)
        return [(key[0], items) for key, items in clocks.items()]

    @property
    def due_at(self) -> datetime | None:
        """The earliest deadline among the levels: how late the conflict is."""
        return min((e.due_at for e in self.levels if e.due_at), default=None)


def grouped_page(
    level: str | None, acknowledged: str | None, page: int, per_page: int
) -> Pagination:
    """A page of conflicts with open escalations, one item per conflict: the highest level
    reached first, then the longest escalated. Three reads, however many rows are shown."""
    statement = _open_filtered(select(Escalation.conflict_id), level, acknowledged).group_by(
        Escalation.conflict_id
    )
    statement = statement.order_by(
        func.max(_LEVEL_RANK).desc(), func.min(Escalation.fired_at).asc(), Escalation.conflict_id
    )
    result = paging.numbered(statement, page, per_page)
    ids = list(result.items)
    rows = db.session.scalars(
        _open_filtered(select(Escalation), level, acknowledged)
        .where(Escalation.conflict_id.in_(ids))
        .options(
            selectinload(Escalation.conflict).selectinload(Conflict.partner),
            selectinload(Escalation.acknowledged_by),
        )
        .order_by(_LEVEL_RANK.desc(), Escalation.fired_at.asc(), Escalation.id.asc())
    ).all()
    by_conflict: dict[int, list[Escalation]] = {}
    for row in rows:
        by_conflict.setdefault(row.conflict_id, []).append(row)
    result.items = [
        ConflictEscalations(by_conflict[i][0].conflict, by_conflict[i])
        for i in ids
        if i in by_conflict
    ]
    return result
