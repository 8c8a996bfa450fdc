"""Partners and agreements, escalations, notifications."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.api.conftest import assert_problem
from tests.factories import make_conflict, make_manager, make_partner, make_partner_user
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import Escalation
from tracker.services import notifications

MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
ONE_HOUR_LATER = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


def test_staff_list_every_partner_and_partners_only_their_own(api) -> None:
    user = make_partner_user()
    make_partner()
    assert len(api(make_manager()).get("/api/v1/partners").get_json()["items"]) == 2
    own = api(user).get("/api/v1/partners").get_json()["items"]
    assert [p["id"] for p in own] == [user.partner_id]


def test_the_agreement_has_hours_holidays_and_targets(api) -> None:
    partner = make_partner(timezone="Europe/Berlin", country="DE")
    body = api(make_manager()).get(f"/api/v1/partners/{partner.id}/agreement").get_json()
    assert body["timezone"] == "Europe/Berlin" and body["24x7"] is False
    assert body["hours"]["mon"] == [["09:00", "17:00"]] and body["hours"]["sun"] == []
    assert body["targets"]["critical"] == {"triage": 60, "resolution": 480}
    assert set(body["targets"]) == {"low", "medium", "high", "critical"}
    assert body["warning_percent"] == 75 and body["holiday_country"] == "DE"
    assert isinstance(body["holidays"], list)


def test_a_partner_cannot_read_another_partners_agreement(api) -> None:
    user, other = make_partner_user(), make_partner()
    assert api(user).get(f"/api/v1/partners/{user.partner_id}/agreement").status_code == 200
    assert_problem(api(user).get(f"/api/v1/partners/{other.id}/agreement"), 404)
    assert_problem(api(make_manager()).get("/api/v1/partners/999999/agreement"), 404)


def _escalated():  # type: ignore[no-untyped-def]
    owner = make_manager()
    partner = make_partner(owner_id=owner.id)
    user = make_partner_user(partner=partner)
    conflict = make_conflict(user, severity="critical", now=MONDAY)
    sweep(ONE_HOUR_LATER)
    return owner, user, conflict


def test_managers_list_and_acknowledge_escalations(api) -> None:
    owner, _, conflict = _escalated()
    client = api(owner)
    items = client.get("/api/v1/escalations").get_json()["items"]
    assert {i["level"] for i in items} >= {"warning", "breach"}
    assert all(i["conflict"]["ref"] == conflict.ref for i in items)
    breach = db.session.scalar(select(Escalation).where(Escalation.level == "breach"))
    url = f"/api/v1/escalations/{breach.id}/acknowledge"
    done = client.post(url, json={"note": "On it."})
    assert done.status_code == 200
    assert done.get_json()["acknowledged_by"]["id"] == owner.id
    assert_problem(client.post(url, json={"note": "Again"}), 409)
    unacknowledged = client.get("/api/v1/escalations?acknowledged=false").get_json()["items"]
    assert breach.id not in [i["id"] for i in unacknowledged]
    assert_problem(client.post("/api/v1/escalations/999999/acknowledge", json={}), 404)


def test_partners_may_not_see_escalations(api) -> None:
    _, user, _ = _escalated()
    assert_problem(api(user).get("/api/v1/escalations"), 403)
    assert_problem(api(user).post("/api/v1/escalations/1/acknowledge", json={}), 403)


def test_partners_see_only_public_escalation_levels_on_conflicts(api) -> None:
    owner, user, conflict = _escalated()
    staff_level = api(owner).get(f"/api/v1/conflicts/{conflict.id}").get_json()["escalation_level"]
    partner_level = api(user).get(f"/api/v1/conflicts/{conflict.id}").get_json()["escalation_level"]
    assert staff_level == "breach" and partner_level == "breach"


def test_notifications_are_the_callers_own_and_paged(api) -> None:
    owner = make_manager()
    partner = make_partner(owner_id=owner.id)
    for _ in range(3):
        make_conflict(make_partner_user(partner=partner))
    client = api(owner)
    first = client.get("/api/v1/notifications?limit=2").get_json()
    assert len(first["items"]) == 2 and first["next"]
    second = client.get(first["next"]).get_json()
    assert len(second["items"]) == 1 and second["next"] is None
    assert api(make_manager()).get("/api/v1/notifications").get_json()["items"] == []
    notifications.mark_read(owner, ONE_HOUR_LATER, first["items"][0]["id"])
    unread = client.get("/api/v1/notifications?unread=true").get_json()["items"]
    assert len(unread) == 2
    read = client.get("/api/v1/notifications?unread=false").get_json()["items"]
    assert [n["id"] for n in read] == [first["items"][0]["id"]] and read[0]["read_at"]
