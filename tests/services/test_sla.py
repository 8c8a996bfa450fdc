"""SLA clocks of real conflicts: snapshots, pauses charged to the partner, reopens, the queue."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.factories import (
    RESOLUTION,
    WHEN,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tracker.domain import clock
from tracker.extensions import db
from tracker.models import Conflict, SlaPause, SlaPolicy
from tracker.services import conflict_search, conflicts, sla

H = timedelta(hours=1)
# WHEN is Monday 2026-11-16 09:00 UTC = 10:00 in Berlin, inside office hours.


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """A November 2026 Berlin (UTC+1) wall time as UTC."""
    return datetime(2026, 11, day, hour - 1, minute, tzinfo=UTC)


def fresh(conflict: Conflict) -> Conflict:
    return db.session.get(Conflict, conflict.id)


def test_submission_starts_both_clocks_under_the_partners_agreement(app) -> None:
    conflict = make_conflict(severity="high")
    assert conflict.triage_due_at == berlin(16, 14)  # 4 business hours
    assert conflict.resolution_due_at == berlin(
        19, 10
    )  # 24 business hours: Mon 7 + Tue 8 + Wed 8 + Thu 1
    assert conflict.sla_due_at == conflict.triage_due_at
    assert conflict.sla_state == "on_track"
    assert conflict.next_check_at == berlin(16, 13)  # 75 % of triage
    assert conflict.sla_snapshot["targets"]["high"] == {
        "triage_minutes": 240,
        "resolution_minutes": 1440,
    }
    assert conflict.sla_snapshot["calendar"]["timezone"] == "Europe/Berlin"


def test_submission_outside_hours_starts_counting_at_the_next_working_moment(app) -> None:
    saturday = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    conflict = make_conflict(severity="critical", now=saturday)
    assert conflict.triage_due_at == berlin(23, 10)  # Monday 09:00 + 1h


def test_state_moves_through_each_threshold_by_refresh(app) -> None:
    conflict = make_conflict(severity="high")  # triage target 4h from Mon 10:00 Berlin
    for now, expected in (
        (berlin(16, 12, 59), "on_track"),
        (berlin(16, 13), "at_risk"),
        (berlin(16, 14), "breached"),
    ):
        assert sla.refresh(conflict, now) == expected
        assert sla.live_state(conflict, now) == expected


def test_triage_in_time_stops_the_triage_clock_as_met(app) -> None:
    manager = make_manager()
    conflict = make_conflict(severity="high")
    triage(conflict, manager, now=berlin(16, 12))
    conflict = fresh(conflict)
    assert conflict.triage_stopped_at == berlin(16, 12)
    views = sla.clock_views(conflict, berlin(16, 15))
    assert views[0].state == "met" and views[0].spent == 2 * H
    assert conflict.sla_due_at == conflict.resolution_due_at


def test_triage_with_a_new_severity_retargets_the_resolution_clock(app) -> None:
    manager = make_manager()
    conflict = make_conflict(severity="low")
    triage(conflict, manager, now=berlin(16, 11), severity="critical")
    conflict = fresh(conflict)
    assert conflict.resolution_target_seconds == 8 * 3600
    # The resolution clock has run since submission: Mon 10-17 = 7h, then 1h on Tuesday.
    assert conflict.resolution_due_at == berlin(17, 10)


def test_waiting_on_partner_pauses_and_charges_the_wait_to_the_partner(app) -> None:
    manager = make_manager()
    user = make_partner_user()
    conflict = make_conflict(user, severity="high")
    triage(conflict, manager, now=berlin(16, 11))
    conflicts.act(
        manager, conflict.id, "wait_on_partner", {"message": "Which invoice?"}, now=berlin(16, 12)
    )
    conflict = fresh(conflict)
    assert conflict.sla_state == "paused"
    assert conflict.resolution_due_at is None and conflict.sla_due_at is None
    assert conflict.resolution_spent_seconds == 2 * 3600
    conflicts.comment(user, conflict.id, "Invoice 4711", now=berlin(17, 12))
    conflict = fresh(conflict)
    # Waited Mon 12-17 (5h) + Tue 09-12 (3h) of business time.
    assert conflict.partner_wait_seconds == 8 * 3600
    (pause,) = db.session.scalars(select(SlaPause).where(SlaPause.conflict_id == conflict.id))
    assert (pause.reason, pause.business_seconds, pause.ended_at) == (
        "Which invoice?",
        8 * 3600,
        berlin(17, 12),
    )
    assert pause.started_by_id == manager.id and pause.ended_by_id == user.id  # their reply
    # 22h left from Tue 12:00: Tue 5h, Wed 8h, Thu 8h, Fri 1h.
    assert conflict.resolution_due_at == berlin(20, 10)
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=berlin(18, 12))
    conflict = fresh(conflict)
    # Our time: Mon 10-12 (2h) + Tue 12-17 (5h) + Wed 9-12 (3h) = 10h; the 8h wait is not ours.
    assert conflict.resolution_spent_seconds == 10 * 3600
    assert conflict.sla_state == "met"


def test_manual_resume_ends_the_pause_too(app) -> None:
    manager = make_manager()
    conflict = make_conflict()
    triage(conflict, manager, now=berlin(16, 11))
    conflicts.act(manager, conflict.id, "wait_on_partner", {"message": "Docs?"}, now=berlin(16, 12))
    conflicts.act(manager, conflict.id, "resume", {}, now=berlin(16, 14))
    pause = db.session.scalars(select(SlaPause)).one()
    assert pause.ended_by_id == manager.id and pause.business_seconds == 2 * 3600
    assert fresh(conflict).partner_wait_seconds == 2 * 3600


def test_reopen_restarts_from_the_remaining_budget_and_totals_add_up(app) -> None:
    manager = make_manager()
    user = make_partner_user()
    conflict = make_conflict(user, severity="critical")  # resolution target 8h
    triage(conflict, manager, now=berlin(16, 10, 30))
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=berlin(16, 13))  # 3h used
    conflicts.act(user, conflict.id, "dispute", {"reason": "Not paid yet"}, now=berlin(17, 9))
    conflict = fresh(conflict)
    assert conflict.resolution_due_at == berlin(17, 14)  # 5h left
    assert conflict.resolved_at == berlin(16, 13)
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=berlin(17, 11))  # 2h more
    conflicts.act(user, conflict.id, "accept", {}, now=berlin(17, 12))
    conflict = fresh(conflict)
    assert conflict.resolution_spent_seconds == 5 * 3600
    assert conflict.resolution_wall_seconds == 5 * 3600
    assert conflict.resolved_at == berlin(17, 11) and conflict.closed_at == berlin(17, 12)
    assert conflict.sla_state == "met"


def test_reopen_after_a_late_resolution_stays_breached(app) -> None:
    manager = make_manager()
    user = make_partner_user()
    conflict = make_conflict(user, severity="critical")
    triage(conflict, manager, now=berlin(16, 10, 30))
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=berlin(17, 13))  # 10h > 8h
    assert fresh(conflict).sla_state == "breached"
    conflicts.act(user, conflict.id, "accept", {}, now=berlin(17, 14))
    conflicts.act(user, conflict.id, "reopen", {"reason": "Again"}, now=berlin(18, 9))
    conflict = fresh(conflict)
    assert conflict.sla_state == "breached" and conflict.resolution_due_at == berlin(18, 9)


def test_withdrawn_conflict_counts_against_nobody(app) -> None:
    user = make_partner_user()
    conflict = make_conflict(user, severity="critical")
    conflicts.act(user, conflict.id, "withdraw", {"reason": "raised_in_error"}, now=berlin(17, 15))
    conflict = fresh(conflict)
    assert (
        conflict.sla_state == "met"
        and conflict.sla_due_at is None
        and conflict.next_check_at is None
    )


def test_severity_correction_retargets_both_clocks(app) -> None:
    manager = make_manager()
    conflict = make_conflict(severity="low")
    conflicts.change_fields(manager, conflict.id, severity="critical", now=berlin(16, 10, 30))
    conflict = fresh(conflict)
    assert conflict.triage_due_at == berlin(16, 11)
    assert conflict.resolution_target_seconds == 8 * 3600


def _tier_policy(tier: str, triage_minutes: int, name: str = "Tier policy") -> SlaPolicy:
    targets = {
        s: {"triage_minutes": triage_minutes, "resolution_minutes": 600}
        for s in clock.DEFAULT_TARGETS
    }
    row = SlaPolicy(
        name=name, tier=tier, targets=targets, warning_percent=50, critical_percent=200,
        reminder_minutes=60, response_expectation_minutes=480, created_at=WHEN, updated_at=WHEN,
    )  # fmt: skip
    db.session.add(row)
    db.session.commit()
    return row


def test_conflict_keeps_the_agreement_it_started_under(app) -> None:
    partner = make_partner(tier="strategic")
    user = make_partner_user(partner=partner)
    row = _tier_policy("strategic", 30)
    before = make_conflict(user, severity="high")
    assert before.triage_target_seconds == 30 * 60 and before.sla_policy_id == row.id
    row.targets = {
        s: {"triage_minutes": 90, "resolution_minutes": 600} for s in clock.DEFAULT_TARGETS
    }
    db.session.commit()
    after = make_conflict(user, severity="high")
    assert after.triage_target_seconds == 90 * 60
    assert fresh(before).triage_target_seconds == 30 * 60
    assert fresh(before).sla_snapshot["targets"]["high"]["triage_minutes"] == 30


def test_partner_policy_overrides_the_tier_policy(app) -> None:
    partner = make_partner(tier="standard")
    _tier_policy("standard", 30, name="Standard")
    own = _tier_policy("preferred", 45, name="Own")
    own.tier = None
    partner.sla_policy_id = own.id
    db.session.commit()
    conflict = make_conflict(make_partner_user(partner=partner))
    assert conflict.triage_target_seconds == 45 * 60


def test_queue_puts_the_soonest_deadline_first_and_paused_last(app) -> None:
    manager = make_manager()
    user = make_partner_user()
    low = make_conflict(user, severity="low", title="Low one here", now=WHEN)
    critical = make_conflict(user, severity="critical", title="Critical one", now=WHEN + H)
    paused = make_conflict(user, severity="critical", title="Paused one", now=WHEN)
    triage(paused, manager)
    conflicts.act(manager, paused.id, "wait_on_partner", {"message": "?"}, now=WHEN)
    page = conflict_search.queue_page(manager, conflict_search.ConflictFilters(), 1, 25)
    order = [c.id for c in page.items]
    assert order == [critical.id, low.id, paused.id]


def test_manager_and_partner_see_the_same_due_time_each_in_their_timezone(app, new_browser) -> None:
    partner = make_partner(timezone="Europe/Berlin")
    user = make_partner_user(partner=partner)
    manager = make_manager(timezone="America/New_York")
    monday = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # in the future, so the promise still stands
    conflict = make_conflict(user, severity="high", now=monday)
    due = conflict.resolution_due_at  # 24 business hours from Mon 10:00 CET: Thu 10 Jan 09:00 UTC
    assert due == datetime(2030, 1, 10, 9, 0, tzinfo=UTC)
    partner_view = new_browser()
    partner_view.login(user.email)
    page = partner_view.get(f"/portal/conflicts/{conflict.id}").get_data(as_text=True)
    assert "We will resolve this by <strong>Thu 10 Jan 10:00 CET</strong> your time." in page
    manager_view = new_browser()
    manager_view.login(manager.email)
    console = manager_view.get(f"/console/conflicts/{conflict.id}").get_data(as_text=True)
    assert "Thu 10 Jan 2030 04:00 EST" in console
    assert due.isoformat() in page and due.isoformat() in console
    assert re.search(r"Time to resolution</strong>", console)


def test_backfill_starts_the_clocks_of_conflicts_from_before_sla(app) -> None:
    manager = make_manager()
    user = make_partner_user()
    waiting = make_conflict(user, severity="high", title="Raised before the clocks")
    triage(waiting, manager, now=berlin(16, 11))
    conflicts.act(manager, waiting.id, "wait_on_partner", {"message": "?"}, now=berlin(16, 12))
    open_one = make_conflict(user, severity="critical", title="Another old one")
    for item in (waiting, open_one):  # as a database migrated from before 0003 would hold them
        row = fresh(item)
        row.sla_snapshot = None
        row.triage_target_seconds = row.resolution_target_seconds = None
        row.next_check_at = row.sla_due_at = row.triage_stopped_at = None
        row.resolution_running_since = None
        row.resolution_spent_seconds = 0
    db.session.query(SlaPause).delete()
    db.session.commit()
    assert sla.backfill(berlin(17, 9)) == 2
    waiting, open_one = fresh(waiting), fresh(open_one)
    assert waiting.sla_snapshot and waiting.triage_stopped_at == berlin(16, 11)
    assert waiting.resolution_spent_seconds == 2 * 3600 and waiting.sla_state == "paused"
    assert open_one.triage_due_at == berlin(16, 11) and open_one.next_check_at == berlin(17, 9)
    assert sla.backfill(berlin(17, 9)) == 0
