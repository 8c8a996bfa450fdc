"""Escalation levels are reached at the warning threshold, the target and the critical multiple."""

from datetime import UTC, datetime, timedelta

from tracker.domain import clock
from tracker.domain import escalation as esc
from tracker.domain.calendar import BusinessCalendar

H = timedelta(hours=1)
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
CAL = BusinessCalendar.twenty_four_seven("UTC")
POLICY = clock.Policy(calendar=CAL)


def test_levels_are_reached_at_75_100_and_150_percent() -> None:
    running = clock.start(4 * H, T0)
    moments = {m.level: m.at for m in esc.level_moments(running, POLICY, CAL)}
    assert moments == {"warning": T0 + 3 * H, "breach": T0 + 4 * H, "critical": T0 + 6 * H}
    assert esc.levels_reached(running, T0 + 3 * H - timedelta(seconds=1), POLICY, CAL) == []
    assert esc.levels_reached(running, T0 + 4 * H, POLICY, CAL) == ["warning", "breach"]
    assert esc.levels_reached(running, T0 + 6 * H, POLICY, CAL) == ["warning", "breach", "critical"]


def test_custom_thresholds_come_from_the_policy() -> None:
    policy = clock.Policy(calendar=CAL, warning_percent=50, critical_percent=200)
    moments = {m.level: m.at for m in esc.level_moments(clock.start(4 * H, T0), policy, CAL)}
    assert moments == {"warning": T0 + 2 * H, "breach": T0 + 4 * H, "critical": T0 + 8 * H}


def test_paused_or_stopped_clocks_reach_nothing_new() -> None:
    paused = clock.pause(clock.start(4 * H, T0), T0 + H, CAL)
    assert esc.level_moments(paused, POLICY, CAL) == []
    stopped = clock.stop(clock.start(4 * H, T0), T0 + H, CAL)
    assert esc.levels_reached(stopped, T0 + 100 * H, POLICY, CAL) == []


def test_highest_level() -> None:
    assert esc.highest(["warning", "critical", "breach"]) == "critical"
    assert esc.highest([]) is None
