"""The message bus: consumers run in table order per event, batched ones once per run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tracker.domain.events import Event
from tracker.services import handlers, messagebus

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Rang(Event):
    number: int


@dataclass(frozen=True)
class Echoed(Event):
    number: int


@pytest.fixture
def calls(app):  # type: ignore[no-untyped-def]
    """A table of test consumers for the test, the real one back afterwards."""
    seen: list[tuple[str, object]] = []

    def first(event: Rang, now: datetime) -> list[Event]:
        seen.append(("first", event.number))
        return [Echoed(event.number)]

    @messagebus.batched
    def together(events: list[Rang], now: datetime) -> None:
        seen.append(("together", tuple(e.number for e in events)))

    def last(event: Rang, now: datetime) -> None:
        seen.append(("last", event.number))

    def echoed(event: Echoed, now: datetime) -> None:
        seen.append(("echoed", event.number))

    with app.app_context():
        messagebus.configure({Rang: (first, together, last), Echoed: (echoed,)})
        try:
            yield seen
        finally:
            handlers.register()


def test_a_run_of_one_type_reaches_each_consumer_in_table_order(calls) -> None:
    messagebus.publish([Rang(1), Rang(2)], NOW)
    assert calls == [
        ("first", 1),
        ("first", 2),
        ("together", (1, 2)),
        ("last", 1),
        ("last", 2),
        ("echoed", 1),  # what consumers return comes after, breadth first
        ("echoed", 2),
    ]


def test_events_of_another_type_break_the_run_so_order_is_kept(calls) -> None:
    messagebus.publish([Rang(1), Echoed(9), Rang(2)], NOW)
    assert [c for c in calls if c[0] in ("together", "echoed")] == [
        ("together", (1,)),
        ("echoed", 9),
        ("together", (2,)),
        ("echoed", 1),
        ("echoed", 2),
    ]


def test_an_event_without_consumers_is_a_wiring_mistake(calls) -> None:
    @dataclass(frozen=True)
    class Unheard(Event):
        pass

    with pytest.raises(LookupError, match="Unheard"):
        messagebus.publish([Unheard()], NOW)
