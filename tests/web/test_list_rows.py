"""List rows and timelines built in Python (tracker.web.conflict_rows) still escape what
people typed, and still say what the macros said."""

from __future__ import annotations

from tests.factories import make_conflict, make_manager, make_partner, make_partner_user
from tracker.services import conflicts

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
