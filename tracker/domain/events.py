"""What happened: plain values that use cases return and `messagebus.publish` hands on.

A use case changes the state it owns and says what happened; every side effect (the SLA
clocks, the trust ledger, the timeline, in-app notices, e-mail, webhooks) is a consumer
that declares which of these it handles (`services/handlers.py`). A new side effect is a
new consumer, never another call wired into a use case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Event:
    """Base of every domain event."""


@dataclass(frozen=True)
class ConflictSubmitted(Event):
    conflict_id: int
    actor_id: int


@dataclass(frozen=True)
class StateChanged(Event):
    """A workflow transition was applied to the conflict (its fields already changed).

    `automatic`: the system took it on someone's behalf (a partner's reply resumes a
    conflict that waited on them; the scheduler closes a resolution left unanswered).
    """

    conflict_id: int
    action: str
    from_state: str
    to_state: str
    actor_id: int | None
    body: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    automatic: bool = False


@dataclass(frozen=True)
class ConflictNoted(Event):
    """An entry for the timeline that is not a transition: a comment, a reply, an internal
    note, an assignment, a corrected field, a link, an escalation notice."""

    conflict_id: int
    actor_id: int | None
    kind: str
    visibility: str
    body: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TimelineRecorded(Event):
    """A ConflictEvent row exists now: the people following the conflict may hear of it."""

    conflict_id: int
    event_id: int


@dataclass(frozen=True)
class PartnerContact(Event):
    """Someone spoke with the partner (a conflict raised, a public comment, a check-in)."""

    partner_id: int


@dataclass(frozen=True)
class SeverityChanged(Event):
    conflict_id: int


@dataclass(frozen=True)
class LevelPassed:
    """One escalation level of a clock, and when the clock reached it."""

    level: str
    reached_at: datetime
    escalation_id: int


@dataclass(frozen=True)
class EscalationsFired(Event):
    """One evaluation found levels of one clock newly reached: every level is recorded,
    and people hear once, of the highest (`passed` is lowest first)."""

    conflict_id: int
    clock: str
    cycle: int
    passed: tuple[LevelPassed, ...]

    @property
    def highest(self) -> LevelPassed:
        return self.passed[-1]


@dataclass(frozen=True)
class ReminderDue(Event):
    escalation_id: int
    sequence: int


@dataclass(frozen=True)
class AdminChanged(Event):
    """An admin or manager changed how the alliance is run: a partner, a user or role, an
    agreement or calendar, a token, a webhook, a re-apply, an outbox retry. `actor_id` None:
    the command line. `before`/`after`: JSON-ready values (never a secret or a hash)."""

    actor_id: int | None
    kind: str
    subject: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
