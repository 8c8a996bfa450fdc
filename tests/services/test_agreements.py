"""Agreement use cases against a real database: calendars, policies, who follows which, re-apply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import (
    WHEN,
    make_admin,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tracker.domain.clock import DEFAULT_TARGETS
from tracker.extensions import db
from tracker.models import Conflict, ConflictEvent, Partner, SlaCalendar, SlaPolicy
from tracker.services import agreements, conflict_access, conflicts, partners
from tracker.services.errors import InvalidInput, NotFound, PermissionDenied

OFFICE = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
LATER = WHEN + timedelta(hours=1)


def _targets(**overrides: tuple[int, int]) -> dict[str, dict[str, int]]:
    """The built-in targets in minutes, with some severities replaced by (triage, resolution)."""
    targets = {
        severity: {
            "triage_minutes": int(t.triage.total_seconds() // 60),
            "resolution_minutes": int(t.resolution.total_seconds() // 60),
        }
        for severity, t in DEFAULT_TARGETS.items()
    }
    for severity, (triage_minutes, resolution_minutes) in overrides.items():
        targets[severity] = {
            "triage_minutes": triage_minutes,
            "resolution_minutes": resolution_minutes,
        }
    return targets


def _calendar(**overrides) -> SlaCalendar:  # type: ignore[no-untyped-def]
    values = {"name": "Berlin office", "timezone": "Europe/Berlin", "weekly_hours": OFFICE}
    values.update(overrides)
    return agreements.create_calendar(now=WHEN, **values)


def _policy(**overrides) -> SlaPolicy:  # type: ignore[no-untyped-def]
    values = {"name": "Strategic agreement", "targets": _targets()}
    values.update(overrides)
    return agreements.create_policy(now=WHEN, **values)


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model))


def _high_targets(conflict: Conflict) -> dict[str, int]:
    return conflict.sla_snapshot["targets"]["high"]


# --- calendars -----------------------------------------------------------------------------


def test_calendar_with_split_days_holidays_and_country_is_saved(app) -> None:
    calendar = _calendar(
        weekly_hours={"mon": [["9:00", "12:00"], ["13:00", "17:00"]], "sat": [["22:00", "24:00"]]},
        holidays=["2026-12-24", "", " 2026-12-24 ", "2026-12-31"],
        holiday_country="de",
    )
    saved = db.session.get(SlaCalendar, calendar.id)
    assert saved.weekly_hours["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert saved.weekly_hours["sat"] == [["22:00", "00:00"]]
    assert saved.weekly_hours["sun"] == []
    assert saved.holidays == ["2026-12-24", "2026-12-31"]
    assert saved.holiday_country == "DE"


def test_a_24x7_calendar_needs_no_hours(app) -> None:
    calendar = _calendar(weekly_hours={}, always_open=True)
    assert calendar.always_open


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"weekly_hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "mon", "overlaps"),
        (
            {"weekly_hours": {"sun": [["22:00", "10:00"]], "mon": [["09:00", "17:00"]]}},
            "sun",
            "overlaps",
        ),
        ({"weekly_hours": {"tue": [["09:00", "09:00"]]}}, "tue", "zero length"),
        ({"weekly_hours": {"wed": [["25:00", "26:00"]]}}, "wed", "not a time of day"),
        ({"weekly_hours": {"thu": [["9am", "5pm"]]}}, "thu", "not a time of day"),
        ({"weekly_hours": {}}, "always_open", "no working time"),
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA timezone"),
        ({"holidays": ["2026-12-24", "24.12.2026"]}, "holidays", "is not a date"),
        ({"holidays": ["2026-13-01"]}, "holidays", "is not a date"),
        ({"holiday_country": "D1"}, "holiday_country", "two-letter"),
        ({"holiday_country": "XX"}, "holiday_country", "Unknown holiday country"),
        ({"name": "  "}, "name", "required"),
        ({"name": "BERLIN OFFICE"}, "name", "already called"),
    ],
)
def test_invalid_calendar_explains_which_field_and_saves_nothing(
    app, overrides, field, message
) -> None:
    _calendar()
    with pytest.raises(InvalidInput) as error:
        _calendar(**{"name": "Tokyo office", **overrides})
    assert message.lower() in error.value.field_errors[field].lower()
    assert _count(SlaCalendar) == 1


def test_calendar_edit_keeps_its_own_name(app) -> None:
    calendar = _calendar()
    agreements.update_calendar(
        calendar.id,
        name="Berlin office",
        timezone="Europe/Berlin",
        weekly_hours={"mon": [["08:00", "16:00"]]},
        now=LATER,
    )
    saved = db.session.get(SlaCalendar, calendar.id)
    assert saved.weekly_hours["mon"] == [["08:00", "16:00"]]
    assert saved.updated_at == LATER


def test_unknown_calendar_is_not_found(app) -> None:
    with pytest.raises(NotFound):
        agreements.update_calendar(999, name="x", timezone="UTC", weekly_hours=OFFICE, now=WHEN)


# --- policies ------------------------------------------------------------------------------


def test_policy_is_saved_with_its_tier_calendar_and_thresholds(app) -> None:
    calendar = _calendar()
    policy = _policy(
        tier="strategic",
        calendar_id=calendar.id,
        targets=_targets(high=(30, 600)),
        warning_percent=80,
        critical_percent=200,
        reminder_minutes=60,
        response_expectation_minutes=480,
    )
    saved = db.session.get(SlaPolicy, policy.id)
    assert (saved.tier, saved.calendar_id, saved.warning_percent, saved.critical_percent) == (
        "strategic",
        calendar.id,
        80,
        200,
    )
    assert saved.targets["high"] == {"triage_minutes": 30, "resolution_minutes": 600}
    assert (saved.reminder_minutes, saved.response_expectation_minutes) == (60, 480)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"targets": _targets(high=(0, 600))}, "high_triage", "more than zero"),
        ({"targets": _targets(low=(60, -60))}, "low_resolution", "more than zero"),
        ({"targets": _targets(medium=(600, 60))}, "medium_triage", "longer than resolution"),
        ({"targets": _targets(critical=(60, 10**12))}, "critical_resolution", "at most"),
        ({"warning_percent": 0}, "warning_percent", "between 1 and 99"),
        ({"warning_percent": 100}, "warning_percent", "between 1 and 99"),
        ({"critical_percent": 100}, "critical_percent", "between 101 and 1000"),
        ({"reminder_minutes": 5}, "reminder_interval", "at least 15 minutes"),
        ({"response_expectation_minutes": 0}, "response_expectation", "more than zero"),
        ({"name": "strategic AGREEMENT"}, "name", "already called"),
        ({"name": "Other", "tier": "strategic"}, "tier", "already follows"),
        ({"name": "Other", "tier": "gold"}, "tier", "must be one of"),
        ({"name": "Other", "calendar_id": 999}, "calendar_id", "no such calendar"),
    ],
)
def test_invalid_policy_explains_which_field_and_saves_nothing(
    app, overrides, field, message
) -> None:
    _policy(tier="strategic")
    values = {"name": "Fresh agreement"}
    values.update(overrides)
    with pytest.raises(InvalidInput) as error:
        _policy(**values)
    assert message.lower() in error.value.field_errors[field].lower()
    assert _count(SlaPolicy) == 1


def test_policy_edit_may_keep_its_own_name_and_tier(app) -> None:
    policy = _policy(tier="strategic")
    agreements.update_policy(
        policy.id,
        name="Strategic agreement",
        tier="strategic",
        targets=_targets(high=(60, 480)),
        now=LATER,
    )
    assert db.session.get(SlaPolicy, policy.id).targets["high"]["triage_minutes"] == 60


# --- which agreement a new conflict follows ------------------------------------------------


def test_new_conflicts_follow_their_tiers_policy(app) -> None:
    calendar = _calendar(timezone="Asia/Tokyo")
    policy = _policy(tier="strategic", calendar_id=calendar.id, targets=_targets(high=(120, 960)))
    strategic = make_partner_user(partner=make_partner(tier="strategic"))
    conflict = make_conflict(strategic, severity="high")
    assert conflict.sla_policy_id == policy.id
    assert conflict.triage_target_seconds == 2 * 3600
    assert _high_targets(conflict) == {"triage_minutes": 120, "resolution_minutes": 960}
    assert conflict.sla_snapshot["calendar"]["timezone"] == "Asia/Tokyo"
    standard = make_conflict(make_partner_user(partner=make_partner(tier="standard")))
    assert standard.sla_policy_id is None


def test_a_partners_own_policy_beats_its_tiers(app) -> None:
    _policy(tier="strategic", targets=_targets(high=(120, 960)))
    own = _policy(name="Northwind special", targets=_targets(high=(30, 240)))
    partner = make_partner(tier="strategic")
    agreements.set_partner_policy(partner.id, own.id)
    conflict = make_conflict(make_partner_user(partner=partner), severity="high")
    assert conflict.sla_policy_id == own.id
    assert conflict.triage_target_seconds == 30 * 60
    agreements.set_partner_policy(partner.id, None)
    again = make_conflict(make_partner_user(partner=partner), severity="high")
    assert again.triage_target_seconds == 120 * 60


def test_without_any_policy_the_built_in_targets_apply(app) -> None:
    conflict = make_conflict(severity="high")
    assert conflict.sla_policy_id is None
    assert conflict.triage_target_seconds == DEFAULT_TARGETS["high"].triage.total_seconds()
    assert _high_targets(conflict) == {"triage_minutes": 240, "resolution_minutes": 1440}


def test_set_partner_policy_refuses_unknown_partner_or_policy(app) -> None:
    partner = make_partner()
    with pytest.raises(NotFound):
        agreements.set_partner_policy(999, None)
    with pytest.raises(InvalidInput) as error:
        agreements.set_partner_policy(partner.id, 999)
    assert "sla_policy_id" in error.value.field_errors


def test_partner_service_sets_the_override_and_keeps_it_unless_told(app) -> None:
    own = _policy(name="Own")
    partner = partners.create_partner(
        name="Acme", tier="standard", timezone="UTC", now=WHEN, sla_policy_id=own.id
    )
    assert partner.sla_policy_id == own.id
    partners.update_partner(
        partner.id, name="Acme Ltd", tier="standard", timezone="UTC", country=None, owner_id=None
    )
    assert db.session.get(Partner, partner.id).sla_policy_id == own.id
    partners.update_partner(
        partner.id,
        name="Acme Ltd",
        tier="standard",
        timezone="UTC",
        country=None,
        owner_id=None,
        sla_policy_id=None,
    )
    assert db.session.get(Partner, partner.id).sla_policy_id is None


# --- editing and re-applying -----------------------------------------------------------------


def test_editing_a_policy_changes_new_conflicts_only(app) -> None:
    policy = _policy(tier="standard", targets=_targets(high=(120, 960)))
    author = make_partner_user(partner=make_partner(tier="standard"))
    before = make_conflict(author, severity="high")
    agreements.update_policy(
        policy.id, name=policy.name, tier="standard", targets=_targets(high=(60, 480)), now=LATER
    )
    after = make_conflict(author, severity="high", now=LATER)
    assert db.session.get(Conflict, before.id).triage_target_seconds == 120 * 60
    assert _high_targets(db.session.get(Conflict, before.id))["resolution_minutes"] == 960
    assert after.triage_target_seconds == 60 * 60


def test_reapply_moves_open_conflicts_to_the_new_targets_and_notes_it_internally(app) -> None:
    admin = make_admin()
    policy = _policy(tier="standard", targets=_targets(high=(120, 960)))
    author = make_partner_user(partner=make_partner(tier="standard"))
    still_open = make_conflict(author, severity="high")
    triaged = make_conflict(author, severity="high")
    triage(triaged, make_manager(), now=WHEN + timedelta(minutes=5))
    withdrawn = make_conflict(author, severity="high")
    conflicts.act(author, withdrawn.id, "withdraw", {"reason": "raised_in_error"}, now=WHEN)
    elsewhere = make_conflict(make_partner_user(partner=make_partner(tier="preferred")))
    overridden = make_partner(tier="standard")
    agreements.set_partner_policy(overridden.id, _policy(name="Own").id)
    not_ours = make_conflict(make_partner_user(partner=overridden))
    agreements.update_policy(
        policy.id, name=policy.name, tier="standard", targets=_targets(high=(60, 480)), now=LATER
    )

    assert agreements.reapply_policy(admin, policy.id, LATER) == 2

    for conflict_id in (still_open.id, triaged.id):
        conflict = db.session.get(Conflict, conflict_id)
        assert _high_targets(conflict) == {"triage_minutes": 60, "resolution_minutes": 480}
        assert conflict.resolution_target_seconds == 480 * 60
        (event,) = db.session.scalars(
            select(ConflictEvent).where(
                ConflictEvent.conflict_id == conflict_id, ConflictEvent.kind == "sla_reapplied"
            )
        )
        assert (event.visibility, event.actor_id, event.data) == (
            "internal",
            admin.id,
            {"policy": policy.name},
        )
        assert "sla_reapplied" not in [e.kind for e in conflict_access.timeline(conflict, author)]
        assert "sla_reapplied" in [e.kind for e in conflict_access.timeline(conflict, admin)]
    assert db.session.get(Conflict, still_open.id).triage_target_seconds == 60 * 60
    # Triage was already done: its clock is history and keeps the target it was met against.
    assert db.session.get(Conflict, triaged.id).triage_target_seconds == 120 * 60
    assert _high_targets(db.session.get(Conflict, withdrawn.id))["triage_minutes"] == 120
    for untouched in (elsewhere, not_ours, withdrawn):
        assert (
            db.session.scalar(
                select(func.count()).where(
                    ConflictEvent.conflict_id == untouched.id, ConflictEvent.kind == "sla_reapplied"
                )
            )
            == 0
        )


def test_only_admins_reapply(app) -> None:
    policy = _policy()
    with pytest.raises(PermissionDenied):
        agreements.reapply_policy(make_manager(), policy.id, WHEN)
    with pytest.raises(NotFound):
        agreements.reapply_policy(make_admin(), 999, WHEN)


# --- preview -------------------------------------------------------------------------------


def test_preview_shows_when_each_severity_would_be_due_in_business_time(app) -> None:
    calendar = _calendar()  # Europe/Berlin, Monday to Friday 09:00-17:00
    policy = _policy(calendar_id=calendar.id)
    monday_10_berlin = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    shown = agreements.preview(policy, monday_10_berlin)
    assert shown.timezone == "Europe/Berlin"
    assert not shown.partner_hours
    rows = {row.severity: row for row in shown.rows}
    assert list(rows) == ["critical", "high", "medium", "low"]
    # 4h from 10:00 CET is 14:00 CET the same day.
    assert rows["high"].triage_due == datetime(2026, 11, 16, 13, 0, tzinfo=UTC)
    # 24 business hours: Mon 7h, Tue 8h, Wed 8h, then 1h on Thursday: 10:00 CET.
    assert rows["high"].resolution_due == datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    assert rows["critical"].triage_target == timedelta(hours=1)


def test_preview_without_calendar_uses_office_hours_and_says_so(app) -> None:
    shown = agreements.preview(_policy(), WHEN)
    assert shown.partner_hours
    assert shown.timezone == "UTC"
    high = next(row for row in shown.rows if row.severity == "high")
    assert high.triage_due == WHEN + timedelta(hours=4)


def test_preview_of_unsaved_values_validates_and_saves_nothing(app) -> None:
    shown = agreements.preview_values(WHEN, name="Draft", targets=_targets(high=(30, 60)))
    high = next(row for row in shown.rows if row.severity == "high")
    assert high.triage_due == WHEN + timedelta(minutes=30)
    with pytest.raises(InvalidInput):
        agreements.preview_values(WHEN, name="Draft", targets=_targets(high=(90, 60)))
    assert _count(SlaPolicy) == 0


def test_overview_lists_who_follows_each_policy_and_calendar(app) -> None:
    calendar = _calendar()
    tier_policy = _policy(tier="preferred", calendar_id=calendar.id)
    own = _policy(name="Own")
    make_partner(tier="preferred")
    special = make_partner(tier="preferred", name="Special Co")
    agreements.set_partner_policy(special.id, own.id)
    usage = {u.policy.name: u for u in agreements.list_policies()}
    assert usage[tier_policy.name].tier_partner_count == 1
    assert [p.name for p in usage["Own"].override_partners] == ["Special Co"]
    (calendar_usage,) = agreements.list_calendars()
    assert [p.name for p in calendar_usage.policies] == [tier_policy.name]
