"""SLA clocks of conflicts: which agreement applies, and keeping the clock columns true.

A consumer of the bus (a conflict submitted, a transition, a corrected severity), inside
the caller's transaction; the only writer of the clock columns and of `next_check_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, inspect, select, update

from tracker.domain import clock, escalation, workflow
from tracker.domain.calendar import (
    BusinessCalendar,
    business_time_between,
    working_day_length,
)
from tracker.domain.events import ConflictSubmitted, SeverityChanged, StateChanged
from tracker.domain.text import N_
from tracker.domain.workflow import AUTO_CLOSE_AFTER
from tracker.extensions import db
from tracker.models import Conflict, Escalation, Partner, SlaPause, SlaPolicy


def partner_calendar(partner: Partner) -> BusinessCalendar:
    """Office hours (Mon-Fri 09-17) in the partner's timezone with its country's holidays."""
    return BusinessCalendar.office_hours(partner.timezone, holiday_country=partner.country)


def policy_row_for(partner: Partner) -> SlaPolicy | None:
    """The partner's own policy, else its tier's, else none (the built-in defaults).

    Read with the partner when that read loaded `Partner.agreement` (an API token's) and
    the partner's tier and policy have not changed since."""
    state = inspect(partner)
    if "agreement" in state.dict and not any(
        state.attrs[name].history.has_changes() for name in ("tier", "sla_policy_id")
    ):
        return state.dict["agreement"]
    if partner.sla_policy_id:
        return db.session.get(SlaPolicy, partner.sla_policy_id)
    return db.session.scalar(select(SlaPolicy).where(SlaPolicy.tier == partner.tier))


def policy_from_row(row: SlaPolicy | None, partner: Partner) -> clock.Policy:
    if row is None:
        return clock.Policy(calendar=partner_calendar(partner), name=N_("Standard agreement"))
    calendar = (
        calendar_from_row(row.calendar) if row.calendar is not None else partner_calendar(partner)
    )
    return clock.Policy(
        name=row.name,
        calendar=calendar,
        targets={
            severity: clock.Targets(
                timedelta(minutes=t["triage_minutes"]), timedelta(minutes=t["resolution_minutes"])
            )
            for severity, t in row.targets.items()
        },
        warning_percent=row.warning_percent,
        critical_percent=row.critical_percent,
        reminder_interval=timedelta(minutes=row.reminder_minutes),
        response_expectation=timedelta(minutes=row.response_expectation_minutes),
    )


def calendar_from_row(row: Any) -> BusinessCalendar:
    return clock.calendar_from_json(
        {
            "timezone": row.timezone,
            "hours": row.weekly_hours,
            "holidays": row.holidays,
            "holiday_country": row.holiday_country,
            "always_open": row.always_open,
        }
    )


def agreement_for(partner: Partner) -> clock.Policy:
    """The agreement in force for new conflicts of this partner."""
    return policy_from_row(policy_row_for(partner), partner)


def snapshot_policy(conflict: Conflict) -> clock.Policy:
    """The agreement the conflict is measured against (its snapshot)."""
    if conflict.sla_snapshot:
        return _policy_of_snapshot(conflict.sla_snapshot)
    return agreement_for(conflict.partner)


# Snapshots repeat: every conflict of a partner raised under one agreement has the same one.
# A list page working out 25 live states parsed 25 calendars, and each fresh (equal but not
# identical) calendar then missed the identity check of the day-bucket caches it keys.
# Keyed on the JSON's repr (plain JSON values: equal repr, equal snapshot); Policy and its
# calendar are frozen; a few hundred agreements at most, so the bound is a safety net.
_SNAPSHOT_POLICIES: dict[str, clock.Policy] = {}
_SNAPSHOT_POLICIES_MAX = 512


def _policy_of_snapshot(snapshot: dict[str, Any]) -> clock.Policy:
    key = repr(snapshot)
    policy = _SNAPSHOT_POLICIES.get(key)
    if policy is None:
        if len(_SNAPSHOT_POLICIES) >= _SNAPSHOT_POLICIES_MAX:
            _SNAPSHOT_POLICIES.clear()
        policy = _SNAPSHOT_POLICIES[key] = clock.Policy.from_json(snapshot)
    return policy


# --- the clocks, as stored in columns ----------------------------------------------------


def triage_clock(conflict: Conflict, policy: clock.Policy) -> clock.Clock:
    target = timedelta(seconds=conflict.triage_target_seconds or 0)
    if conflict.triage_stopped_at is not None:
        spent = business_time_between(
            conflict.created_at, conflict.triage_stopped_at, policy.calendar
        )
        return clock.Clock(target=target, spent=spent, stopped_at=conflict.triage_stopped_at)
    return clock.Clock(target=target, running_since=conflict.created_at)


def resolution_clock(conflict: Conflict) -> clock.Clock:
    return clock.Clock(
        target=timedelta(seconds=conflict.resolution_target_seconds or 0),
        spent=timedelta(seconds=conflict.resolution_spent_seconds),
        running_since=conflict.resolution_running_since,
        stopped_at=conflict.resolution_stopped_at,
    )


def _store_resolution(conflict: Conflict, value: clock.Clock, now: datetime) -> None:
    """Write a resolution clock back, banking wall time of the period that ended."""
    previous = conflict.resolution_running_since
    if previous is not None and value.running_since is None:
        conflict.resolution_wall_seconds += int((now - previous).total_seconds())
    conflict.resolution_target_seconds = int(value.target.total_seconds())
    conflict.resolution_spent_seconds = int(value.spent.total_seconds())
    conflict.resolution_running_since = value.running_since
    conflict.resolution_stopped_at = value.stopped_at


def start_clocks(conflict: Conflict, now: datetime, *, new: bool = False) -> None:
    """At submission: snapshot the agreement and start both clocks. `new`: the conflict was
    just raised, so it has no escalations to read."""
    row = policy_row_for(conflict.partner)
    policy = policy_from_row(row, conflict.partner)
    conflict.sla_policy_id = row.id if row else None
    conflict.sla_snapshot = policy.to_json()
    targets = policy.targets_for(conflict.severity)
    conflict.triage_target_seconds = int(targets.triage.total_seconds())
    conflict.triage_due_at = clock.due_at(clock.start(targets.triage, now), policy.calendar)
    _store_resolution(conflict, clock.start(targets.resolution, now), now)
    refresh(conflict, now, [] if new else None, policy)


def _retarget(
    conflict: Conflict, value: clock.Clock, event: StateChanged, now: datetime
) -> clock.Clock:
    policy = snapshot_policy(conflict)
    return clock.retarget(value, policy.targets_for(conflict.severity).resolution)


def _pause(
    conflict: Conflict, value: clock.Clock, event: StateChanged, now: datetime
) -> clock.Clock:
    db.session.add(
        SlaPause(
            conflict_id=conflict.id,
            started_at=now,
            started_by_id=event.actor_id,
            reason=event.body or "",
        )
    )
    return clock.pause(value, now, snapshot_policy(conflict).calendar)


def _resume(
    conflict: Conflict, value: clock.Clock, event: StateChanged, now: datetime
) -> clock.Clock:
    _end_pause(conflict, now, event.actor_id, snapshot_policy(conflict))
    return clock.resume(value, now)


def _stop(
    conflict: Conflict, value: clock.Clock, event: StateChanged, now: datetime
) -> clock.Clock:
    return clock.stop(value, now, snapshot_policy(conflict).calendar)


def _restart(
    conflict: Conflict, value: clock.Clock, event: StateChanged, now: datetime
) -> clock.Clock:
    conflict.resolution_cycle += 1
    return clock.restart(value, now)


# What each of the workflow's clock effects does to the resolution clock.
CLOCK_EFFECTS = {
    workflow.RETARGET: _retarget,
    workflow.PAUSE: _pause,
    workflow.RESUME: _resume,
    workflow.STOP: _stop,
    workflow.RESTART: _restart,
}


def on_submitted(event: ConflictSubmitted, now: datetime) -> None:
    """A new conflict's clocks start under the agreement in force now."""
    start_clocks(db.session.get(Conflict, event.conflict_id), now, new=True)


def on_state_changed(event: StateChanged, now: datetime) -> None:
    """Keep the clocks in step with a transition (the workflow table says what it does)."""
    conflict = db.session.get(Conflict, event.conflict_id)
    transition = workflow.TRANSITIONS[event.action]
    if transition.stops_triage and conflict.triage_stopped_at is None:
        conflict.triage_stopped_at = now
    resolution = resolution_clock(conflict)
    if transition.clock is not None:
        resolution = CLOCK_EFFECTS[transition.clock](conflict, resolution, event, now)
    _store_resolution(conflict, resolution, now)
    refresh(conflict, now)


def on_severity_changed(event: SeverityChanged, now: datetime) -> None:
    on_severity_change(db.session.get(Conflict, event.conflict_id), now)


def _end_pause(
    conflict: Conflict, now: datetime, actor_id: int | None, policy: clock.Policy
) -> None:
    pause = db.session.scalar(
        select(SlaPause).where(SlaPause.conflict_id == conflict.id, SlaPause.ended_at.is_(None))
    )
    if pause is None:
        return
    waited = business_time_between(pause.started_at, now, policy.calendar)
    pause.ended_at = now
    pause.ended_by_id = actor_id
    pause.business_seconds = int(waited.total_seconds())
    conflict.partner_wait_seconds += pause.business_seconds


def on_severity_change(conflict: Conflict, now: datetime) -> None:
    """A corrected severity measures the conflict against that severity's targets."""
    policy = snapshot_policy(conflict)
    targets = policy.targets_for(conflict.severity)
    if conflict.triage_stopped_at is None:
        conflict.triage_target_seconds = int(targets.triage.total_seconds())
        conflict.triage_due_at = clock.due_at(
            clock.Clock(target=targets.triage, running_since=conflict.created_at), policy.calendar
        )
    _store_resolution(conflict, clock.retarget(resolution_clock(conflict), targets.resolution), now)
    refresh(conflict, now)


def apply_agreement(conflict: Conflict, now: datetime) -> None:
    """Measure an active conflict against the partner's current agreement from now on.

    Business time already spent stays spent; only targets, thresholds and the calendar
    change. Used when an admin re-applies an edited policy to open conflicts. A clock whose
    due time has already passed keeps its target and that due time: the deadline was missed
    under the terms in force then, and re-applying must not make it look fresh.
    """
    triage_overdue = conflict.triage_due_at is not None and conflict.triage_due_at <= now
    resolution_overdue = (
        conflict.resolution_due_at is not None and conflict.resolution_due_at <= now
    )
    old_calendar = snapshot_policy(conflict).calendar
    resolution = resolution_clock(conflict)
    if resolution.running_since is not None:
        # Bank the running period under the old calendar; it runs on under the new one.
        _store_resolution(conflict, clock.pause(resolution, now, old_calendar), now)
        resolution = clock.resume(resolution_clock(conflict), now)
    row = policy_row_for(conflict.partner)
    policy = policy_from_row(row, conflict.partner)
    conflict.sla_policy_id = row.id if row else None
    conflict.sla_snapshot = policy.to_json()
    targets = policy.targets_for(conflict.severity)
    if conflict.triage_stopped_at is None and not triage_overdue:
        conflict.triage_target_seconds = int(targets.triage.total_seconds())
        conflict.triage_due_at = clock.due_at(
            clock.Clock(target=targets.triage, running_since=conflict.created_at), policy.calendar
        )
    if not resolution_overdue:
        resolution = clock.retarget(resolution, targets.resolution)
    _store_resolution(conflict, resolution, now)
    refresh(conflict, now)


def open_escalations(conflict: Conflict) -> list[Escalation]:
    return list(db.session.scalars(_OPEN_ESCALATIONS, {"conflict_id": conflict.id}))


def _settle_escalations(
    conflict: Conflict,
    now: datetime,
    policy: clock.Policy,
    clocks: dict[str, clock.Clock],
    escalations: list[Escalation],
) -> None:
    """Escalations of a stopped clock (or an earlier cycle) are over; paused ones wait."""
    items = [e for e in escalations if e.closed_at is None]
    top = {}
    for item in items:
        key = (item.clock, item.cycle)
        top[key] = max(top.get(key, 0), escalation.LEVEL_RANK[item.level])
    for item in items:
        value = clocks[item.clock]
        cycle = 1 if item.clock == "triage" else conflict.resolution_cycle
        superseded = escalation.LEVEL_RANK[item.level] < top[(item.clock, item.cycle)]
        if value.stopped or item.cycle != cycle:
            item.closed_at = now
            item.next_reminder_at = None
        elif not value.running or superseded:
            item.next_reminder_at = None  # paused, or a higher level reminds instead
        elif item.next_reminder_at is None and item.acknowledged_at is None:
            item.next_reminder_at = policy.next_reminder(now)
    levels = [e.level for e in escalations if e.closed_at is None]
    conflict.escalation_level = escalation.highest(levels)


def all_escalations(conflict: Conflict) -> list[Escalation]:
    """Every escalation row of the conflict, every cycle (one indexed read)."""
    return list(
        db.session.scalars(
            select(Escalation).where(Escalation.conflict_id == conflict.id).order_by(Escalation.id)
        )
    )


def escalations_by_conflict(conflict_ids: list[int]) -> dict[int, list[Escalation]]:
    """Every escalation row of these conflicts, every cycle, in one read (a sweep's batch)."""
    found: dict[int, list[Escalation]] = {conflict_id: [] for conflict_id in conflict_ids}
    if conflict_ids:
        for row in db.session.scalars(
            select(Escalation)
            .where(Escalation.conflict_id.in_(conflict_ids))
            .order_by(Escalation.conflict_id, Escalation.id)
        ):
            found[row.conflict_id].append(row)
    return found


def refresh(
    conflict: Conflict,
    now: datetime,
    escalations: list[Escalation] | None = None,
    policy: clock.Policy | None = None,
    moments: Moments | None = None,
) -> str:
    """Recompute the stored state, the soonest deadline and when to look again.

    `escalations`, `policy` and `moments`: the conflict's rows, agreement and level moments
    when the caller has them at hand (the sweep), so each is worked out once per conflict.
    """
    policy = policy or snapshot_policy(conflict)
    triage = triage_clock(conflict, policy)
    resolution = resolution_clock(conflict)
    rows = all_escalations(conflict) if escalations is None else escalations
    clocks = {"triage": triage, "resolution": resolution}
    _settle_escalations(conflict, now, policy, clocks, rows)
    conflict.resolution_due_at = _kept_if_passed(
        conflict.resolution_due_at, clock.due_at(resolution, policy.calendar), now
    )
    withdrawn = conflict.close_reason == "withdrawn"
    states = []
    if not withdrawn:
        states.append(clock.state(triage, now, policy.calendar, policy.warning_percent))
        states.append(clock.state(resolution, now, policy.calendar, policy.warning_percent))
    conflict.sla_state = clock.overall_state(states) if states else clock.MET
    running_dues = [
        d
        for d in (
            conflict.triage_due_at if not triage.stopped else None,
            conflict.resolution_due_at,
        )
        if d is not None
    ]
    conflict.sla_due_at = min(running_dues) if running_dues else None
    conflict.next_check_at = next_check(conflict, now, policy, triage, resolution, rows, moments)
    return conflict.sla_state


# Per clock name: the clock value its level moments were worked out for, and the moments.
Moments = dict[str, tuple[clock.Clock, list[escalation.LevelMoment]]]


def level_moments(
    name: str, value: clock.Clock, policy: clock.Policy, known: Moments | None = None
) -> list[escalation.LevelMoment]:
    """The clock's level moments: those already worked out for this very clock value in
    `known` (which they then join), else computed."""
    if known is not None:
        seen = known.get(name)
        if seen is not None and seen[0] == value:
            return seen[1]
    found = escalation.level_moments(value, policy, policy.calendar)
    if known is not None:
        known[name] = (value, found)
    return found


def _kept_if_passed(
    previous: datetime | None, computed: datetime | None, now: datetime
) -> datetime | None:
    """A running clock that is overdue computes its due time as "when it last started
    running" (the budget is gone); a due time already stored and passed is the truer one,
    so it stays. A clock that stopped or paused in between has none stored, and starts anew.
    """
    if previous is not None and computed is not None and previous <= now and computed <= now:
        return previous
    return computed


RETRY_FAILED_AFTER = timedelta(minutes=5)


def retry_later(conflict_id: int, now: datetime) -> None:
    """A conflict the sweep failed on is looked at again in a few minutes (the failure is
    logged); one conditional UPDATE, since its own changes were rolled back."""
    db.session.execute(
        update(Conflict)
        .where(Conflict.id == conflict_id)
        .values(next_check_at=now + RETRY_FAILED_AFTER)
    )


def next_check(
    conflict: Conflict,
    now: datetime,
    policy: clock.Policy,
    triage: clock.Clock,
    resolution: clock.Clock,
    escalations: list[Escalation],
    moments: Moments | None = None,
) -> datetime | None:
    """When the sweep must look at this conflict again (None: nothing can happen by time).

    The next unfired escalation level of a running clock (now, if one is already overdue),
    the next reminder of an open escalation, and the auto-close of a resolution left
    unanswered. The state changes (at risk, breached) coincide with the first two levels.
    """
    fired = {
        (e.clock, e.level)
        for e in escalations
        if e.cycle == (1 if e.clock == "triage" else conflict.resolution_cycle)
    }
    candidates: list[datetime] = []
    for name, value in (("triage", triage), ("resolution", resolution)):
        for moment in level_moments(name, value, policy, moments):
            if (name, moment.level) not in fired:
                candidates.append(max(moment.at, now))
                break
    candidates.extend(e.next_reminder_at for e in escalations if e.next_reminder_at is not None)
    if conflict.status == "resolved" and conflict.resolved_at is not None:
        candidates.append(conflict.resolved_at + AUTO_CLOSE_AFTER)
    return min(candidates) if candidates else None


# --- what people see ---------------------------------------------------------------------


@dataclass(frozen=True)
class ClockView:
    name: str
    target: timedelta
    spent: timedelta
    due_at: datetime | None
    stopped_at: datetime | None
    state: str
    percent: float
    working_day: timedelta = timedelta(hours=8)  # the calendar's usual day, for partners

    @property
    def remaining(self) -> timedelta:
        return self.target - self.spent


def clock_views(conflict: Conflict, now: datetime) -> list[ClockView]:
    """Both clocks as of `now`, for the conflict pages."""
    policy = snapshot_policy(conflict)
    triage = triage_clock(conflict, policy)
    resolution = resolution_clock(conflict)
    working_day = working_day_length(policy.calendar)
    views = []
    for name, value, due in (
        (N_("Time to triage"), triage, conflict.triage_due_at),
        (N_("Time to resolution"), resolution, clock.due_at(resolution, policy.calendar)),
    ):
        views.append(
            ClockView(
                name=name,
                target=value.target,
                spent=clock.spent_at(value, now, policy.calendar),
                due_at=due if not value.stopped else None,
                stopped_at=value.stopped_at,
                state=clock.state(value, now, policy.calendar, policy.warning_percent),
                percent=clock.percent_used(value, now, policy.calendar),
                working_day=working_day,
            )
        )
    return views


# The conflict page's reads, built once (a statement built per call costs about what a
# small one takes to run).
_PAUSES = (
    select(SlaPause).where(SlaPause.conflict_id == bindparam("conflict_id")).order_by(SlaPause.id)
)
_OPEN_ESCALATIONS = (
    select(Escalation)
    .where(Escalation.conflict_id == bindparam("conflict_id"), Escalation.closed_at.is_(None))
    .order_by(Escalation.id)
)


def pauses(conflict: Conflict) -> list[SlaPause]:
    return list(db.session.scalars(_PAUSES, {"conflict_id": conflict.id}))


def live_state(conflict: Conflict, now: datetime) -> str:
    """The state as of `now` without writing (the stored one may lag until the sweep).

    Before the conflict's `next_check_at` nothing can change by time alone (its state
    changes coincide with the escalation levels `refresh` schedules), so the stored state
    is the live one and a list page need not replay each row's business calendar.
    """
    if conflict.close_reason == "withdrawn":
        return clock.MET
    if conflict.sla_state and (conflict.next_check_at is None or now < conflict.next_check_at):
        return conflict.sla_state
    policy = snapshot_policy(conflict)
    states = [
        clock.state(triage_clock(conflict, policy), now, policy.calendar, policy.warning_percent),
        clock.state(resolution_clock(conflict), now, policy.calendar, policy.warning_percent),
    ]
    return clock.overall_state(states)


def backfill(now: datetime) -> int:
    """Start the clocks of conflicts raised before SLA clocks existed (they have no targets).

    Each is measured from its submission under the partner's agreement of today: triage
    stopped when it was triaged, resolution stopped when it was resolved or closed, paused
    from the moment it started waiting on the partner. Returns how many were set.
    """
    from tracker.models import ConflictEvent

    count = 0
    # triage_target_seconds is set with the snapshot; a JSON column's None may be JSON null.
    unset = select(Conflict).where(Conflict.triage_target_seconds.is_(None))
    for conflict in db.session.scalars(unset):
        start_clocks(conflict, conflict.created_at)
        policy = snapshot_policy(conflict)
        if conflict.triaged_at is not None or conflict.status == "closed":
            conflict.triage_stopped_at = conflict.triaged_at or conflict.closed_at
        resolution = resolution_clock(conflict)
        if conflict.status in ("resolved", "closed"):
            ended = conflict.resolved_at or conflict.closed_at or now
            resolution = clock.stop(resolution, ended, policy.calendar)
        elif conflict.status == "waiting_on_partner":
            events = db.session.scalars(
                select(ConflictEvent)
                .where(
                    ConflictEvent.conflict_id == conflict.id,
                    ConflictEvent.kind == "status_changed",
                )
                .order_by(ConflictEvent.id.desc())
            )
            since = next(
                (e.created_at for e in events if (e.data or {}).get("to") == "waiting_on_partner"),
                now,
            )
            resolution = clock.pause(resolution, since, policy.calendar)
            db.session.add(SlaPause(conflict_id=conflict.id, started_at=since, reason=""))
        _store_resolution(conflict, resolution, now)
        refresh(conflict, now)
        count += 1
    db.session.commit()
    return count
