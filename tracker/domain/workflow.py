"""The conflict lifecycle: states, actions, who may take them and what each one needs.

One table (`TRANSITIONS`) is the whole state machine; `plan()` checks a request against
it and either returns the transition or raises WorkflowError with a message a person
can act on. Nothing here touches the database: services apply what `plan()` allows.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from tracker.domain.text import N_

OPEN = "open"
TRIAGED = "triaged"
WAITING_ON_PARTNER = "waiting_on_partner"
RESOLVED = "resolved"
CLOSED = "closed"
STATES = (OPEN, TRIAGED, WAITING_ON_PARTNER, RESOLVED, CLOSED)
ACTIVE_STATES = (OPEN, TRIAGED, WAITING_ON_PARTNER, RESOLVED)

STATE_LABELS = {
    OPEN: N_("Open"),
    TRIAGED: N_("Triaged"),
    WAITING_ON_PARTNER: N_("Waiting on partner"),
    RESOLVED: N_("Resolved"),
    CLOSED: N_("Closed"),
}

# What partners read: their own words, never the queue's ("Waiting on partner").
PARTNER_STATE_LABELS = {
    OPEN: N_("Received"),
    TRIAGED: N_("In progress"),
    WAITING_ON_PARTNER: N_("Waiting for your answer"),
    RESOLVED: N_("Resolved: your answer needed"),
    CLOSED: N_("Closed"),
}
# What happens next, one sentence per state, for the partner's page and messages.
PARTNER_NEXT_STEPS = {
    OPEN: N_("Your alliance team will look at it and set its priority."),
    TRIAGED: N_("Your alliance team is working on it."),
    WAITING_ON_PARTNER: N_("Please answer the question; your answer restarts the work."),
    RESOLVED: N_("Accept the resolution if it settles the matter, or dispute it with a reason."),
    CLOSED: N_("It is closed; nothing more is needed from you."),
}


def state_label(status: str, *, staff: bool) -> str:
    """The state's name for this reader: staff see the queue's words, partners their own."""
    labels = STATE_LABELS if staff else PARTNER_STATE_LABELS
    return labels.get(status, status)


MANAGER = "manager"  # alliance managers and admins act as managers here
PARTNER = "partner"
SYSTEM = "system"  # the scheduler

CATEGORIES = {
    "payment_terms": N_("Payment terms"),
    "delivery": N_("Delivery"),
    "communication": N_("Communication"),
    "contract": N_("Contract"),
    "quality": N_("Quality"),
    "customer_handover": N_("Customer handover"),
    "other": N_("Other"),
}
SEVERITIES = {
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
    "critical": N_("Critical"),
}
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
ROOT_CAUSES = {
    "process_gap": N_("Process gap"),
    "miscommunication": N_("Miscommunication"),
    "system_error": N_("System error"),
    "capacity": N_("Capacity or staffing"),
    "contract_ambiguity": N_("Ambiguous contract terms"),
    "third_party_failure": N_("Third-party failure"),
    "data_quality": N_("Data quality"),
    "other": N_("Other"),
}
ACCOUNTABLE_SIDES = {
    "us": N_("Us (the alliance team)"),
    "partner": N_("The partner"),
    "shared": N_("Shared"),
    "third_party": N_("A third party"),
}
WITHDRAW_REASONS = {
    "raised_in_error": N_("Raised in error"),
    "settled_elsewhere": N_("Settled elsewhere"),
}

PARTNER_REOPEN_WINDOW = timedelta(days=30)
AUTO_CLOSE_AFTER = timedelta(days=7)
MAX_TEXT = 20_000


class WorkflowError(ValueError):
    """An action that is not allowed now; the message says why and what would work."""

    def __init__(self, message: str, field_errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = dict(field_errors or {})


# What a transition does to the resolution clock (services/sla.py keeps one function each).
RETARGET, PAUSE, RESUME, STOP, RESTART = "retarget", "pause", "resume", "stop", "restart"


@dataclass(frozen=True)
class Transition:
    """One row of the state machine, with everything the action changes declared here.

    `clock`: what the resolution clock does; `stops_triage`: the time to triage ends;
    `evidence`: the trust ledger's entry for it (services/trust.py weighs each kind);
    `closes_as`: the close reason it records; `body_field`: the field its timeline entry
    shows as text.
    """

    action: str
    label: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    required: tuple[str, ...] = ()
    counts_as_reopen: bool = False
    clock: str | None = None
    stops_triage: bool = False
    evidence: str | None = None
    closes_as: str | None = None
    body_field: str | None = None


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("triage", N_("Triage"), (OPEN,), TRIAGED, (MANAGER,), ("severity", "category", "assignee_id"),
                   clock=RETARGET, stops_triage=True),
        Transition("wait_on_partner", N_("Ask the partner"), (TRIAGED,), WAITING_ON_PARTNER, (MANAGER,), ("message",),
                   clock=PAUSE, body_field="message"),
        Transition("resume", N_("Resume work"), (WAITING_ON_PARTNER,), TRIAGED, (MANAGER, SYSTEM),
                   clock=RESUME, evidence="partner_answered"),
        Transition("resolve", N_("Resolve"), (TRIAGED,), RESOLVED, (MANAGER,), ("summary", "root_cause", "accountable_side"),
                   clock=STOP, evidence="resolved", body_field="summary"),
        Transition("accept", N_("Accept the resolution"), (RESOLVED,), CLOSED, (PARTNER,),
                   evidence="accepted", closes_as="accepted"),
        Transition("dispute", N_("Dispute the resolution"), (RESOLVED,), TRIAGED, (PARTNER,), ("reason",), True,
                   clock=RESTART, evidence="disputed", body_field="reason"),
        Transition("reopen", N_("Reopen"), (CLOSED,), TRIAGED, (PARTNER, MANAGER), ("reason",), True,
                   clock=RESTART, evidence="reopened", body_field="reason"),
        Transition("withdraw", N_("Withdraw"), (OPEN, TRIAGED), CLOSED, (PARTNER,), ("reason",),
                   clock=STOP, stops_triage=True, closes_as="withdrawn"),
        Transition("auto_close", N_("Close without answer"), (RESOLVED,), CLOSED, (SYSTEM,),
                   evidence="auto_accepted", closes_as="auto_accepted"),
    )
}  # fmt: skip

ACTIONS = tuple(TRANSITIONS)

_FIELD_LABELS = {
    "severity": "a severity",
    "category": "a category",
    "assignee_id": "an assignee",
    "message": "a message saying what you need from the partner",
    "summary": "a resolution summary",
    "root_cause": "a root cause",
    "accountable_side": "the accountable side",
    "reason": "a reason",
}

_CHOICES: dict[str, Mapping[str, str]] = {
    "severity": SEVERITIES,
    "category": CATEGORIES,
    "root_cause": ROOT_CAUSES,
    "accountable_side": ACCOUNTABLE_SIDES,
}


def actor_kind(role: str) -> str:
    """Map an account role onto the workflow's actors (admins act as managers)."""
    return PARTNER if role == PARTNER else MANAGER if role in ("manager", "admin") else SYSTEM


def _check_fields(transition: Transition, fields: Mapping[str, object]) -> dict[str, object]:
    errors: dict[str, str] = {}
    clean: dict[str, object] = {}
    for name in transition.required:
        value = fields.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            errors[name] = f"Please give {_FIELD_LABELS[name]}."
            continue
        if name in _CHOICES and value not in _CHOICES[name]:
            errors[name] = f"Choose one of: {', '.join(_CHOICES[name].values())}."
            continue
        if name == "reason" and transition.action == "withdraw" and value not in WITHDRAW_REASONS:
            errors[name] = f"Choose one of: {', '.join(WITHDRAW_REASONS.values())}."
            continue
        if isinstance(value, str) and len(value) > MAX_TEXT:
            errors[name] = f"At most {MAX_TEXT} characters."
            continue
        clean[name] = value
    if errors:
        raise WorkflowError(N_("Some required information is missing or not valid."), errors)
    return clean


def plan(
    state: str,
    action: str,
    role: str,
    *,
    now: datetime,
    fields: Mapping[str, object] | None = None,
    closed_at: datetime | None = None,
    resolved_at: datetime | None = None,
    withdrawn: bool = False,
) -> tuple[Transition, dict[str, object]]:
    """Check `action` by `role` from `state`; return the transition and its cleaned fields."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise WorkflowError(f"Unknown action {action!r}.")
    actor = actor_kind(role) if role not in (MANAGER, PARTNER, SYSTEM) else role
    if actor not in transition.roles:
        who = " or ".join(
            {"manager": "an alliance manager", "partner": "the partner", "system": "the scheduler"}[
                r
            ]
            for r in transition.roles
        )
        raise WorkflowError(f"Only {who} can {transition.label.lower()} a conflict.")
    if state not in transition.sources:
        allowed = ", ".join(STATE_LABELS[s].lower() for s in transition.sources)
        raise WorkflowError(
            f"A conflict that is {STATE_LABELS.get(state, state).lower()} cannot be "
            f"{_past(action)}; this is possible only when it is {allowed}."
        )
    if action == "reopen" and withdrawn:
        raise WorkflowError(
            "A withdrawn conflict cannot be reopened. If the matter is back, raise a new "
            "conflict and mention this one."
        )
    if action == "reopen" and actor == PARTNER and not _within_reopen_window(closed_at, now):
        raise WorkflowError(
            "This conflict was closed more than 30 days ago. Please raise a new conflict "
            "and mention this one; your alliance manager can still reopen it."
        )
    if action == "auto_close" and not auto_close_due(state, resolved_at, now):
        raise WorkflowError(
            N_("A resolution is closed automatically only after 7 days without answer.")
        )
    return transition, _check_fields(transition, fields or {})


@dataclass(frozen=True)
class ConflictFacts:
    """What `changes()` needs to know of a conflict (no ORM object in the domain)."""

    status: str
    severity: str
    category: str
    reopen_count: int = 0
    triaged_at: datetime | None = None


def changes(
    transition: Transition, clean: Mapping[str, object], facts: ConflictFacts, now: datetime
) -> dict[str, object]:
    """The conflict's fields after `transition` with its cleaned fields: a plain dict the
    service writes as it is. Severity and category changes of a triage are included."""
    result: dict[str, object] = {"status": transition.target}
    if transition.action == "triage":
        result.update(
            severity=clean["severity"],
            category=clean["category"],
            assignee_id=int(str(clean["assignee_id"])),
            triaged_at=facts.triaged_at or now,
        )
    if transition.action == "resolve":
        result.update(
            resolution_summary=str(clean["summary"]),
            root_cause=str(clean["root_cause"]),
            accountable_side=str(clean["accountable_side"]),
            resolved_at=now,
        )
    if transition.counts_as_reopen:
        result.update(reopen_count=facts.reopen_count + 1, closed_at=None, close_reason=None)
    if transition.closes_as:
        result.update(closed_at=now, close_reason=transition.closes_as)
    return result


def timeline_entry(
    transition: Transition, clean: Mapping[str, object], before: ConflictFacts
) -> tuple[str | None, dict[str, object]]:
    """The text and data the timeline keeps of a transition (from, to, what changed)."""
    body = str(clean[transition.body_field]) if transition.body_field else None
    data: dict[str, object] = {
        "from": before.status,
        "to": transition.target,
        "action": transition.action,
    }
    if transition.action == "triage":
        for name in ("severity", "category"):
            if getattr(before, name) != clean[name]:
                data[name] = {"before": getattr(before, name), "after": clean[name]}
        data["severity_now"] = clean["severity"]
    if transition.action == "resolve":
        data.update(root_cause=clean["root_cause"], accountable_side=clean["accountable_side"])
    if transition.action == "withdraw":
        data["reason"] = clean["reason"]
    return body, data


def auto_close_due(state: str, resolved_at: datetime | None, now: datetime) -> bool:
    """A resolution left unanswered for AUTO_CLOSE_AFTER is closed by the scheduler."""
    return state == RESOLVED and resolved_at is not None and now - resolved_at >= AUTO_CLOSE_AFTER


def _within_reopen_window(closed_at: datetime | None, now: datetime) -> bool:
    return closed_at is not None and now - closed_at <= PARTNER_REOPEN_WINDOW


def _past(action: str) -> str:
    return {
        "triage": "triaged",
        "wait_on_partner": "put on hold for the partner",
        "resume": "resumed",
        "resolve": "resolved",
        "accept": "accepted",
        "dispute": "disputed",
        "reopen": "reopened",
        "withdraw": "withdrawn",
        "auto_close": "closed automatically",
    }[action]


def available_actions(
    state: str,
    role: str,
    *,
    now: datetime,
    closed_at: datetime | None = None,
    withdrawn: bool = False,
) -> list[Transition]:
    """The actions `role` could take now (fields aside): what the page offers."""
    actor = actor_kind(role) if role not in (MANAGER, PARTNER, SYSTEM) else role
    result = []
    for transition in TRANSITIONS.values():
        if actor not in transition.roles or state not in transition.sources or actor == SYSTEM:
            continue
        if transition.action == "reopen" and withdrawn:
            continue
        reopen_too_late = transition.action == "reopen" and actor == PARTNER
        if reopen_too_late and not _within_reopen_window(closed_at, now):
            continue
        result.append(transition)
    return result


def one_line(text: str) -> str:
    """Text for a single line (a title, a mail subject): no line breaks or control characters.

    Pasted titles carry CR/LF, U+2028 or tabs; in a mail header they would be refused as
    header injection and the notice lost, so they become single spaces here.
    """
    text = text or ""
    if text.isprintable():  # the usual case: no C* or Z* character but the plain space
        return " ".join(text.split())
    kept = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(kept.split())


def reference(year: int, number: int) -> str:
    """The readable reference partners quote: TR-2026-00042."""
    return f"TR-{year}-{number:05d}"
