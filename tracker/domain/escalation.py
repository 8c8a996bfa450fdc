"""Escalation levels of an SLA clock: when each is reached and who must hear of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tracker.domain import clock
from tracker.domain.calendar import BusinessCalendar
from tracker.domain.text import N_

WARNING = "warning"
BREACH = "breach"
CRITICAL = "critical"
LEVELS = (WARNING, BREACH, CRITICAL)
LEVEL_RANK = {WARNING: 1, BREACH: 2, CRITICAL: 3}
LEVEL_LABELS = {WARNING: N_("Warning"), BREACH: N_("Breach"), CRITICAL: N_("Critical")}
CLOCK_LABELS = {"triage": N_("time to triage"), "resolution": N_("time to resolution")}

# Who hears of a level. "assignee_or_owner": the assignee, or (nobody assigned, e.g. before
# triage) the partner's relationship owner. "mailing_list": the escalation address.
AUDIENCE = {
    WARNING: ("assignee_or_owner",),
    BREACH: ("assignee", "owner"),
    CRITICAL: ("assignee", "owner", "admins", "mailing_list"),
}
# What the partner's timeline says (no internal names): the partner knows we are on it.
PUBLIC_NOTICE = {
    BREACH: N_("escalated within the alliance team"),
    CRITICAL: N_("escalated to senior management"),
}


@dataclass(frozen=True)
class LevelMoment:
    level: str
    at: datetime


def threshold_percent(level: str, policy: clock.Policy) -> float:
    return {
        WARNING: policy.warning_percent,
        BREACH: 100,
        CRITICAL: policy.critical_percent,
    }[level]


def level_moments(
    value: clock.Clock, policy: clock.Policy, calendar: BusinessCalendar
) -> list[LevelMoment]:
    """When each level is reached if the clock keeps running (empty unless running)."""
    moments = []
    for level in LEVELS:
        at = clock.threshold_at(value, threshold_percent(level, policy), calendar)
        if at is not None:
            moments.append(LevelMoment(level, at))
    return moments


def levels_reached(
    value: clock.Clock, now: datetime, policy: clock.Policy, calendar: BusinessCalendar
) -> list[str]:
    """Levels a running clock has reached by `now`, lowest first."""
    return [m.level for m in level_moments(value, policy, calendar) if m.at <= now]


def highest(levels: list[str]) -> str | None:
    return max(levels, key=LEVEL_RANK.__getitem__) if levels else None
