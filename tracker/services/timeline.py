"""The conflict's timeline: the append-only record of what happened, and its consumers.

`record()` is the only writer of ConflictEvent rows. Use cases record their own entries
(a comment with its attachments); the consumers below record what the bus carries (a
transition, escalations). Each entry is announced as TimelineRecorded, which is what the
people following the conflict hear of.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from tracker.database import transaction_memo
from tracker.domain import escalation as esc
from tracker.domain.events import EscalationsFired, StateChanged, TimelineRecorded
from tracker.extensions import db
from tracker.models import Conflict, ConflictEvent
from tracker.models.conflict import INTERNAL, PUBLIC
from tracker.services import audit_chain, messagebus, search_index


def record(
    conflict: Conflict,
    actor_id: int | None,
    kind: str,
    now: datetime,
    *,
    visibility: str = PUBLIC,
    body: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> ConflictEvent:
    """Append an entry (flushed, so it has its id) and move the conflict's change times.

    The entry is linked into the conflict's chain (`audit_chain`): the caller holds the
    conflict's row lock, as every writer of its timeline does."""
    values = {
        "created_at": now,
        "actor_id": actor_id,
        "kind": kind,
        "visibility": visibility,
        "body": body,
        "data": dict(data) if data else None,
    }
    event = ConflictEvent(
        conflict=conflict, **values, **audit_chain.link_conflict_event(conflict, **values)
    )
    db.session.add(event)
    conflict.updated_at = now
    if visibility == PUBLIC:
        conflict.public_updated_at = now
    db.session.flush()
    search_index.index_entry(event)
    return event


def announced(event: ConflictEvent) -> TimelineRecorded:
    """The news of an entry; the entry stays at hand for its consumers in this transaction
    (the session holds rows weakly: without this each consumer would read it again)."""
    _announced()[event.id] = event
    return TimelineRecorded(conflict_id=event.conflict_id, event_id=event.id)


def entry(event_id: int) -> ConflictEvent:
    """A timeline entry by id: the one just announced, else from the database."""
    held = _announced().get(event_id)
    return held if held is not None else db.session.get(ConflictEvent, event_id)


def _announced() -> dict[int, ConflictEvent]:
    return transaction_memo(db.session, ("timeline_announced",), dict)


def on_state_changed(event: StateChanged, now: datetime) -> list[TimelineRecorded]:
    conflict = db.session.get(Conflict, event.conflict_id)
    data = dict(event.data)
    if event.automatic:
        data["automatic"] = True
    entry = record(
        conflict,
        None if event.automatic else event.actor_id,
        "status_changed",
        now,
        body=event.body,
        data=data,
    )
    return [announced(entry)]


@messagebus.batched
def on_escalations_fired(events: list[EscalationsFired], now: datetime) -> list[TimelineRecorded]:
    """Every level is on the internal record; the partner reads one line, the highest.

    The entries of a whole run of events (a sweep's batch) go in as two INSERTs: the
    internal lines, which nobody is told of, without reading them back; then the public
    ones, returned as entries to announce. Each conflict's links are made in that order
    too, so its chain and its ids agree."""
    internal: list[dict[str, Any]] = []
    public: list[dict[str, Any]] = []
    found = [(event, db.session.get(Conflict, event.conflict_id)) for event in events]
    for event, conflict in found:
        internal.extend(
            _row(
                conflict,
                "escalated_internal",
                now,
                INTERNAL,
                {
                    "clock": event.clock,
                    "level": passed.level,
                    "escalation_id": passed.escalation_id,
                    "reached_at": passed.reached_at.isoformat(),
                },
            )
            for passed in event.passed
        )
    for event, conflict in found:
        told = [p for p in event.passed if p.level in esc.PUBLIC_NOTICE]
        if told:
            data = {"level": told[-1].level, "clock": event.clock}
            public.append(_row(conflict, "escalated", now, PUBLIC, data))
    if internal:
        db.session.execute(
            insert(ConflictEvent), internal, execution_options={"render_nulls": True}
        )
    # RETURNING without sort_by_parameter_order, which SQLite would pay for with a
    # statement per row; the ids give the order back.
    entries = (
        sorted(
            db.session.scalars(
                insert(ConflictEvent).returning(ConflictEvent),
                public,
                execution_options={"render_nulls": True},
            ).all(),
            key=lambda e: e.id,
        )
        if public
        else []
    )
    # After the INSERTs, so the conflicts' change times join their one UPDATE at the end.
    with_public_line = {row["conflict_id"] for row in public}
    for _event, conflict in found:
        conflict.updated_at = now
        if conflict.id in with_public_line:
            conflict.public_updated_at = now
    return [announced(e) for e in entries]


def _row(
    conflict: Conflict, kind: str, now: datetime, visibility: str, data: dict[str, Any]
) -> dict[str, Any]:
    values = {
        "actor_id": None,
        "created_at": now,
        "kind": kind,
        "visibility": visibility,
        "body": None,
        "data": data,
    }
    # Linked in the order of the rows; the head moves on the conflict row (no extra read).
    return {
        "conflict_id": conflict.id,
        **values,
        **audit_chain.link_conflict_event(conflict, **values),
    }
