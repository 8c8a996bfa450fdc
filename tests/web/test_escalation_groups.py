"""The Escalations page: one row per conflict, how late it is, and one "Acknowledge all"."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import make_conflict, make_manager, make_partner, make_partner_user
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import ConflictEvent, Escalation
from tracker.services import escalations
from tracker.web.console import routes as console_routes

MONDAY_10_BERLIN = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
THURSDAY_NOON_BERLIN = datetime(2026, 11, 19, 11, 0, tzinfo=UTC)


def _late_conflict(owner=None, **overrides):  # type: ignore[no-untyped-def]
    owner = owner or make_manager()
    partner = make_partner(owner_id=owner.id)
    user = make_partner_user(partner=partner)
    return owner, make_conflict(user, severity="critical", now=MONDAY_10_BERLIN, **overrides)


@pytest.fixture(autouse=True)
def thursday_noon(monkeypatch):  # type: ignore[no-untyped-def]
    """The page reads the clock: make it the sweep's Thursday."""
    monkeypatch.setattr(console_routes, "utcnow", lambda: THURSDAY_NOON_BERLIN)


def _acknowledgements(conflict_id: int) -> int:
    return db.session.scalar(
        select(func.count(ConflictEvent.id)).where(
            ConflictEvent.conflict_id == conflict_id,
            ConflictEvent.kind == "escalation_acknowledged",
        )
    )


def test_one_row_per_conflict_lists_its_levels_and_says_how_late_it_is(browser) -> None:
    owner, conflict = _late_conflict(title="Pallets missing at Hamburg")
    sweep(THURSDAY_NOON_BERLIN)
    levels = db.session.scalars(select(Escalation).where(Escalation.conflict_id == conflict.id))
    assert {(e.clock, e.level) for e in levels} == {
        (clock, level)
        for clock in ("triage", "resolution")
        for level in ("warning", "breach", "critical")
    }
    browser.login(owner.email)
    page = browser.get("/console/escalations").get_data(as_text=True)
    rows = re.findall(r"<tr class=\"escalation-[a-z]+\">", page)
    assert len(rows) == 1  # six levels (two clocks), one row
    assert page.count("Acknowledge all (6)") == 1
    assert "overdue by 3 days" in page
    assert ">Age<" not in page
    assert f'<a href="/console/conflicts/{conflict.id}">Pallets missing at Hamburg</a>' in page
    assert (
        page.index(">Critical</span>")
        < page.index(">Breach</span>")
        < page.index(">Warning</span>")
    )


def test_acknowledge_all_takes_every_open_level_with_one_entry_each(browser) -> None:
    owner, conflict = _late_conflict()
    sweep(THURSDAY_NOON_BERLIN)
    browser.login(owner.email)
    response = browser.post(
        f"/console/escalations/conflicts/{conflict.id}/acknowledge",
        {"note": "Called Anna, fix by noon."},
        follow_redirects=True,
    )
    assert "Acknowledged 6 levels: their reminders stop." in response.get_data(as_text=True)
    db.session.expire_all()
    rows = db.session.scalars(select(Escalation).where(Escalation.conflict_id == conflict.id))
    for row in rows:
        assert row.acknowledged_by_id == owner.id and row.next_reminder_at is None
        assert row.acknowledgement_note == "Called Anna, fix by noon."
    assert _acknowledgements(conflict.id) == 6
    again = browser.post(
        f"/console/escalations/conflicts/{conflict.id}/acknowledge",
        {"note": ""},
        follow_redirects=True,
    )
    assert again.status_code == 200
    assert "Nothing left to acknowledge" in again.get_data(as_text=True)
    assert _acknowledgements(conflict.id) == 6
    page = browser.get("/console/escalations").get_data(as_text=True)
    assert "All acknowledged" in page and "Acknowledge all (" not in page


def test_a_higher_level_reached_later_fires_and_can_be_acknowledged(browser) -> None:
    owner, conflict = _late_conflict()
    sweep(MONDAY_10_BERLIN + timedelta(minutes=50))  # the warning only
    browser.login(owner.email)
    browser.post(f"/console/escalations/conflicts/{conflict.id}/acknowledge", {"note": ""})
    sweep(THURSDAY_NOON_BERLIN)
    page = browser.get("/console/escalations?acknowledged=no").get_data(as_text=True)
    assert "Acknowledge all (5)" in page  # the triage warning stays acknowledged


def test_partners_cannot_acknowledge_and_bad_input_changes_nothing(browser, new_browser) -> None:
    owner, conflict = _late_conflict()
    sweep(THURSDAY_NOON_BERLIN)
    partner = new_browser()
    partner.login(make_partner_user(partner=conflict.partner).email)
    url = f"/console/escalations/conflicts/{conflict.id}/acknowledge"
    assert partner.post(url, {"note": "x"}).status_code == 403
    browser.login(owner.email)
    assert browser.post("/console/escalations/conflicts/99999/acknowledge").status_code == 404
    too_long = browser.post(url, {"note": "x" * 2001}, follow_redirects=True)
    assert too_long.status_code == 200
    assert "at most 2,000 characters" in too_long.get_data(as_text=True)
    assert browser.client.post(url, data={"note": "no token"}).status_code == 400
    assert _acknowledgements(conflict.id) == 0


def test_pages_hold_whole_conflicts(app) -> None:
    owner = make_manager()
    ids = [_late_conflict(owner)[1].id for _ in range(3)]
    sweep(THURSDAY_NOON_BERLIN)
    first = escalations.grouped_page(None, None, 1, per_page=2)
    second = escalations.grouped_page(None, None, 2, per_page=2)
    assert first.total == 3 and first.pages == 2
    shown = [g.conflict.id for g in first.items + second.items]
    assert sorted(shown) == sorted(ids)
    assert all(len(g.levels) == 6 for g in first.items + second.items)
