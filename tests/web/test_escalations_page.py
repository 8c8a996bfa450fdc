"""The Escalations page, acknowledging from it, the bell, and notification preferences."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.factories import make_conflict, make_manager, make_partner, make_partner_user
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import Escalation, Notification, OutboxMessage
from tracker.services import conflicts

MONDAY_10_BERLIN = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
ONE_HOUR_LATER = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


def _escalated():  # type: ignore[no-untyped-def]
    owner = make_manager(name="Maya Okafor")
    partner = make_partner(name="Northwind", owner_id=owner.id)
    user = make_partner_user(partner=partner)
    conflict = make_conflict(user, severity="critical", now=MONDAY_10_BERLIN)
    sweep(ONE_HOUR_LATER)
    return owner, user, conflict


def test_manager_sees_the_escalation_in_the_bell_and_on_the_page(browser) -> None:
    owner, _, conflict = _escalated()
    browser.login(owner.email)
    page = browser.get("/console/escalations").get_data(as_text=True)
    assert conflict.ref in page and "Breach" in page and "Warning" in page
    assert 'aria-label="Notifications, ' in page
    bell = browser.get("/notifications").get_data(as_text=True)
    assert f"{conflict.ref} breach" in bell
    filtered = browser.get("/console/escalations?level=warning").get_data(as_text=True)
    assert ">Warning</span>" in filtered and ">Breach</span>" not in filtered


def test_acknowledge_from_the_page_records_who_and_why(browser) -> None:
    owner, _, conflict = _escalated()
    breach = db.session.scalar(select(Escalation).where(Escalation.level == "breach"))
    browser.login(owner.email)
    response = browser.post(
        f"/console/escalations/{breach.id}/acknowledge", {"note": "Called Anna, fix by noon."}
    )
    assert response.status_code == 302
    breach = db.session.get(Escalation, breach.id)
    assert breach.acknowledged_by_id == owner.id and breach.next_reminder_at is None
    assert breach.acknowledgement_note == "Called Anna, fix by noon."
    again = browser.post(
        f"/console/escalations/{breach.id}/acknowledge", {"note": ""}, follow_redirects=True
    )
    assert "already acknowledged" in again.get_data(as_text=True)
    unacked = browser.get("/console/escalations?acknowledged=no").get_data(as_text=True)
    assert "Called Anna" not in unacked
    assert conflict.ref in browser.get(f"/console/conflicts/{conflict.id}").get_data(as_text=True)


def test_partners_cannot_see_or_acknowledge_escalations(browser) -> None:
    _, user, _ = _escalated()
    breach = db.session.scalar(select(Escalation).where(Escalation.level == "breach"))
    browser.login(user.email)
    assert browser.get("/console/escalations").status_code == 403
    assert (
        browser.post(f"/console/escalations/{breach.id}/acknowledge", {"note": "x"}).status_code
        == 403
    )
    assert db.session.get(Escalation, breach.id).acknowledged_at is None
    page = browser.get("/portal/conflicts").get_data(as_text=True)
    assert "Maya" not in browser.get("/notifications").get_data(as_text=True)
    assert page


def test_unknown_escalation_is_404(browser) -> None:
    browser.login(make_manager().email)
    assert browser.post("/console/escalations/999/acknowledge", {"note": ""}).status_code == 404


def test_preferences_turn_channels_off_within_the_role(browser, new_browser) -> None:
    owner = make_manager()
    browser.login(owner.email)
    page = browser.get("/notifications/preferences").get_data(as_text=True)
    assert "SLA escalations" in page
    browser.post(
        "/notifications/preferences", {"pref-escalations-in_app": "on", "pref-updates-in_app": "on"}
    )
    partner = make_partner(name="Northwind", owner_id=owner.id)
    user = make_partner_user(partner=partner)
    conflict = make_conflict(user, severity="critical", now=MONDAY_10_BERLIN)
    sweep(ONE_HOUR_LATER)
    assert db.session.scalar(
        select(Notification.id).where(
            Notification.user_id == owner.id, Notification.kind == "escalation"
        )
    )
    assert (
        db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.recipient_id == owner.id))
        is None
    )
    partner_view = new_browser()
    partner_view.login(user.email)
    partner_page = partner_view.get("/notifications/preferences").get_data(as_text=True)
    assert "SLA escalations" not in partner_page
    partner_view.post("/notifications/preferences", {"pref-escalations-email": "on"})
    conflicts.comment(owner, conflict.id, "On it", now=ONE_HOUR_LATER)
    assert (
        db.session.scalar(
            select(Notification.id).where(
                Notification.user_id == user.id, Notification.kind == "reply"
            )
        )
        is None
    )  # the partner turned in-app updates off (only unknown boxes were sent)
