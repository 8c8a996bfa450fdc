"""The manager console through HTTP: queue, replies versus notes, actions, assignment, links."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import (
    RESOLUTION,
    WHEN,
    make_conflict,
    make_manager,
    make_partner,
    make_partner_user,
    triage,
)
from tracker.extensions import db
from tracker.models import Conflict, ConflictEvent
from tracker.services import conflicts


def _queue(browser, **params) -> str:  # type: ignore[no-untyped-def]
    return browser.get("/console/queue", query_string=params).get_data(as_text=True)


def test_queue_lists_open_work_oldest_first_and_hides_closed(browser) -> None:
    manager = make_manager()
    user = make_partner_user()
    old = make_conflict(user, title="Oldest conflict here", now=WHEN)
    new = make_conflict(user, title="Newest conflict here", now=WHEN + timedelta(hours=5))
    done = make_conflict(user, title="Withdrawn one", now=WHEN + timedelta(hours=1))
    conflicts.act(user, done.id, "withdraw", {"reason": "raised_in_error"}, now=WHEN)
    browser.login(manager.email)
    html = _queue(browser)
    assert html.index(old.ref) < html.index(new.ref)
    assert done.ref not in html
    assert done.ref in _queue(browser, status="closed")


def test_queue_filters_and_search(browser) -> None:
    manager = make_manager()
    other_manager = make_manager()
    north = make_partner_user(partner=make_partner(name="Northwind"))
    blue = make_partner_user(partner=make_partner(name="Bluefin"))
    a = make_conflict(north, title="Late payment of invoice 4711", severity="critical")
    b = make_conflict(
        blue, title="Pallets at the wrong dock", description="Dock 4, not dock 1.",
        severity="low", category="delivery",
    )  # fmt: skip
    c = make_conflict(
        blue, title="Handover without history", description="The account history was missing.",
        severity="high",
    )  # fmt: skip
    triage(c, other_manager)
    triage(b, manager)
    browser.login(manager.email)
    only = lambda html: {r for r in (a.ref, b.ref, c.ref) if r in html}  # noqa: E731
    assert only(_queue(browser, partner_id=north.partner_id)) == {a.ref}
    assert only(_queue(browser, severity="low")) == {b.ref}
    assert only(_queue(browser, assignee="me")) == {b.ref}
    assert only(_queue(browser, assignee="none")) == {a.ref}
    assert only(_queue(browser, assignee=str(other_manager.id))) == {c.ref}
    assert only(_queue(browser, status="open")) == {a.ref}
    assert only(_queue(browser, q="invoice")) == {a.ref}
    assert only(_queue(browser, q="account history")) == {c.ref}
    assert only(_queue(browser, q="100%_")) == set()
    assert only(_queue(browser, partner_id="abc", severity="nope")) == {a.ref, b.ref, c.ref}


def test_queue_is_paged(browser) -> None:
    user = make_partner_user()
    refs = [make_conflict(user, now=WHEN + timedelta(minutes=i)).ref for i in range(27)]
    browser.login(make_manager().email)
    first, second = _queue(browser), _queue(browser, page=2)
    assert refs[0] in first and refs[24] in first and refs[25] not in first
    assert refs[25] in second and refs[26] in second and refs[0] not in second
    assert "Page 1 of 2" in first


def test_public_reply_and_internal_note_are_two_clear_choices(browser, new_browser) -> None:
    manager = make_manager()
    user = make_partner_user()
    conflict = make_conflict(user)
    browser.login(manager.email)
    page = browser.get(f"/console/conflicts/{conflict.id}").get_data(as_text=True)
    # Two named buttons, nothing preselected; the internal one says so in words and colour.
    assert '<button type="submit" name="visibility" value="public"' in page
    assert ">Send public reply</button>" in page and ">Add internal note</button>" in page
    assert 'class="compose-internal"' in page and "the partner never sees it" in page
    assert ">Send</button>" not in page and "checked" not in page.split('id="reply"')[1]
    browser.post(
        f"/console/conflicts/{conflict.id}/message",
        {"body": "Public words", "visibility": "public"},
    )
    browser.post(
        f"/console/conflicts/{conflict.id}/message",
        {"body": "Private words", "visibility": "internal"},
    )
    kinds = {e.body: (e.kind, e.visibility) for e in db.session.scalars(select(ConflictEvent))}
    assert kinds["Public words"] == ("reply", "public")
    assert kinds["Private words"] == ("internal_note", "internal")
    page = browser.get(f"/console/conflicts/{conflict.id}").get_data(as_text=True)
    assert "Private words" in page and "Internal</span>" in page
    partner = new_browser()
    partner.login(user.email)
    partner_page = partner.get(f"/portal/conflicts/{conflict.id}").get_data(as_text=True)
    assert "Public words" in partner_page and "Private words" not in partner_page


def test_message_with_an_unknown_visibility_is_refused(browser) -> None:
    conflict = make_conflict()
    browser.login(make_manager().email)
    browser.post(
        f"/console/conflicts/{conflict.id}/message", {"body": "hmm", "visibility": "everyone"}
    )
    assert db.session.scalar(select(ConflictEvent).where(ConflictEvent.body == "hmm")) is None


def test_manager_walks_the_workflow_with_required_fields(browser) -> None:
    manager = make_manager()
    conflict = make_conflict()
    browser.login(manager.email)
    url = f"/console/conflicts/{conflict.id}/actions"
    response = browser.post(
        f"{url}/triage", {"severity": "critical", "category": "delivery"}, follow_redirects=True
    )
    assert "Assignee" in response.get_data(as_text=True)
    assert db.session.get(Conflict, conflict.id).status == "open"
    browser.post(
        f"{url}/triage", {"severity": "critical", "category": "delivery", "assignee_id": manager.id}
    )
    assert db.session.get(Conflict, conflict.id).status == "triaged"
    response = browser.post(f"{url}/resolve", {"summary": "Done"}, follow_redirects=True)
    assert db.session.get(Conflict, conflict.id).status == "triaged"
    browser.post(f"{url}/resolve", RESOLUTION)
    conflict = db.session.get(Conflict, conflict.id)
    assert (conflict.status, conflict.accountable_side) == ("resolved", "us")


def test_triage_defaults_the_assignee_to_the_relationship_owner(browser) -> None:
    owner = make_manager(name="Relationship Owner")
    partner = make_partner(owner_id=owner.id)
    conflict = make_conflict(make_partner_user(partner=partner))
    browser.login(make_manager().email)
    page = browser.get(f"/console/conflicts/{conflict.id}").get_data(as_text=True)
    form = page[page.index('id="action-triage"') :]
    assert f'<option selected value="{owner.id}">Relationship Owner</option>' in form


def test_assign_change_fields_and_link_from_the_page(browser) -> None:
    manager = make_manager()
    colleague = make_manager(name="Colleague")
    user = make_partner_user()
    earlier = make_conflict(user, now=WHEN)
    conflict = make_conflict(user, now=WHEN + timedelta(days=1))
    browser.login(manager.email)
    base = f"/console/conflicts/{conflict.id}"
    browser.post(f"{base}/assign", {"assignee_id": colleague.id})
    browser.post(f"{base}/fields", {"severity": "low", "category": "quality"})
    browser.post(f"{base}/link", {"earlier_ref": earlier.ref})
    conflict = db.session.get(Conflict, conflict.id)
    assert (conflict.assignee_id, conflict.severity, conflict.category) == (
        colleague.id,
        "low",
        "quality",
    )
    assert conflict.repeat_of_id == earlier.id
    earlier_page = browser.get(f"/console/conflicts/{earlier.id}").get_data(as_text=True)
    assert conflict.ref in earlier_page
    bad = browser.post(f"{base}/assign", {"assignee_id": user.id}, follow_redirects=True)
    assert "active alliance manager" in bad.get_data(as_text=True)
    assert db.session.get(Conflict, conflict.id).assignee_id == colleague.id


def test_bulk_assign_and_triage(browser) -> None:
    manager = make_manager()
    colleague = make_manager()
    a, b = make_conflict(), make_conflict()
    browser.login(manager.email)
    browser.post(
        "/console/queue/bulk",
        {"conflict_ids": [a.id, b.id], "operation": "assign", "assignee_id": colleague.id,
         "severity": "low", "category": "other"},
    )  # fmt: skip
    assert {db.session.get(Conflict, x.id).assignee_id for x in (a, b)} == {colleague.id}
    assert {db.session.get(Conflict, x.id).status for x in (a, b)} == {"open"}
    browser.post(
        "/console/queue/bulk",
        {"conflict_ids": [a.id, b.id], "operation": "triage", "assignee_id": manager.id,
         "severity": "medium", "category": "delivery"},
    )  # fmt: skip
    assert {db.session.get(Conflict, x.id).status for x in (a, b)} == {"triaged"}
    response = browser.post("/console/queue/bulk", {"operation": "triage"}, follow_redirects=True)
    assert "Select at least one conflict" in response.get_data(as_text=True)


def test_closed_conflict_cannot_be_reassigned(browser) -> None:
    manager = make_manager()
    user = make_partner_user()
    conflict = make_conflict(user)
    triage(conflict, manager)
    conflicts.act(manager, conflict.id, "resolve", RESOLUTION, now=WHEN)
    conflicts.act(user, conflict.id, "accept", {}, now=WHEN)
    browser.login(manager.email)
    response = browser.post(
        f"/console/conflicts/{conflict.id}/assign",
        {"assignee_id": manager.id},
        follow_redirects=True,
    )
    assert "reopen it first" in response.get_data(as_text=True)


def test_missing_conflict_is_404_for_managers_too(browser) -> None:
    browser.login(make_manager().email)
    assert browser.get("/console/conflicts/424242").status_code == 404
    assert browser.post("/console/conflicts/424242/message", {"body": "x"}).status_code == 404


def test_bulk_triage_keeps_each_conflicts_own_severity_and_category_unless_chosen(browser) -> None:
    manager = make_manager()
    a = make_conflict(severity="critical", category="delivery")
    b = make_conflict(severity="low", category="contract")
    browser.login(manager.email)
    page = browser.get("/console/queue").get_data(as_text=True)
    assert (
        "— keep each conflict&#39;s —" in page
        and '<option selected value="">— choose —</option>' in page
    )
    response = browser.post(
        "/console/queue/bulk",
        {
            "conflict_ids": [a.id, b.id],
            "operation": "triage",
            "assignee_id": "",
            "severity": "",
            "category": "",
        },
        follow_redirects=True,
    )
    assert "Choose who the selected conflicts go to." in response.get_data(as_text=True)
    assert {db.session.get(Conflict, x.id).status for x in (a, b)} == {"open"}
    browser.post(
        "/console/queue/bulk",
        {
            "conflict_ids": [a.id, b.id],
            "operation": "triage",
            "assignee_id": manager.id,
            "severity": "",
            "category": "",
        },
    )
    a, b = db.session.get(Conflict, a.id), db.session.get(Conflict, b.id)
    assert (a.status, a.severity, a.category) == ("triaged", "critical", "delivery")
    assert (b.status, b.severity, b.category) == ("triaged", "low", "contract")
    again = browser.post(
        "/console/queue/bulk",
        {
            "conflict_ids": [a.id],
            "operation": "triage",
            "assignee_id": manager.id,
            "severity": "",
            "category": "",
        },
        follow_redirects=True,
    )
    assert "already triaged; bulk triage applies to open conflicts only" in again.get_data(
        as_text=True
    )


def test_the_deadline_is_summarised_under_the_title(browser) -> None:
    conflict = make_conflict(severity="critical", now=WHEN)
    browser.login(make_manager().email)
    html = browser.get(f"/console/conflicts/{conflict.id}").get_data(as_text=True)
    summary = html[html.index('<p class="sla-summary">') :][:600]
    assert "time to triage due" in summary and "Breached" in summary


def test_a_message_without_a_choice_goes_nowhere(browser) -> None:
    manager = make_manager()
    conflict = make_conflict(make_partner_user())
    browser.login(manager.email)
    before = db.session.scalar(select(func.count()).select_from(ConflictEvent))
    browser.post(f"/console/conflicts/{conflict.id}/message", {"body": "Which way?"})
    assert db.session.scalar(select(func.count()).select_from(ConflictEvent)) == before


def test_the_conflict_page_has_unique_ids_and_named_selects(browser) -> None:
    import re
    from collections import Counter

    manager = make_manager()
    conflict = make_conflict(make_partner_user())
    browser.login(manager.email)
    page = browser.get(f"/console/conflicts/{conflict.id}").get_data(as_text=True)
    ids = Counter(re.findall(r'\sid="([^"]+)"', page))
    # (hidden CSRF inputs share Flask-WTF's id; they are never labelled or focused)
    assert [i for i, n in ids.items() if n > 1] == []  # the CSRF inputs carry no id
    for select_id in re.findall(r'<select[^>]*id="([^"]+)"', page):
        assert f'for="{select_id}"' in page, select_id
    assert 'id="triage-severity"' in page and 'id="side-severity"' in page


def test_the_queue_links_the_title_and_keeps_the_reference_on_one_line(browser) -> None:
    manager = make_manager()
    conflict = make_conflict(make_partner_user(), title="Pallets at the wrong dock")
    browser.login(manager.email)
    html = browser.get("/console/queue").get_data(as_text=True)
    assert f'<a href="/console/conflicts/{conflict.id}">Pallets at the wrong dock</a>' in html
    assert f'<td data-label="Reference" class="ref">{conflict.ref}</td>' in html
