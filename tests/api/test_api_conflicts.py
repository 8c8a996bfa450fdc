"""Conflicts through the API: raise, list, read, act; the same rules as the pages."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem
from tests.factories import (
    RESOLUTION,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tracker.extensions import db
from tracker.models import Conflict

NEW = {
    "title": "Delivery 881 arrived two weeks late",
    "description": "Promised for the 1st, arrived on the 15th.",
    "category": "delivery",
    "severity": "medium",
}


def test_a_partner_raises_a_conflict_and_gets_it_back(api) -> None:
    user = make_partner_user()
    response = api(user).post("/api/v1/conflicts", json=NEW)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["ref"].startswith("TR-") and body["status"] == "open"
    assert body["partner"] == {"id": user.partner_id, "name": user.partner.name}
    assert body["assignee"] is None and body["links"] == {"repeat_of": None, "repeated_by": []}
    assert body["sla"]["state"] == "on_track" and body["sla"]["paused"] is False
    assert body["sla"]["triage_due_at"].endswith("+00:00")
    assert body["created_at"].endswith("+00:00")
    assert "/portal/conflicts/" in body["url"]
    assert db.session.get(Conflict, body["id"]).created_by_id == user.id


def test_a_manager_raises_one_for_a_named_partner(api) -> None:
    manager, partner = make_manager(), make_partner()
    missing = api(manager).post("/api/v1/conflicts", json=NEW)
    assert "partner_id" in assert_problem(missing, 422)["errors"]
    response = api(manager).post("/api/v1/conflicts", json={**NEW, "partner_id": partner.id})
    assert response.status_code == 201
    assert response.get_json()["partner"]["id"] == partner.id
    assert "/console/conflicts/" in response.get_json()["url"]


def test_a_partner_cannot_raise_one_for_another_partner(api) -> None:
    user, other = make_partner_user(), make_partner()
    response = api(user).post("/api/v1/conflicts", json={**NEW, "partner_id": other.id})
    assert_problem(response, 404)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "abc"}, "title"),
        ({"category": "weather"}, "category"),
        ({"severity": None}, "severity"),
        ({"surprise": 1}, "surprise"),
        ({"description": ""}, "description"),
    ],
)
def test_invalid_conflicts_are_422_with_the_field(api, change, field) -> None:
    body = {**NEW, **change}
    problem = assert_problem(api(make_partner_user()).post("/api/v1/conflicts", json=body), 422)
    assert field in problem["errors"]


def test_a_partner_cannot_see_other_partners_conflict(api) -> None:
    mine, theirs = make_partner_user(), make_partner_user()
    conflict = make_conflict(theirs)
    client = api(mine)
    assert_problem(client.get(f"/api/v1/conflicts/{conflict.id}"), 404)
    assert client.get("/api/v1/conflicts").get_json()["items"] == []
    action = {"action": "accept"}
    assert_problem(client.post(f"/api/v1/conflicts/{conflict.id}/actions", json=action), 404)


def test_the_partner_sees_no_assignee_but_the_manager_does(api) -> None:
    user, manager = make_partner_user(), make_manager()
    conflict = make_conflict(user)
    triage(conflict, manager)
    assert api(user).get(f"/api/v1/conflicts/{conflict.id}").get_json()["assignee"] is None
    staff_view = api(manager).get(f"/api/v1/conflicts/{conflict.id}").get_json()
    assert staff_view["assignee"] == {"id": manager.id, "name": manager.name}


def test_cursor_pagination_walks_every_conflict_exactly_once(api) -> None:
    user = make_partner_user()
    ids = {make_conflict(user).id for _ in range(7)}
    make_conflict(make_partner_user())  # another partner's: never listed
    client, seen, url, pages = api(user), [], "/api/v1/conflicts?limit=3", 0
    while url:
        body = client.get(url).get_json()
        seen.extend(item["id"] for item in body["items"])
        url, pages = body["next"], pages + 1
    assert pages == 3 and len(seen) == 7 and set(seen) == ids
    assert seen == sorted(seen, reverse=True)


def test_filters_narrow_the_list(api) -> None:
    user, manager = make_partner_user(), make_manager()
    first = make_conflict(user, severity="critical")
    make_conflict(user, severity="low")
    triage(first, manager)
    client = api(manager)
    items = client.get("/api/v1/conflicts?severity=critical").get_json()["items"]
    assert [i["id"] for i in items] == [first.id]
    assert [
        i["id"] for i in client.get("/api/v1/conflicts?status=triaged").get_json()["items"]
    ] == [first.id]
    by_assignee = client.get(f"/api/v1/conflicts?assignee_id={manager.id}").get_json()["items"]
    assert [i["id"] for i in by_assignee] == [first.id]
    other = client.get(f"/api/v1/conflicts?partner_id={user.partner_id + 999}").get_json()
    assert other["items"] == []
    later = client.get("/api/v1/conflicts?updated_since=2030-01-01T00:00:00Z").get_json()
    assert later["items"] == []
    assert len(client.get("/api/v1/conflicts?sla_state=on_track").get_json()["items"]) >= 1


@pytest.mark.parametrize(
    "query",
    [
        "status=lost",
        "severity=urgent",
        "sla_state=late",
        "partner_id=abc",
        "limit=0",
        "limit=101",
        "updated_since=yesterday",
        "updated_since=2026-11-16T09:00:00",
        "cursor=not-a-cursor",
        "colour=blue",
    ],
)
def test_invalid_filters_are_422(api, query) -> None:
    response = api(make_manager()).get(f"/api/v1/conflicts?{query}")
    problem = assert_problem(response, 422)
    assert query.split("=")[0] in problem["errors"]


def test_the_whole_lifecycle_through_actions(api) -> None:
    user, manager = make_partner_user(), make_manager()
    conflict = make_conflict(user)
    staff, partner = api(manager), api(user)
    url = f"/api/v1/conflicts/{conflict.id}/actions"
    triaged = staff.post(
        url,
        json={
            "action": "triage",
            "severity": "high",
            "category": "payment_terms",
            "assignee_id": manager.id,
        },
    )
    assert triaged.status_code == 200 and triaged.get_json()["status"] == "triaged"
    waiting = staff.post(url, json={"action": "wait_on_partner", "message": "Which invoice?"})
    assert waiting.get_json()["sla"]["paused"] is True
    assert staff.post(url, json={"action": "resume"}).get_json()["status"] == "triaged"
    resolved = staff.post(url, json={"action": "resolve", **RESOLUTION}).get_json()
    assert resolved["status"] == "resolved" and resolved["accountable_side"] == "us"
    disputed = partner.post(url, json={"action": "dispute", "reason": "Still unpaid."})
    assert disputed.get_json()["status"] == "triaged"
    staff.post(url, json={"action": "resolve", **RESOLUTION})
    closed = partner.post(url, json={"action": "accept"}).get_json()
    assert closed["status"] == "closed" and closed["closed_at"]


def test_an_illegal_action_is_409_with_the_reason(api) -> None:
    user = make_partner_user()
    conflict = make_conflict(user)
    response = api(user).post(f"/api/v1/conflicts/{conflict.id}/actions", json={"action": "accept"})
    body = assert_problem(response, 409)
    assert "cannot be accepted" in body["detail"]
    manager_only = api(user).post(
        f"/api/v1/conflicts/{conflict.id}/actions", json={"action": "resume"}
    )
    assert "alliance manager" in assert_problem(manager_only, 409)["detail"]


def test_an_action_missing_its_fields_is_422(api) -> None:
    manager = make_manager()
    conflict = make_conflict()
    response = api(manager).post(
        f"/api/v1/conflicts/{conflict.id}/actions", json={"action": "triage"}
    )
    errors = assert_problem(response, 422)["errors"]
    assert {"severity", "category", "assignee_id"} <= set(errors)
    unknown = api(manager).post(
        f"/api/v1/conflicts/{conflict.id}/actions", json={"action": "explode"}
    )
    assert "action" in assert_problem(unknown, 422)["errors"]


def test_a_partner_withdraws_with_a_reason(api) -> None:
    user = make_partner_user()
    conflict = make_conflict(user)
    url = f"/api/v1/conflicts/{conflict.id}/actions"
    bad = api(user).post(url, json={"action": "withdraw", "reason": "bored"})
    assert "reason" in assert_problem(bad, 422)["errors"]
    done = api(user).post(url, json={"action": "withdraw", "reason": "raised_in_error"})
    assert done.get_json()["status"] == "closed"


def test_links_show_repeats_to_staff_only(api) -> None:
    from tracker.services import conflicts

    user, manager = make_partner_user(), make_manager()
    first = make_conflict(user)
    second = make_conflict(user, title="Invoice 4712 paid late again")
    conflicts.link_repeat(manager, second.id, first.ref, now=second.created_at)
    staff_view = api(manager).get(f"/api/v1/conflicts/{first.id}").get_json()
    assert staff_view["links"]["repeated_by"] == [{"id": second.id, "ref": second.ref}]
    partner_view = api(user).get(f"/api/v1/conflicts/{second.id}").get_json()
    assert partner_view["links"] == {"repeat_of": None, "repeated_by": []}


def test_internal_activity_does_not_surface_a_conflict_for_partners(api) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.factories import make_conflict, make_manager, make_partner_user
    from tracker.services import conflicts as service

    user = make_partner_user()
    manager = make_manager()
    start = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    conflict = make_conflict(user, now=start)
    service.comment(
        manager, conflict.id, "internal only", internal=True, now=start + timedelta(days=2)
    )
    since = (start + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    partner_view = api(user, "read").get(f"/api/v1/conflicts?updated_since={since}").get_json()
    assert partner_view["items"] == []
    staff_view = api(manager, "read").get(f"/api/v1/conflicts?updated_since={since}").get_json()
    assert [c["id"] for c in staff_view["items"]] == [conflict.id]
    one = api(user, "read").get(f"/api/v1/conflicts/{conflict.id}").get_json()
    assert one["updated_at"].startswith("2026-11-16T09:00")


def test_search_is_ranked_scoped_and_carries_the_matched_passage(client) -> None:
    from tests.api.conftest import token_for
    from tracker.services import conflicts as conflict_service

    north = make_partner_user(partner=make_partner(name="Northwind"))
    blue = make_partner_user(partner=make_partner(name="Bluefin"))
    manager = make_manager()
    mentioned = make_conflict(north, title="Shipment delayed", description="Pallets were wet.")
    titled = make_conflict(north, title="Pallets at the wrong dock", description="Dock 4.")
    conflict_service.comment(
        manager, titled.id, "Pallets note", internal=True, now=titled.created_at
    )
    make_conflict(blue, title="Pallets missing", description="Not ours to see.")
    noted = make_conflict(north, title="Invoice query", description="Terms.")
    conflict_service.comment(
        manager, noted.id, "Pallets mentioned internally", internal=True, now=noted.created_at
    )
    headers = {"Authorization": f"Bearer {token_for(north, 'read')}"}
    body = client.get("/api/v1/conflicts?q=pallets&limit=1", headers=headers).get_json()
    assert [i["id"] for i in body["items"]] == [titled.id]
    assert any(p["hit"] and p["text"].lower() == "pallets" for p in body["items"][0]["match"])
    second = client.get(body["next"], headers=headers).get_json()
    assert [i["id"] for i in second["items"]] == [mentioned.id]
    assert second["next"] is None
    assert client.get("/api/v1/conflicts?q=%2A%22", headers=headers).get_json()["items"] == []
    plain = client.get("/api/v1/conflicts", headers=headers).get_json()
    assert all(i["match"] is None for i in plain["items"])
    forged = client.get(
        f"/api/v1/conflicts?q=pallets&cursor={plain['items'][0]['id']}", headers=headers
    )
    assert forged.status_code == 422


def test_estimates_give_the_forecast_and_refuse_unknown_values(client) -> None:
    from datetime import timedelta

    from tests.api.conftest import token_for
    from tracker.services import conflicts as conflict_service

    user, manager = make_partner_user(), make_manager()
    for week in range(5):
        conflict = make_conflict(user, category="delivery", severity="high")
        triage(conflict, manager)
        at = conflict.created_at + timedelta(hours=3 + week)
        conflict_service.act(manager, conflict.id, "resolve", RESOLUTION, now=at)
    headers = {"Authorization": f"Bearer {token_for(user, 'read')}"}
    body = client.get(
        "/api/v1/estimates?category=delivery&severity=high", headers=headers
    ).get_json()
    assert body["conflicts"] == 5 and body["shown"] is True
    assert body["median_business_hours"] == 5 and body["p90_business_hours"] == 7
    assert body["median_date"] is not None
    few = client.get("/api/v1/estimates?category=quality&severity=high", headers=headers)
    assert few.get_json()["shown"] is False and few.get_json()["median_business_hours"] is None
    bad = client.get("/api/v1/estimates?category=nope&severity=high", headers=headers)
    assert bad.status_code == 422
