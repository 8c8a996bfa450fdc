"""The one path of what happened: `publish()` hands each event to the consumers declared
for its type, in the caller's transaction, and then to those of the events they return.

The table is filled once at start-up (`services/handlers.py`, called by `create_app`), so
that this module imports no consumer and no consumer imports another.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from tracker.database import flush_deferred
from tracker.domain.events import Event
from tracker.extensions import db

Handler = Callable[[Any, datetime], Iterable[Event] | None]
HandlerTable = Mapping[type[Event], Sequence[Handler]]
_handlers: dict[type[Event], tuple[Handler, ...]] = {}
_BATCHED = "_takes_batch"


def batched(handler: Callable[[list[Any], datetime], Iterable[Event] | None]) -> Handler:
    """Mark a consumer that takes every event of a run of one type at once (a sweep's batch
    publishes many), so it can write them in one statement instead of one per event."""
    setattr(handler, _BATCHED, True)
    return handler


def configure(table: HandlerTable) -> None:
    """Install the consumers of each event type (in the order they must run)."""
    _handlers.clear()
    _handlers.update({kind: tuple(handlers) for kind, handlers in table.items()})


def publish(events: Iterable[Event], now: datetime) -> None:
    """Run every consumer of each event, breadth first; what a consumer returns is
    published in turn. An event without consumers is a wiring mistake, not a no-op.

    Consecutive events of one type travel together: each consumer runs in table order for
    the whole run (a `batched` one once, with the list), so the order of consumers per
    event is the table's and the order of events per consumer is the publisher's.
    """
    queue = deque(events)
    while queue:
        run = [queue.popleft()]
        while queue and type(queue[0]) is type(run[0]):
            run.append(queue.popleft())
        handlers = _handlers.get(type(run[0]))
        if handlers is None:
            raise LookupError(f"no consumer is declared for {type(run[0]).__name__}")
        for handler in handlers:
            if getattr(handler, _BATCHED, False):
                queue.extend(handler(run, now) or ())
            else:
                for event in run:
                    queue.extend(handler(event, now) or ())
    flush_deferred(db.session)  # the notices and outbox rows of all of it, a statement each
