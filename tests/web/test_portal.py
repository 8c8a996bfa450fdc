"""The partner portal through HTTP: raising, following, isolation, safe rendering, uploads."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from tests.factories import WHEN, make_conflict, make_manager, make_partner_user, triage
from tracker.extensions import db
from tracker.models import Attachment, Conflict, Notification
from tracker.services import api_tokens, conflict_access, conflicts, timeline
from tracker.services.attachments import MAX_ATTACHMENT_BYTES
from tracker.services.attachments import Upload as FileUpload

PDF = b"%PDF-1.4 minimal test file"
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")  # <converter(args):name>


def _raise(browser, **overrides):  # type: ignore[no-untyped-def]
    data = {
        "title": "Pallets delivered to the wrong dock",
        "description": "Three pallets went to dock 4 instead of dock 1.",
        "category": "delivery",
        "severity": "high",
    }
    data.update(overrides)
    return browser.post("/portal/conflicts/new", data, content_type="multipart/form-data")


def test_partner_raises_a_conflict_and_sees_it_at_once(browser) -> None:
    user = make_partner_user()
    browser.login(user.email)
    response = _raise(browser)
    assert response.status_code == 302
    conflict = db.session.scalars(select(Conflict)).one()
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert conflict.ref in page and "was raised" in page
    listing = browser.get("/portal/conflicts").get_data(as_text=True)
    assert conflict.ref in listing and "Pallets delivered" in listing


def test_invalid_submission_shows_errors_and_creates_nothing(browser) -> None:
    browser.login(make_partner_user().email)
    response = _raise(browser, title="", category="gossip")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Give the conflict a title." in html and "Not a valid choice" in html
    assert db.session.scalar(select(Conflict.id)) is None


def test_the_category_must_be_chosen_not_defaulted(browser) -> None:
    browser.login(make_partner_user().email)
    page = browser.get("/portal/conflicts/new").get_data(as_text=True)
    assert '<option value="">— choose what it is about —</option>' in page  # the first, shown
    response = _raise(browser, category="")
    assert "Choose what the conflict is about." in response.get_data(as_text=True)
    assert db.session.scalar(select(Conflict.id)) is None


def test_colleagues_of_the_same_partner_see_each_others_conflicts(new_browser) -> None:
    author = make_partner_user()
    colleague = make_partner_user(partner=author.partner)
    conflict = make_conflict(author)
    browser = new_browser()
    browser.login(colleague.email)
    assert conflict.ref in browser.get("/portal/conflicts").get_data(as_text=True)
    assert browser.get(f"/portal/conflicts/{conflict.id}").status_code == 200


def test_another_partners_conflict_and_everything_under_it_answers_404(browser, app) -> None:
    owner = make_partner_user()
    manager = make_manager()
    conflict = make_conflict(owner, uploads=[FileUpload("terms.pdf", PDF)])
    notification_id = db.session.scalars(select(Notification.id)).first()
    attachment = db.session.scalars(select(Attachment)).one()
    stranger = make_partner_user()
    browser.login(stranger.email)
    assert conflict.ref not in browser.get("/portal/conflicts").get_data(as_text=True)
    assert browser.get(f"/portal/conflicts/{conflict.id}").status_code == 404
    _assert_no_route_shows_its_events(app, browser, stranger, conflict, manager)
    assert (
        browser.post(f"/portal/conflicts/{conflict.id}/comment", {"body": "hi"}).status_code == 404
    )
    for action in ("accept", "dispute", "reopen", "withdraw"):
        response = browser.post(
            f"/portal/conflicts/{conflict.id}/actions/{action}", {"reason": "x"}
        )
        assert response.status_code == 404, action
    assert browser.get(f"/attachments/{attachment.id}").status_code == 404
    assert browser.post(f"/notifications/{notification_id}/open").status_code == 404
    assert browser.get("/portal/conflicts/999999").status_code == 404
    assert db.session.get(Conflict, conflict.id).status == "open"


def _assert_no_route_shows_its_events(app, browser, stranger, conflict, manager) -> None:  # type: ignore[no-untyped-def]
    """Every GET route, in the browser and through the API, keyed by the other partner's ids."""
    marker = "EVENT-MARKER-7f3a"
    conflicts.comment(manager, conflict.id, marker, now=WHEN)  # a public event of theirs
    event_id = conflict_access.timeline(conflict, manager)[-1].id
    _, token = api_tokens.create(stranger, name="probe", scope="read", now=WHEN)
    ids = {"partner_id": conflict.partner_id, "event_id": event_id}
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        kinds = {kind for kind, _ in _ARGUMENT.findall(rule.rule)}
        if "GET" not in rule.methods or kinds - {"int"}:
            continue  # static files, invitation tokens: no ids to steal
        url = adapter.build(rule.endpoint, {a: ids.get(a, conflict.id) for a in rule.arguments})
        for response in (
            browser.get(url),
            browser.client.get(url, headers={"Authorization": f"Bearer {token}"}),
        ):
            assert marker not in response.get_data(as_text=True), url
            if rule.arguments:
                assert response.status_code in (401, 403, 404), (url, response.status_code)


def test_partners_cannot_enter_the_console(browser) -> None:
    conflict = make_conflict()
    browser.login(conflict.created_by.email)
    assert browser.get("/console/queue").status_code == 403
    assert browser.get(f"/console/conflicts/{conflict.id}").status_code == 403
    response = browser.post(
        f"/console/conflicts/{conflict.id}/message", {"body": "x", "visibility": "internal"}
    )
    assert response.status_code == 403


def test_internal_notes_and_files_never_reach_the_partner_page(browser, app) -> None:
    user = make_partner_user()
    manager = make_manager(name="Maya Internal")
    conflict = make_conflict(user)
    triage(conflict, manager)
    conflicts.comment(
        manager, conflict.id, "SECRET-NOTE finance was late",
        internal=True, uploads=[FileUpload("internal.pdf", PDF)], now=WHEN,
    )  # fmt: skip
    conflicts.comment(manager, conflict.id, "We are looking into it.", now=WHEN)
    browser.login(user.email)
    html = browser.get(f"/portal/conflicts/{conflict.id}").get_data(as_text=True)
    assert "SECRET-NOTE" not in html and "internal.pdf" not in html
    assert "We are looking into it." in html
    internal_file = db.session.scalars(select(Attachment)).one()
    assert browser.get(f"/attachments/{internal_file.id}").status_code == 404
    notes = browser.get("/notifications").get_data(as_text=True)
    assert "internal" not in notes.lower()


class _ActiveContent(HTMLParser):
    """Collects anything in rendered HTML that a browser would execute."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        if tag in ("script", "iframe", "object", "embed", "svg", "img", "style"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag}[{name}]")
            if name in ("href", "src") and (value or "").strip().lower().startswith(
                ("javascript:", "data:")
            ):
                self.found.append(f"{tag}[{name}={value}]")


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert('x')</script>",
        '<img src=x onerror="alert(1)">',
        "[click me](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "[x](JaVaScRiPt:alert(1))",
        '<svg onload="alert(1)"></svg>',
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        '<p style="background:url(javascript:alert(1))">x</p>',
    ],
)
def test_markdown_with_script_renders_inert(browser, markdown) -> None:
    user = make_partner_user()
    conflict = make_conflict(user, description=f"Hello **world**\n\n{markdown}")
    manager = make_manager()
    conflicts.comment(manager, conflict.id, markdown, now=WHEN)
    for viewer, url in ((user, f"/portal/conflicts/{conflict.id}"),):
        browser.login(viewer.email)
        html = browser.get(url).get_data(as_text=True)
        main = html[html.index('<main class="content"') : html.index("</main>")]
        assert "<strong>world</strong>" in main
        parser = _ActiveContent()
        parser.feed(main)
        assert parser.found == []


def test_safe_links_are_kept_with_rel(browser) -> None:
    user = make_partner_user()
    conflict = make_conflict(user, description="See [terms](https://example.com/terms).")
    browser.login(user.email)
    html = browser.get(f"/portal/conflicts/{conflict.id}").get_data(as_text=True)
    assert re.search(
        r'<a href="https://example.com/terms" rel="noopener noreferrer nofollow">terms</a>', html
    )


def test_attachment_is_served_to_the_partner_and_its_managers(browser, new_browser) -> None:
    user = make_partner_user()
    browser.login(user.email)
    response = _raise(browser, attachments=(io.BytesIO(PDF), "contract terms.pdf"))
    assert response.status_code == 302
    attachment = db.session.scalars(select(Attachment)).one()
    assert (
        attachment.filename == "contract terms.pdf" and attachment.content_type == "application/pdf"
    )
    download = browser.get(f"/attachments/{attachment.id}")
    assert download.status_code == 200 and download.data == PDF
    assert "attachment;" in download.headers["Content-Disposition"]
    manager = new_browser()
    manager.login(make_manager().email)
    assert manager.get(f"/attachments/{attachment.id}").data == PDF


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([(io.BytesIO(b"MZ\x90\x00"), "tool.exe")], "accepted types are"),
        ([(io.BytesIO(b"<html>"), "page.html")], "accepted types are"),
        ([(io.BytesIO(b"not a pdf"), "fake.pdf")], "does not look like"),
        ([(io.BytesIO(b"%PDF" + b"0" * MAX_ATTACHMENT_BYTES), "big.pdf")], "larger than 5 MB"),
        ([(io.BytesIO(b"a,b"), f"f{i}.csv") for i in range(6)], "At most 5"),
        ([(io.BytesIO(b""), "empty.txt")], "is empty"),
    ],
)
def test_attachment_limits_refuse_the_submission(browser, files, message) -> None:
    browser.login(make_partner_user().email)
    response = _raise(browser, attachments=files)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Conflict.id)) is None
    assert db.session.scalar(select(Attachment.id)) is None


def test_conflict_list_is_paged_and_filtered(browser) -> None:
    user = make_partner_user()
    for i in range(23):
        make_conflict(user, title=f"Conflict number {i:02d}", now=WHEN + timedelta(minutes=i))
    browser.login(user.email)
    first = browser.get("/portal/conflicts").get_data(as_text=True)
    assert "Conflict number 22" in first and "Conflict number 02" not in first
    assert "Page 1 of 2" in first
    second = browser.get("/portal/conflicts?page=2").get_data(as_text=True)
    assert "Conflict number 02" in second and "Conflict number 22" not in second
    closed = browser.get("/portal/conflicts?status=closed").get_data(as_text=True)
    assert "Conflict number" not in closed


def test_partner_reply_while_waiting_resumes_the_conflict(browser) -> None:
    user = make_partner_user()
    manager = make_manager()
    conflict = make_conflict(user)
    triage(conflict, manager)
    conflicts.act(manager, conflict.id, "wait_on_partner", {"message": "Which invoice?"}, now=WHEN)
    browser.login(user.email)
    page = browser.get(f"/portal/conflicts/{conflict.id}").get_data(as_text=True)
    assert "waiting for your answer" in page
    browser.post(f"/portal/conflicts/{conflict.id}/comment", {"body": "Invoice 4711"})
    assert db.session.get(Conflict, conflict.id).status == "triaged"


def test_illegal_action_is_explained_and_changes_nothing(browser) -> None:
    user = make_partner_user()
    conflict = make_conflict(user)
    browser.login(user.email)
    response = browser.post(
        f"/portal/conflicts/{conflict.id}/actions/accept", follow_redirects=True
    )
    assert "cannot be accepted" in response.get_data(as_text=True)
    assert db.session.get(Conflict, conflict.id).status == "open"
    assert browser.post(f"/portal/conflicts/{conflict.id}/actions/explode").status_code == 404


def test_partner_withdraws_with_a_reason(browser) -> None:
    user = make_partner_user()
    conflict = make_conflict(user)
    browser.login(user.email)
    browser.post(f"/portal/conflicts/{conflict.id}/actions/withdraw", {"reason": "raised_in_error"})
    assert db.session.get(Conflict, conflict.id).close_reason == "withdrawn"


def test_bell_counts_unread_and_marking_read_clears_it(browser) -> None:
    user = make_partner_user()
    manager = make_manager()
    conflict = make_conflict(user)
    conflicts.comment(manager, conflict.id, "First reply", now=WHEN)
    conflicts.comment(manager, conflict.id, "Second reply", now=WHEN)
    browser.login(user.email)
    page = browser.get("/portal/conflicts").get_data(as_text=True)
    assert 'aria-label="Notifications, 2 unread"' in page
    browser.post("/notifications/read")
    assert 'aria-label="Notifications, 0 unread"' in browser.get("/portal/conflicts").get_data(
        as_text=True
    )


def test_bell_says_99_plus_and_counts_no_further_however_large_the_backlog(browser) -> None:
    from tracker.services.notifications import unread_count

    user = make_partner_user()
    db.session.add_all(
        Notification(user_id=user.id, kind="update", title=f"Notice {i}", created_at=WHEN)
        for i in range(150)
    )
    db.session.commit()
    assert unread_count(user) == 100  # the bell's count reads at most 100 index entries
    assert unread_count(user, at_most=1000) == 150
    browser.login(user.email)
    page = browser.get("/portal/conflicts").get_data(as_text=True)
    assert 'aria-label="Notifications, more than 99 unread"' in page
    assert '<span class="bell-count">99+</span>' in page
    browser.post("/notifications/read")
    page = browser.get("/portal/conflicts").get_data(as_text=True)
    assert 'aria-label="Notifications, 0 unread"' in page and "bell-count" not in page


def test_partner_reads_its_own_agreement(browser) -> None:
    from tracker.models import Partner

    user = make_partner_user()
    partner = db.session.get(Partner, user.partner_id)
    partner.country = "DE"
    db.session.commit()
    browser.login(user.email)
    html = browser.get("/organisation").get_data(as_text=True)
    assert "We triage within" in html
    # Partners read working days (of the calendar's 8h day), not hours of business time.
    assert re.search(
        r"<th scope=\"row\">Critical</th><td>1 working hour</td><td>1 working day</td>", html
    )
    assert re.search(
        r"<th scope=\"row\">Low</th><td>3 working days</td><td>15 working days</td>", html
    )
    assert "09:00–17:00" in html and "public holidays of DE" in html
    assert "answer within 2 working days." in html and "business time" not in html


def test_internal_activity_does_not_move_the_partners_last_update(browser) -> None:
    user = make_partner_user()
    manager = make_manager()
    conflict = make_conflict(user, now=WHEN)
    conflicts.comment(
        manager, conflict.id, "internal only", internal=True, now=WHEN + timedelta(days=3)
    )
    conflicts.assign(manager, conflict.id, manager.id, now=WHEN + timedelta(days=3))
    stored = db.session.get(Conflict, conflict.id)
    assert stored.public_updated_at == WHEN and stored.updated_at == WHEN + timedelta(days=3)
    conflicts.comment(manager, conflict.id, "public reply", now=WHEN + timedelta(days=4))
    assert db.session.get(Conflict, conflict.id).public_updated_at == WHEN + timedelta(days=4)


def test_an_overdue_resolution_is_said_plainly(browser) -> None:
    user = make_partner_user()
    conflict = make_conflict(user, severity="critical", now=WHEN)  # due Tue 10:00 Berlin, long past
    browser.login(user.email)
    html = browser.get(f"/portal/conflicts/{conflict.id}").get_data(as_text=True)
    assert "We are past the time we agreed to resolve this" in html
    assert "We will resolve this by" not in html


def test_a_rolled_back_upload_leaves_no_file_behind(app) -> None:
    import os

    from tracker.services import attachments as files
    from tracker.services.attachments import upload_dir

    user = make_partner_user()
    conflict = make_conflict(user)
    before = set(os.listdir(upload_dir()))
    event = timeline.record(conflict, user.id, "comment", WHEN, body="with a file")
    checked = files.check_uploads([FileUpload("terms.pdf", PDF)])
    conflicts._attach(conflict, event, user, checked, WHEN)
    assert len(set(os.listdir(upload_dir())) - before) == 1
    db.session.rollback()
    assert set(os.listdir(upload_dir())) == before


def test_a_rejected_form_asks_for_the_files_again(browser) -> None:
    browser.login(make_partner_user().email)
    response = _raise(browser, title="", attachments=(io.BytesIO(PDF), "terms.pdf"))
    assert "Please choose your files again." in response.get_data(as_text=True)


def test_accepting_a_resolution_is_one_step_that_says_what_it_does(browser) -> None:
    from tracker.domain.workflow import PARTNER_REOPEN_WINDOW

    user = make_partner_user()
    manager = make_manager()
    conflict = make_conflict(user)
    triage(conflict, manager)
    conflicts.act(
        manager,
        conflict.id,
        "resolve",
        {"summary": "Paid with interest.", "root_cause": "process_gap", "accountable_side": "us"},
        now=WHEN,
    )
    browser.login(user.email)
    html = browser.get(f"/portal/conflicts/{conflict.id}").get_data(as_text=True)
    single = re.search(
        r'<form[^>]*class="action-single" id="action-accept">(.*?)</form>', html, re.S
    )
    assert single is not None
    assert html.count(">Accept the resolution<") == 1
    assert '<details class="action-panel" id="action-accept"' not in html
    assert "This closes the conflict." in single.group(1)
    assert f"reopen it within {PARTNER_REOPEN_WINDOW.days} days" in single.group(1)
    assert 'aria-describedby="action-accept-consequence"' in single.group(1)
    browser.post(f"/portal/conflicts/{conflict.id}/actions/accept")
    assert db.session.get(Conflict, conflict.id).status == "closed"


def _ask(user, manager, *, asked_at):  # type: ignore[no-untyped-def]
    conflict = make_conflict(user, now=asked_at)
    triage(conflict, manager, now=asked_at)
    conflicts.act(
        manager,
        conflict.id,
        "wait_on_partner",
        {"message": "Which **invoice** number was it?"},
        now=asked_at,
    )
    return conflict


def test_a_conflict_waiting_for_the_partner_repeats_the_question_and_its_date(browser) -> None:
    from datetime import UTC, datetime

    user = make_partner_user()  # Berlin, 09:00-17:00 weekdays: answer expected in 16h
    manager = make_manager()
    asked_at = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # Mon 10:00 CET, in the future
    conflict = _ask(user, manager, asked_at=asked_at)
    browser.login(user.email)
    html = browser.get(f"/portal/conflicts/{conflict.id}").get_data(as_text=True)
    assert "Waiting for your answer" in html and "Waiting on partner" not in html
    question = html[html.index('id="question"') :]
    question = question[: question.index("</section>")]
    assert "<strong>invoice</strong> number" in question
    assert "Please answer by <strong>Wed 09 Jan 2030, 10:00 CET</strong> your time." in question
    assert "That time has passed" not in question
    assert "business time" not in html
    assert (
        "Our target is 3 working days. The clock is paused while we wait for your answer." in html
    )


def test_a_late_answer_is_said_plainly(browser) -> None:
    user = make_partner_user()
    manager = make_manager()
    conflict = _ask(user, manager, asked_at=WHEN)  # long ago
    browser.login(user.email)
    html = browser.get(f"/portal/conflicts/{conflict.id}").get_data(as_text=True)
    assert "We expected your answer by <strong>Wed 18 Nov 2026, 10:00 CET</strong>." in html
    assert "That time has passed" in html


def test_a_partners_action_says_what_happens_next_in_its_words(browser) -> None:
    user = make_partner_user()
    conflict = make_conflict(user)
    browser.login(user.email)
    html = browser.post(
        f"/portal/conflicts/{conflict.id}/actions/withdraw",
        {"reason": "raised_in_error"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"{conflict.ref}: It is closed; nothing more is needed from you." in html
    assert "is now closed" not in html


def test_the_bell_tells_partners_in_their_words(browser) -> None:
    user = make_partner_user()
    manager = make_manager()
    conflict = _ask(user, manager, asked_at=WHEN)
    titles = db.session.scalars(
        select(Notification.title).where(Notification.user_id == user.id)
    ).all()
    assert f"{conflict.ref}: now waiting for your answer" in titles
    assert not any("waiting on partner" in title for title in titles)


def test_a_failed_submit_shows_a_focused_error_summary_linking_to_each_field(browser) -> None:
    user = make_partner_user()
    browser.login(user.email)
    html = _raise(browser, title="", description="", category="").get_data(as_text=True)
    summary = re.search(r'<div class="error-summary"([^>]*)>(.*?)</div>', html, re.S)
    assert summary is not None
    attrs, body = summary.groups()
    assert 'role="alert"' in attrs and 'tabindex="-1"' in attrs and "autofocus" in attrs
    assert '<a href="#title">Give the conflict a title.</a>' in body
    assert '<a href="#description">Describe what happened and what would resolve it.</a>' in body
    assert '<a href="#category">Choose what the conflict is about.</a>' in body
    assert "This field is required" not in html
    assert html.index("error-summary") < html.index('id="title"')
    title = re.search(r"<input[^>]*id=\"title\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in title and 'aria-describedby="title-error"' in title
    description = re.search(r"<textarea[^>]*id=\"description\"[^>]*>", html).group(0)
    assert 'aria-describedby="description-hint description-error"' in description
    assert 'id="description-hint"' in html and 'id="description-error"' in html
    assert "forms.js" in html


def test_fields_without_error_or_hint_carry_no_aria_describedby(browser) -> None:
    html = browser.get("/auth/login").get_data(as_text=True)
    assert 'aria-describedby="None"' not in html and "aria-describedby" not in html
    assert "aria-invalid" not in html and "error-summary" not in html
    assert '<a class="skip-link" href="#main">Skip to main content</a>' in html
    assert 'id="main" tabindex="-1"' in html


def test_the_login_form_names_what_is_missing(browser) -> None:
    html = browser.post("/auth/login", {"email": "", "password": ""}).get_data(as_text=True)
    assert '<a href="#email">Enter your email address.</a>' in html
    assert '<a href="#password">Enter your password.</a>' in html


def test_the_partners_list_searches_its_own_conflicts_and_links_the_title(browser) -> None:
    user = make_partner_user()
    mine = make_conflict(user, title="Pallets at the wrong dock")
    make_conflict(user, title="Invoice paid late")
    stranger = make_conflict(make_partner_user(), title="Pallets lost in transit")
    browser.login(user.email)
    html = browser.get("/portal/conflicts?q=pallets").get_data(as_text=True)
    assert f'<a href="/portal/conflicts/{mine.id}">Pallets at the wrong dock</a>' in html
    assert "Invoice paid late" not in html and stranger.title not in html
    assert f'<td data-label="Reference" class="ref">{mine.ref}</td>' in html
    assert 'name="q" value="pallets"' in html
    none = browser.get("/portal/conflicts?q=%25%25%25" + "x" * 300).get_data(as_text=True)
    assert "No conflicts match" in none
