"""The two SLA clocks of a conflict (time to triage, time to resolution) under a policy.

A clock is plain data: the business time already spent, when its current running period
began (None while paused or stopped), and its target. Every function takes `now`; the
calendar decides which instants count. Services store the numbers in columns; this module
decides what they mean (due time, state, the next instant the state can change).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from tracker.domain.calendar import BusinessCalendar, add_business_time, business_time_between
from tracker.domain.text import N_

ON_TRACK = "on_track"
AT_RISK = "at_risk"
BREACHED = "breached"
MET = "met"
PAUSED = "paused"
SLA_STATES = (ON_TRACK, AT_RISK, BREACHED, MET, PAUSED)
SLA_STATE_LABELS = {
    ON_TRACK: N_("On track"),
    AT_RISK: N_("At risk"),
    BREACHED: N_("Breached"),
    MET: N_("Met"),
    PAUSED: N_("Paused"),
}
_SEVERITY_ORDER = ("critical", "high", "medium", "low")
_STATE_RANK = {BREACHED: 0, AT_RISK: 1, ON_TRACK: 2, PAUSED: 3, MET: 4}

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Targets:
    triage: timedelta
    resolution: timedelta


DEFAULT_TARGETS: Mapping[str, Targets] = {
    "critical": Targets(timedelta(hours=1), timedelta(hours=8)),
    "high": Targets(timedelta(hours=4), timedelta(hours=24)),
    "medium": Targets(timedelta(hours=8), timedelta(hours=72)),
    "low": Targets(timedelta(hours=24), timedelta(hours=120)),
}
DEFAULT_WARNING_PERCENT = 75
DEFAULT_CRITICAL_PERCENT = 150
DEFAULT_REMINDER_INTERVAL = timedelta(hours=4)
DEFAULT_RESPONSE_EXPECTATION = timedelta(hours=16)  # two business days of 8 hours


class PolicyError(ValueError):
    """A policy that cannot work; the message says which value to fix."""

    def __init__(self, message: str, field_errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = dict(field_errors or {})


@dataclass(frozen=True)
class Policy:
    """What a conflict is measured against: a snapshot of the partner agreement."""

    calendar: BusinessCalendar
    targets: Mapping[str, Targets] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    warning_percent: int = DEFAULT_WARNING_PERCENT
    critical_percent: int = DEFAULT_CRITICAL_PERCENT
    reminder_interval: timedelta = DEFAULT_REMINDER_INTERVAL
    response_expectation: timedelta = DEFAULT_RESPONSE_EXPECTATION
    name: str = "Default agreement"

    def next_reminder(self, now: datetime) -> datetime:
        """When an unacknowledged level reminds next: one interval of business time on."""
        return add_business_time(now, self.reminder_interval, self.calendar)

    def validate(self) -> None:
        errors: dict[str, str] = {}
        for severity in _SEVERITY_ORDER:
            target = self.targets.get(severity)
            if target is None:
                errors[f"{severity}_triage"] = "A target is required for every severity."
                continue
            if target.triage <= timedelta(0):
                errors[f"{severity}_triage"] = "Must be more than zero."
            if target.resolution <= timedelta(0):
                errors[f"{severity}_resolution"] = "Must be more than zero."
            if target.triage > target.resolution:
                errors[f"{severity}_triage"] = "Triage cannot take longer than resolution."
        if not 1 <= self.warning_percent <= 99:
            errors["warning_percent"] = N_("Between 1 and 99 percent of the target.")
        if not 100 < self.critical_percent <= 1000:
            errors["critical_percent"] = N_("Between 101 and 1000 percent of the target.")
        if self.reminder_interval < timedelta(minutes=15):
            errors["reminder_interval"] = N_("At least 15 minutes.")
        if self.response_expectation <= timedelta(0):
            errors["response_expectation"] = N_("Must be more than zero.")
        try:
            self.calendar.validate()
        except ValueError as exc:
            errors["calendar"] = str(exc)
        if errors:
            raise PolicyError(N_("The agreement has values that cannot work."), errors)

    def targets_for(self, severity: str) -> Targets:
        return self.targets.get(severity) or DEFAULT_TARGETS[severity]

    def to_json(self) -> dict[str, Any]:
        """A plain dict to store with each conflict (the snapshot it started under)."""
        return {
            "name": self.name,
            "calendar": calendar_to_json(self.calendar),
            "targets": {
                s: {
                    "triage_minutes": _minutes(t.triage),
                    "resolution_minutes": _minutes(t.resolution),
                }
                for s, t in self.targets.items()
            },
            "warning_percent": self.warning_percent,
            "critical_percent": self.critical_percent,
            "reminder_minutes": _minutes(self.reminder_interval),
            "response_expectation_minutes": _minutes(self.response_expectation),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Policy:
        return cls(
            name=data.get("name", "Agreement"),
            calendar=calendar_from_json(data["calendar"]),
            targets={
                s: Targets(
                    timedelta(minutes=t["triage_minutes"]),
                    timedelta(minutes=t["resolution_minutes"]),
                )
                for s, t in data["targets"].items()
            },
            warning_percent=int(data.get("warning_percent", DEFAULT_WARNING_PERCENT)),
            critical_percent=int(data.get("critical_percent", DEFAULT_CRITICAL_PERCENT)),
            reminder_interval=timedelta(
                minutes=data.get("reminder_minutes", _minutes(DEFAULT_REMINDER_INTERVAL))
            ),
            response_expectation=timedelta(
                minutes=data.get(
                    "response_expectation_minutes", _minutes(DEFAULT_RESPONSE_EXPECTATION)
                )
            ),
        )


def _minutes(value: timedelta) -> int:
    return int(value.total_seconds() // 60)


def calendar_to_json(calendar: BusinessCalendar) -> dict[str, Any]:
    """The agreement's calendar as JSON: timezone, weekly hours, holidays, country, 24x7."""
    return {
        "timezone": calendar.timezone,
        "always_open": calendar.always_open,
        "hours": {
            key: [[start.strftime("%H:%M"), end.strftime("%H:%M")] for start, end in day]
            for key, day in zip(WEEKDAY_KEYS, calendar.weekly_hours, strict=True)
        },
        "holidays": sorted(d.isoformat() for d in calendar.holidays),
        "holiday_country": calendar.holiday_country,
    }


def calendar_from_json(data: Mapping[str, Any]) -> BusinessCalendar:
    hours = data.get("hours") or {}
    weekly = tuple(
        tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in hours.get(key, []))
        for key in WEEKDAY_KEYS
    )
    return BusinessCalendar(
        timezone=data["timezone"],
        weekly_hours=weekly,
        holidays=frozenset(date.fromisoformat(d) for d in data.get("holidays", [])),
        holiday_country=data.get("holiday_country"),
        always_open=bool(data.get("always_open", False)),
    )


@dataclass(frozen=True)
class Clock:
    """One SLA clock. `running_since` is None while paused or once stopped."""

    target: timedelta
    spent: timedelta = timedelta(0)
    running_since: datetime | None = None
    stopped_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.running_since is not None

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None


def start(target: timedelta, now: datetime) -> Clock:
    return Clock(target=target, running_since=now)


def spent_at(clock: Clock, now: datetime, calendar: BusinessCalendar) -> timedelta:
    """Business time used so far, including the running period up to `now`."""
    if clock.running_since is None:
        return clock.spent
    return clock.spent + business_time_between(clock.running_since, now, calendar)


def pause(clock: Clock, now: datetime, calendar: BusinessCalendar) -> Clock:
    """Bank the running period; the clock no longer counts."""
    if clock.running_since is None:
        return clock
    return replace(clock, spent=spent_at(clock, now, calendar), running_since=None)


def resume(clock: Clock, now: datetime) -> Clock:
    if clock.running_since is not None or clock.stopped:
        return clock
    return replace(clock, running_since=now)


def stop(clock: Clock, now: datetime, calendar: BusinessCalendar) -> Clock:
    """Bank the running period and record when the clock ended."""
    return replace(pause(clock, now, calendar), stopped_at=now)


def restart(clock: Clock, now: datetime) -> Clock:
    """A reopen or dispute: run again from the remaining budget (spent time still counts)."""
    return replace(clock, running_since=now, stopped_at=None)


def retarget(clock: Clock, target: timedelta) -> Clock:
    return replace(clock, target=target)


def due_at(clock: Clock, calendar: BusinessCalendar) -> datetime | None:
    """When the target is reached if the clock keeps running; None unless running."""
    if clock.running_since is None:
        return None
    remaining = clock.target - clock.spent
    if remaining <= timedelta(0):
        return clock.running_since
    return add_business_time(clock.running_since, remaining, calendar)


def threshold_at(clock: Clock, percent: float, calendar: BusinessCalendar) -> datetime | None:
    """When `percent` of the target is used, if the clock keeps running."""
    if clock.running_since is None:
        return None
    budget = clock.target * (percent / 100) - clock.spent
    if budget <= timedelta(0):
        return clock.running_since
    return add_business_time(clock.running_since, budget, calendar)


def state(clock: Clock, now: datetime, calendar: BusinessCalendar, warning_percent: int) -> str:
    """on_track, at_risk (past the warning threshold), breached, met or paused."""
    used = spent_at(clock, now, calendar)
    if clock.stopped:
        return MET if used <= clock.target else BREACHED
    if used >= clock.target and (clock.running or used > clock.target):
        return BREACHED
    if clock.running_since is None:
        return PAUSED
    if used >= clock.target * (warning_percent / 100):
        return AT_RISK
    return ON_TRACK


def next_change(
    clock: Clock, now: datetime, calendar: BusinessCalendar, warning_percent: int
) -> datetime | None:
    """The next instant this clock's state can change by time alone (None: never)."""
    if clock.running_since is None:
        return None
    for moment in (
        threshold_at(clock, warning_percent, calendar),
        due_at(clock, calendar),
    ):
        if moment is not None and moment > now:
            return moment
    return None


def overall_state(states: list[str]) -> str:
    """The conflict's one SLA state: the most urgent of its clocks."""
    if not states:
        return ON_TRACK
    return min(states, key=lambda s: _STATE_RANK[s])


def percent_used(clock: Clock, now: datetime, calendar: BusinessCalendar) -> float:
    if clock.target <= timedelta(0):
        return 100.0
    return 100 * spent_at(clock, now, calendar) / clock.target


WORKING_DAYS = ("{n} working day", "{n} working days")
WORKING_HOURS = ("{n} working hour", "{n} working hours")
WORKING_MINUTES = ("{n} working minute", "{n} working minutes")


def format_working_time(value: timedelta, day_length: timedelta) -> str:
    """A business duration as partners read it: whole working days when it is some,
    else working hours (or minutes); never "3d 4h" of business time."""
    seconds = int(abs(value).total_seconds())
    day = int(day_length.total_seconds()) or 86_400
    if seconds >= day and seconds % day == 0:
        n, forms = seconds // day, WORKING_DAYS
    elif seconds >= 3600 and seconds % 3600 == 0:
        n, forms = seconds // 3600, WORKING_HOURS
    elif seconds >= 3600:
        n, forms = round(seconds / 3600), WORKING_HOURS
    else:
        n, forms = seconds // 60, WORKING_MINUTES
    return (forms[0] if n == 1 else forms[1]).format(n=n)


def format_duration(value: timedelta) -> str:
    """Compact business durations for people: 1h, 3d 4h (8h days are not assumed)."""
    minutes = int(abs(value).total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    if hours and mins:
        return f"{hours}h {mins}m"
    if hours:
        return f"{hours}h"
    return f"{mins}m"
