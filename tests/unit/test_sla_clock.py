"""SLA clocks as plain data: states at each threshold, pauses, restarts, policy snapshots."""

from datetime import UTC, datetime, timedelta

import pytest

from tracker.domain import clock
from tracker.domain.calendar import BusinessCalendar

H = timedelta(hours=1)
UTC_24X7 = BusinessCalendar.twenty_four_seven("UTC")
OFFICE = BusinessCalendar.office_hours("Europe/Berlin")
MONDAY_9_UTC = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (timedelta(0), clock.ON_TRACK),
        (2.99 * H, clock.ON_TRACK),
        (3 * H, clock.AT_RISK),  # 75 % of 4h
        (3.99 * H, clock.AT_RISK),
        (4 * H, clock.BREACHED),
        (9 * H, clock.BREACHED),
    ],
)
def test_state_at_each_threshold(elapsed: timedelta, expected: str) -> None:
    running = clock.start(4 * H, MONDAY_9_UTC)
    assert clock.state(running, MONDAY_9_UTC + elapsed, UTC_24X7, 75) == expected


def test_stopped_clock_is_met_or_breached_for_good() -> None:
    running = clock.start(4 * H, MONDAY_9_UTC)
    met = clock.stop(running, MONDAY_9_UTC + 3 * H, UTC_24X7)
    assert clock.state(met, MONDAY_9_UTC + 100 * H, UTC_24X7, 75) == clock.MET
    late = clock.stop(running, MONDAY_9_UTC + 5 * H, UTC_24X7)
    assert clock.state(late, MONDAY_9_UTC + 5 * H, UTC_24X7, 75) == clock.BREACHED


def test_paused_clock_does_not_age_and_keeps_its_budget() -> None:
    running = clock.start(8 * H, MONDAY_9_UTC)
    paused = clock.pause(running, MONDAY_9_UTC + 2 * H, UTC_24X7)
    later = MONDAY_9_UTC + 50 * H
    assert clock.state(paused, later, UTC_24X7, 75) == clock.PAUSED
    assert clock.spent_at(paused, later, UTC_24X7) == 2 * H
    assert clock.due_at(paused, UTC_24X7) is None
    resumed = clock.resume(paused, later)
    assert clock.due_at(resumed, UTC_24X7) == later + 6 * H


def test_restart_continues_from_the_remaining_budget() -> None:
    running = clock.start(8 * H, MONDAY_9_UTC)
    resolved = clock.stop(running, MONDAY_9_UTC + 5 * H, UTC_24X7)
    reopened_at = MONDAY_9_UTC + 30 * H
    again = clock.restart(resolved, reopened_at)
    assert clock.due_at(again, UTC_24X7) == reopened_at + 3 * H
    final = clock.stop(again, reopened_at + 2 * H, UTC_24X7)
    assert final.spent == 7 * H
    assert clock.state(final, reopened_at + 10 * H, UTC_24X7, 75) == clock.MET


def test_restart_of_an_exhausted_clock_is_due_at_once() -> None:
    late = clock.stop(clock.start(2 * H, MONDAY_9_UTC), MONDAY_9_UTC + 3 * H, UTC_24X7)
    again = clock.restart(late, MONDAY_9_UTC + 10 * H)
    assert clock.due_at(again, UTC_24X7) == MONDAY_9_UTC + 10 * H
    assert clock.state(again, MONDAY_9_UTC + 10 * H, UTC_24X7, 75) == clock.BREACHED


def test_due_time_counts_business_hours_only() -> None:
    # Monday 10:00 Berlin + 24 business hours: 7h Mon, 8h Tue, 8h Wed, 1h Thu -> Thu 10:00 Berlin.
    due = clock.due_at(clock.start(24 * H, MONDAY_9_UTC), OFFICE)
    assert due == datetime(2026, 11, 19, 9, 0, tzinfo=UTC)


def test_next_change_is_the_warning_then_the_deadline_then_nothing() -> None:
    running = clock.start(4 * H, MONDAY_9_UTC)
    assert clock.next_change(running, MONDAY_9_UTC, UTC_24X7, 75) == MONDAY_9_UTC + 3 * H
    assert clock.next_change(running, MONDAY_9_UTC + 3 * H, UTC_24X7, 75) == MONDAY_9_UTC + 4 * H
    assert clock.next_change(running, MONDAY_9_UTC + 4 * H, UTC_24X7, 75) is None
    assert (
        clock.next_change(clock.pause(running, MONDAY_9_UTC, UTC_24X7), MONDAY_9_UTC, UTC_24X7, 75)
        is None
    )


def test_overall_state_is_the_most_urgent() -> None:
    assert clock.overall_state([clock.MET, clock.AT_RISK]) == clock.AT_RISK
    assert clock.overall_state([clock.PAUSED, clock.BREACHED]) == clock.BREACHED
    assert clock.overall_state([clock.MET, clock.PAUSED]) == clock.PAUSED
    assert clock.overall_state([clock.MET, clock.MET]) == clock.MET


def test_policy_round_trips_through_json() -> None:
    policy = clock.Policy(
        calendar=BusinessCalendar.office_hours("America/New_York", holiday_country="US"),
        warning_percent=80,
        name="Strategic",
    )
    again = clock.Policy.from_json(policy.to_json())
    assert again == policy
    assert again.targets_for("critical") == clock.Targets(1 * H, 8 * H)


def test_default_targets_match_the_agreement() -> None:
    assert {s: (t.triage, t.resolution) for s, t in clock.DEFAULT_TARGETS.items()} == {
        "critical": (1 * H, 8 * H),
        "high": (4 * H, 24 * H),
        "medium": (8 * H, 72 * H),
        "low": (24 * H, 120 * H),
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"warning_percent": 0}, "warning_percent"),
        ({"warning_percent": 100}, "warning_percent"),
        ({"critical_percent": 100}, "critical_percent"),
        ({"targets": {**clock.DEFAULT_TARGETS, "high": clock.Targets(-H, H)}}, "high_triage"),
        ({"targets": {**clock.DEFAULT_TARGETS, "low": clock.Targets(5 * H, 2 * H)}}, "low_triage"),
        ({"reminder_interval": timedelta(minutes=5)}, "reminder_interval"),
    ],
)
def test_policy_validation_names_the_field(changes: dict, field: str) -> None:
    policy = clock.Policy(calendar=OFFICE, **changes)
    with pytest.raises(clock.PolicyError) as info:
        policy.validate()
    assert field in info.value.field_errors
