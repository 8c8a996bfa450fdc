"""Admin agreement pages: who may enter, calendars and policies, preview, override, re-apply."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import (
    WHEN,
    make_admin,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
)
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Conflict, ConflictEvent, Partner, SlaCalendar, SlaPolicy
from tracker.services import agreements, conflict_access, conflicts

OFFICE = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
CALENDAR_FORM = {
    "name": "Tokyo office",
    "timezone": "Asia/Tokyo",
    "mon": "09:00-12:00, 13:00-17:00",
    "tue": "09:00-12:00, 13:00-17:00",
    "wed": "09:00-17:00",
    "thu": "09:00-17:00",
    "fri": "09:00-15:00",
    "sat": "",
    "sun": "22:00-06:00",
    "holidays": "2026-12-31\r\n2027-01-02\r\n",
    "holiday_country": "jp",
}
POLICY_FORM = {
    "name": "Strategic agreement",
    "tier": "",
    "calendar_id": "",
    "critical_triage": "1",
    "critical_resolution": "8",
    "high_triage": "4",
    "high_resolution": "24",
    "medium_triage": "8",
    "medium_resolution": "72",
    "low_triage": "24",
    "low_resolution": "120",
    "warning_percent": "75",
    "critical_percent": "150",
    "reminder_interval": "240",
    "response_expectation": "16",
}


def _minutes(triage: int, resolution: int) -> dict[str, int]:
    return {"triage_minutes": triage, "resolution_minutes": resolution}


def _policy(**overrides) -> SlaPolicy:  # type: ignore[no-untyped-def]
    values = {
        "name": "Standard agreement",
        "targets": {
            "critical": _minutes(60, 480),
            "high": _minutes(240, 1440),
            "medium": _minutes(480, 4320),
            "low": _minutes(1440, 7200),
        },
    }
    values.update(overrides)
    return agreements.create_policy(now=WHEN, **values)


def _calendar(**overrides) -> SlaCalendar:  # type: ignore[no-untyped-def]
    values = {"name": "Tokyo office", "timezone": "Asia/Tokyo", "weekly_hours": OFFICE}
    values.update(overrides)
    return agreements.create_calendar(now=WHEN, **values)


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model))


def _signed_in_admin(browser):  # type: ignore[no-untyped-def]
    admin = make_admin()
    browser.login(admin.email)
    return admin


# --- who may enter ---------------------------------------------------------------------------


def _agreement_urls() -> tuple[list[str], list[str]]:
    calendar = _calendar()
    policy = _policy()
    gets = [
        "/admin/agreements",
        "/admin/agreements/calendars/new",
        f"/admin/agreements/calendars/{calendar.id}/edit",
        "/admin/agreements/policies/new",
        f"/admin/agreements/policies/{policy.id}/edit",
    ]
    posts = [*gets[1:], f"/admin/agreements/policies/{policy.id}/reapply"]
    return gets, posts


def test_every_agreement_route_is_covered_by_the_role_checks(app) -> None:
    routes = {str(r) for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.")}
    assert {r for r in routes if r.startswith("/admin/agreements")} == {
        "/admin/agreements",
        "/admin/agreements/calendars/new",
        "/admin/agreements/calendars/<int:calendar_id>/edit",
        "/admin/agreements/policies/new",
        "/admin/agreements/policies/<int:policy_id>/edit",
        "/admin/agreements/policies/<int:policy_id>/reapply",
    }


@pytest.mark.parametrize("role", ["manager", "partner"])
def test_non_admins_are_refused_every_agreement_route(browser, role) -> None:
    gets, posts = _agreement_urls()
    user = make_manager() if role == "manager" else make_partner_user()
    browser.login(user.email)
    for url in gets:
        assert browser.get(url).status_code == 403, url
    for url in posts:
        assert browser.post(url, {"name": "Taken over"}).status_code == 403, url
    assert _count(SlaCalendar) == 1
    assert [p.name for p in db.session.scalars(select(SlaPolicy))] == ["Standard agreement"]


def test_anonymous_visitors_are_sent_to_sign_in(client) -> None:
    gets, _ = _agreement_urls()
    for url in gets:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/auth/login" in response.headers["Location"]


def test_admin_finds_agreements_in_the_navigation_and_sees_who_uses_what(browser) -> None:
    _signed_in_admin(browser)
    calendar = _calendar()
    tier_policy = _policy(name="Strategic terms", tier="strategic", calendar_id=calendar.id)
    own = _policy(name="Special terms")
    agreements.set_partner_policy(make_partner(name="Kestrel Components").id, own.id)
    make_partner(tier="strategic")
    html = browser.get("/admin/agreements").get_data(as_text=True)
    assert 'href="/admin/agreements"' in html
    for text in ("Strategic terms", "Special terms", "Tokyo office", "Kestrel Components"):
        assert text in html
    assert "Default for the <strong>strategic</strong> tier (1 partner" in html
    assert f"/admin/agreements/policies/{tier_policy.id}/edit" in html


def test_unknown_calendar_or_policy_is_404(browser) -> None:
    _signed_in_admin(browser)
    assert browser.get("/admin/agreements/calendars/999/edit").status_code == 404
    assert browser.get("/admin/agreements/policies/999/edit").status_code == 404
    assert browser.post("/admin/agreements/policies/999/reapply").status_code == 404


# --- calendars -------------------------------------------------------------------------------


def test_admin_creates_a_calendar_with_split_days_holidays_and_a_country(browser) -> None:
    _signed_in_admin(browser)
    response = browser.post("/admin/agreements/calendars/new", CALENDAR_FORM)
    assert response.status_code == 302
    calendar = db.session.scalars(select(SlaCalendar)).one()
    assert calendar.timezone == "Asia/Tokyo"
    assert calendar.weekly_hours["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert calendar.weekly_hours["sat"] == []
    assert calendar.weekly_hours["sun"] == [["22:00", "06:00"]]
    assert calendar.holidays == ["2026-12-31", "2027-01-02"]
    assert calendar.holiday_country == "JP"
    assert not calendar.always_open
    page = browser.get(f"/admin/agreements/calendars/{calendar.id}/edit").get_data(as_text=True)
    assert 'value="09:00-12:00, 13:00-17:00"' in page


def test_admin_edits_a_calendar_into_24x7(browser) -> None:
    _signed_in_admin(browser)
    calendar = _calendar()
    data = {**CALENDAR_FORM, "name": "Always on", "always_open": "y"}
    data.update({day: "" for day in ("mon", "tue", "wed", "thu", "fri", "sun")})
    assert browser.post(f"/admin/agreements/calendars/{calendar.id}/edit", data).status_code == 302
    calendar = db.session.get(SlaCalendar, calendar.id)
    assert (calendar.name, calendar.always_open) == ("Always on", True)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"mon": "9 to 5"}, "mon", "is not an interval"),
        ({"tue": "09:00-17"}, "tue", "is not an interval"),
        ({"wed": "09:00-13:00, 12:00-17:00"}, "wed", "overlaps"),
        ({"sun": "22:00-10:00"}, "sun", "overlaps"),
        ({"thu": "25:00-26:00"}, "thu", "not a time of day"),
        (
            {day: "" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
            "always_open",
            "no working time",
        ),
        ({"timezone": "Mars/Olympus"}, "timezone", "not a known IANA timezone"),
        ({"holidays": "2026-12-31\n31/12/2026"}, "holidays", "is not a date"),
        ({"holiday_country": "XX"}, "holiday_country", "Unknown holiday country"),
        ({"holiday_country": "Japan"}, "holiday_country", "two-letter ISO code"),
        ({"name": "Existing"}, "name", "already called"),
    ],
)
def test_invalid_calendar_form_explains_beside_the_field_and_creates_nothing(
    browser, fields, field, message
) -> None:
    _signed_in_admin(browser)
    _calendar(name="Existing")
    response = browser.post("/admin/agreements/calendars/new", {**CALENDAR_FORM, **fields})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    assert error, f"no error beside {field}"
    assert message.lower() in error.group(1).lower().replace("&#39;", "'")
    assert _count(SlaCalendar) == 1


# --- policies --------------------------------------------------------------------------------


def test_admin_creates_a_tier_policy_with_decimal_hours_and_a_calendar(browser) -> None:
    _signed_in_admin(browser)
    calendar = _calendar()
    data = {
        **POLICY_FORM,
        "tier": "strategic",
        "calendar_id": str(calendar.id),
        "critical_triage": "0.5",
        "critical_resolution": "4.25",
        "reminder_interval": "60",
        "response_expectation": "8",
    }
    response = browser.post("/admin/agreements/policies/new", data)
    assert response.status_code == 302
    policy = db.session.scalars(select(SlaPolicy)).one()
    assert response.headers["Location"].endswith(f"/admin/agreements/policies/{policy.id}/edit")
    assert (policy.tier, policy.calendar_id) == ("strategic", calendar.id)
    assert policy.targets["critical"] == _minutes(30, 255)
    assert policy.targets["low"] == _minutes(1440, 7200)
    assert (policy.reminder_minutes, policy.response_expectation_minutes) == (60, 480)
    page = browser.get(f"/admin/agreements/policies/{policy.id}/edit").get_data(as_text=True)
    assert 'value="0.5"' in page and 'value="4.25"' in page


def test_admin_edits_a_policy(browser) -> None:
    _signed_in_admin(browser)
    policy = _policy()
    data = {**POLICY_FORM, "name": "Standard agreement", "tier": "standard", "high_triage": "2"}
    response = browser.post(f"/admin/agreements/policies/{policy.id}/edit", data)
    assert response.status_code == 302
    policy = db.session.get(SlaPolicy, policy.id)
    assert (policy.tier, policy.targets["high"]) == ("standard", _minutes(120, 1440))


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"high_triage": "0"}, "high_triage", "more than zero"),
        ({"low_resolution": "-2"}, "low_resolution", "more than zero"),
        ({"medium_triage": "80"}, "medium_triage", "longer than resolution"),
        ({"critical_triage": "soon"}, "critical_triage", "not a valid decimal"),
        ({"high_resolution": "NaN"}, "high_resolution", "number of hours"),
        ({"warning_percent": "0"}, "warning_percent", "between 1 and 99"),
        ({"warning_percent": "100"}, "warning_percent", "between 1 and 99"),
        ({"critical_percent": "90"}, "critical_percent", "between 101 and 1000"),
        ({"reminder_interval": "5"}, "reminder_interval", "at least 15 minutes"),
        ({"name": "Existing terms"}, "name", "already called"),
        ({"tier": "preferred"}, "tier", "already follows"),
        ({"tier": "gold"}, "tier", "not a valid choice"),
    ],
)
def test_invalid_policy_form_explains_beside_the_field_and_creates_nothing(
    browser, fields, field, message
) -> None:
    _signed_in_admin(browser)
    _policy(name="Existing terms", tier="preferred")
    response = browser.post("/admin/agreements/policies/new", {**POLICY_FORM, **fields})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    assert error, f"no error beside {field}"
    assert message.lower() in error.group(1).lower().replace("&#39;", "'")
    assert _count(SlaPolicy) == 1


def _preview_rows(html: str) -> dict[str, list[str]]:
    rows = re.findall(r'<tr class="preview-(\w+)">(.*?)</tr>', html, re.S)
    return {severity: re.findall(r"\d{2}:\d{2} JST", cells) for severity, cells in rows}


def test_policy_page_previews_when_each_severity_would_be_due(browser) -> None:
    _signed_in_admin(browser)
    policy = _policy(calendar_id=_calendar().id)
    html = browser.get(f"/admin/agreements/policies/{policy.id}/edit").get_data(as_text=True)
    rows = _preview_rows(html)
    assert list(rows) == ["critical", "high", "medium", "low"]
    assert all(len(times) == 2 for times in rows.values()), rows  # triage and resolution
    assert "A high conflict raised now is due for triage by" in html


def test_preview_button_shows_unsaved_values_and_saves_nothing(browser) -> None:
    _signed_in_admin(browser)
    calendar = _calendar()
    data = {**POLICY_FORM, "calendar_id": str(calendar.id), "preview": "Preview"}
    response = browser.post("/admin/agreements/policies/new", data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Preview of the values below (not saved)" in html
    assert list(_preview_rows(html)) == ["critical", "high", "medium", "low"]
    assert _count(SlaPolicy) == 0


# --- partners and conflicts ------------------------------------------------------------------


def test_partner_form_sets_and_clears_the_agreement_override(browser) -> None:
    _signed_in_admin(browser)
    _policy(name="Tier terms", tier="standard", targets=_targets_with_high(120))
    own = _policy(name="Own terms", targets=_targets_with_high(30))
    partner = make_partner(name="Acme", tier="standard", timezone="Europe/Berlin")
    base = {"name": "Acme", "tier": "standard", "timezone": "Europe/Berlin", "owner_id": ""}
    edit = f"/admin/partners/{partner.id}/edit"
    page = browser.get(edit).get_data(as_text=True)
    assert "Tier default" in page and "Own terms" in page
    assert (
        browser.post(edit, {**base, "sla_policy_id": str(own.id), "active": "y"}).status_code == 302
    )
    assert db.session.get(Partner, partner.id).sla_policy_id == own.id
    author = make_partner_user(partner=db.session.get(Partner, partner.id))
    assert make_conflict(author, severity="high").triage_target_seconds == 30 * 60
    assert browser.post(edit, {**base, "sla_policy_id": "", "active": "y"}).status_code == 302
    assert db.session.get(Partner, partner.id).sla_policy_id is None
    assert make_conflict(author, severity="high").triage_target_seconds == 120 * 60


def test_new_partner_can_start_with_its_own_agreement(browser) -> None:
    _signed_in_admin(browser)
    own = _policy(name="Own terms")
    data = {
        "name": "Fresh Co",
        "tier": "preferred",
        "timezone": "Europe/Berlin",
        "country": "DE",
        "owner_id": "",
        "sla_policy_id": str(own.id),
    }
    assert browser.post("/admin/partners/new", data).status_code == 302
    assert db.session.scalars(select(Partner)).one().sla_policy_id == own.id


def _targets_with_high(triage_minutes: int) -> dict[str, dict[str, int]]:
    return {
        "critical": _minutes(60, 480),
        "high": _minutes(triage_minutes, 1440),
        "medium": _minutes(480, 4320),
        "low": _minutes(1440, 7200),
    }


def test_policy_edits_reach_new_conflicts_and_open_ones_only_when_reapplied(browser) -> None:
    admin = _signed_in_admin(browser)
    policy = _policy(tier="standard", targets=_targets_with_high(120))
    author = make_partner_user(partner=make_partner(tier="standard"))
    # Raised just now: the re-apply (on the wall clock) finds its triage not yet overdue, so
    # the new target applies (a deadline that has passed stays: test_reapply_overdue.py).
    open_one = make_conflict(author, severity="high", now=utcnow())
    other_open = make_conflict(author, severity="low")
    closed = make_conflict(author, severity="high")
    conflicts.act(author, closed.id, "withdraw", {"reason": "raised_in_error"}, now=WHEN)

    data = {**POLICY_FORM, "name": policy.name, "tier": "standard", "high_triage": "1"}
    assert browser.post(f"/admin/agreements/policies/{policy.id}/edit", data).status_code == 302
    assert db.session.get(Conflict, open_one.id).triage_target_seconds == 120 * 60
    fresh = make_conflict(author, severity="high", now=WHEN + timedelta(hours=1))
    assert fresh.triage_target_seconds == 60 * 60

    page = browser.get(f"/admin/agreements/policies/{policy.id}/edit").get_data(as_text=True)
    assert "Re-apply to 3 open conflicts" in page
    response = browser.post(
        f"/admin/agreements/policies/{policy.id}/reapply", follow_redirects=True
    )
    assert "Re-applied to 3 open conflicts" in response.get_data(as_text=True)

    reopened = db.session.get(Conflict, open_one.id)
    assert reopened.triage_target_seconds == 60 * 60
    assert reopened.sla_snapshot["targets"]["high"] == _minutes(60, 1440)
    assert db.session.get(Conflict, closed.id).triage_target_seconds == 120 * 60
    for conflict_id in (open_one.id, other_open.id, fresh.id):
        event = db.session.scalars(
            select(ConflictEvent).where(
                ConflictEvent.conflict_id == conflict_id, ConflictEvent.kind == "sla_reapplied"
            )
        ).one()
        assert (event.visibility, event.actor_id) == ("internal", admin.id)
    assert not db.session.scalars(
        select(ConflictEvent).where(
            ConflictEvent.conflict_id == closed.id, ConflictEvent.kind == "sla_reapplied"
        )
    ).all()
    assert "sla_reapplied" not in [
        e.kind for e in conflict_access.timeline(db.session.get(Conflict, open_one.id), author)
    ]
