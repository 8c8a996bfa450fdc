"""List rows and timelines built in Python (tracker.web.conflict_rows) still escape what
people typed, and still say what the macros said."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.factories import WHEN, make_conflict, make_manager, make_partner, make_partner_user
from tracker.services import conflicts
from tracker.web import timeline_view

SCRIPT_TITLE = '<script>alert("x")</script> & pallets'
ESCAPED_TITLE = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; pallets"


def _hostile(name: str = '<b onmouseover="x">Bad & Co</b>'):  # type: ignore[no-untyped-def]
    partner = make_partner(name=name)
    user = make_partner_user(partner=partner)
    return user, make_conflict(user, title=SCRIPT_TITLE)


def test_a_script_title_in_a_queue_row_is_shown_as_text(browser) -> None:
    manager = make_manager(name='Eve <img src=x onerror="1">')
    _user, conflict = _hostile()
    conflicts.assign(manager, conflict.id, manager.id, now=conflict.created_at)
    browser.login(manager.email)
    html = browser.get("/console/queue").get_data(as_text=True)
    assert "<script>alert" not in html and "<b onmouseover" not in html
    assert "<img src=x" not in html
    assert ESCAPED_TITLE in html
    assert "&lt;b onmouseover=&#34;x&#34;&gt;Bad &amp; Co&lt;/b&gt;" in html
    assert f'<a href="/console/conflicts/{conflict.id}">{ESCAPED_TITLE}</a>' in html
    assert f'aria-label="Select {conflict.ref}"' in html


def test_a_queue_row_names_its_partner_from_the_filter_list_escaped_in_both(browser) -> None:
    # The row's partner comes from the partner filter's list the page reads anyway.
    manager = make_manager()
    _user, conflict = _hostile()
    browser.login(manager.email)
    html = browser.get("/console/queue").get_data(as_text=True)
    shown = "&lt;b onmouseover=&#34;x&#34;&gt;Bad &amp; Co&lt;/b&gt;"
    assert f'<td data-label="Partner">{shown}</td>' in html
    assert f'<option value="{conflict.partner_id}">{shown}</option>' in html


def test_a_script_title_in_a_partner_row_is_shown_as_text(browser) -> None:
    user, conflict = _hostile()
    browser.login(user.email)
    html = browser.get("/portal/conflicts").get_data(as_text=True)
    assert "<script>alert" not in html
    assert f'<a href="/portal/conflicts/{conflict.id}">{ESCAPED_TITLE}</a>' in html


def test_a_searched_row_marks_its_match_and_escapes_the_passage(browser) -> None:
    manager = make_manager()
    _hostile()
    browser.login(manager.email)
    html = browser.get("/console/queue", query_string={"q": "pallets"}).get_data(as_text=True)
    assert "<script>alert" not in html
    assert "<mark>pallets</mark>" in html


def _event(kind: str, data: dict | None = None) -> SimpleNamespace:
    return SimpleNamespace(kind=kind, data=data)


# The words of the former event_summary macro, one row per branch.
SUMMARIES = [
    ("submitted", None, "raised the conflict"),
    ("comment", None, "commented"),
    ("reply", {}, "replied"),
    ("internal_note", None, "wrote an internal note"),
    ("assigned", {"after": "Bo", "before": "Ada"}, "assigned it to Bo (was Ada)"),
    ("assigned", {"after": None}, "assigned it to nobody"),
    ("field_changed", {"field": "severity", "before": "low", "after": "high"},
     "changed severity from Low to High"),
    ("field_changed", {"field": "category", "before": "delivery", "after": "odd"},
     "changed category from Delivery to odd"),
    ("field_changed", {"field": "colour", "before": "red", "after": "blue"},
     "changed colour from red to blue"),
    ("escalated", {"level": "critical"}, "escalated to senior management"),
    ("escalated", {"level": "warning"}, "escalated within the alliance team"),
    ("escalated_internal", {"level": "breach", "clock": "triage"},
     "Breach escalation of time to triage clock"),
    ("escalation_acknowledged", {"level": "warning"}, "acknowledged the warning escalation"),
    ("sla_reapplied", {"policy": "Gold"}, "re-applied the agreement Gold"),
    ("linked", {"repeat_of": "TR-1"}, "linked it as a repeat of TR-1"),
    ("linked", {"repeated_by": "TR-2"}, "noted a repeat: TR-2"),
    ("status_changed", {"action": "triage", "severity_now": "high"}, "triaged it (high severity)"),
    ("status_changed", {"action": "wait_on_partner"}, "asked the partner for information"),
    ("status_changed", {"action": "resume", "automatic": True},
     "resumed work after the partner's reply"),
    ("status_changed", {"action": "resume"}, "resumed work"),
    ("status_changed", {"action": "resolve"}, "resolved it"),
    ("status_changed", {"action": "accept"}, "accepted the resolution"),
    ("status_changed", {"action": "dispute"}, "disputed the resolution"),
    ("status_changed", {"action": "reopen"}, "reopened it"),
    ("status_changed", {"action": "withdraw", "reason": "settled_elsewhere"},
     "withdrew it (settled elsewhere)"),
    ("status_changed", {"action": "auto_close"},
     "closed it after 7 days without answer (accepted by default)"),
    ("status_changed", {"to": "waiting_on_partner"}, "moved it to waiting on partner"),
    ("status_changed", {"to": "limbo"}, "moved it to limbo"),
    ("rating_added", None, "rating added"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "data", "expected"), SUMMARIES)
def test_each_kind_of_entry_says_what_the_macro_said(app, kind, data, expected) -> None:
    with app.test_request_context():
        assert timeline_view.summary(_event(kind, data)) == expected


def test_a_resolution_entry_names_its_cause_and_side(app) -> None:
    event = SimpleNamespace(
        kind="status_changed",
        data={"action": "resolve", "root_cause": "capacity", "accountable_side": "nobody"},
    )
    with app.test_request_context():
        assert timeline_view._accountability(event) == (
            "Root cause: Capacity or staffing · Accountable: —"
        )


def test_a_script_comment_in_the_timeline_is_shown_as_text(browser) -> None:
    manager = make_manager(name="<i>Mallory</i>")
    user, conflict = _hostile()
    conflicts.comment(manager, conflict.id, "<script>x()</script> **bold**", now=WHEN)
    browser.login(manager.email)
    html = browser.get(f"/console/conflicts/{conflict.id}").get_data(as_text=True)
    assert "<script>" not in html and "<i>Mallory" not in html
    assert "&lt;i&gt;Mallory&lt;/i&gt; (alliance team)</strong> replied" in html
    assert "<strong>bold</strong>" in html
