"""Comments and events: what each caller may see and write."""

from __future__ import annotations

from tests.api.conftest import assert_problem
from tests.factories import make_conflict, make_manager, make_partner_user, triage
from tracker.services import conflicts


def _with_internal_note():  # type: ignore[no-untyped-def]
    user, manager = make_partner_user(), make_manager()
    conflict = make_conflict(user)
    triage(conflict, manager)
    conflicts.comment(
        manager, conflict.id, "Finance is slow again.", internal=True, now=conflict.created_at
    )
    return user, manager, conflict


def test_a_partner_comments_and_sees_it_in_the_timeline(api) -> None:
    user = make_partner_user()
    conflict = make_conflict(user)
    response = api(user).post(
        f"/api/v1/conflicts/{conflict.id}/comments", json={"body": "Any news?"}
    )
    assert response.status_code == 201
    event = response.get_json()
    assert event["kind"] == "comment" and event["visibility"] == "public"
    assert event["actor"] == {"id": user.id, "name": user.name}
    comments = api(user).get(f"/api/v1/conflicts/{conflict.id}/comments").get_json()["items"]
    assert [c["body"] for c in comments] == ["Any news?"]


def test_partners_never_see_internal_notes_or_events(api) -> None:
    user, manager, conflict = _with_internal_note()
    partner_events = api(user).get(f"/api/v1/conflicts/{conflict.id}/events").get_json()["items"]
    assert partner_events and all(e["visibility"] == "public" for e in partner_events)
    assert "Finance is slow again." not in str(partner_events)
    partner_comments = api(user).get(f"/api/v1/conflicts/{conflict.id}/comments").get_json()
    assert partner_comments["items"] == []
    staff_comments = api(manager).get(f"/api/v1/conflicts/{conflict.id}/comments").get_json()
    assert [c["kind"] for c in staff_comments["items"]] == ["internal_note"]
    staff_events = api(manager).get(f"/api/v1/conflicts/{conflict.id}/events").get_json()["items"]
    assert len(staff_events) > len(partner_events)


def test_only_managers_write_internal_notes(api) -> None:
    user = make_partner_user()
    conflict = make_conflict(user)
    response = api(user).post(
        f"/api/v1/conflicts/{conflict.id}/comments", json={"body": "psst", "internal": True}
    )
    assert_problem(response, 403)
    manager = make_manager()
    note = api(manager).post(
        f"/api/v1/conflicts/{conflict.id}/comments", json={"body": "psst", "internal": True}
    )
    assert note.status_code == 201 and note.get_json()["visibility"] == "internal"


def test_another_partners_comments_and_events_are_404(api) -> None:
    conflict = make_conflict(make_partner_user())
    stranger = api(make_partner_user())
    assert_problem(stranger.get(f"/api/v1/conflicts/{conflict.id}/comments"), 404)
    assert_problem(stranger.get(f"/api/v1/conflicts/{conflict.id}/events"), 404)
    posted = stranger.post(f"/api/v1/conflicts/{conflict.id}/comments", json={"body": "Hi"})
    assert_problem(posted, 404)


def test_an_empty_comment_is_422(api) -> None:
    user = make_partner_user()
    conflict = make_conflict(user)
    response = api(user).post(f"/api/v1/conflicts/{conflict.id}/comments", json={"body": ""})
    assert "body" in assert_problem(response, 422)["errors"]
