"""Outgoing mail read as people read it: real SMTP (aiosmtpd), a whole lifecycle, threads,
coalescing windows, the digest, one-click unsubscribe and hostile titles."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from tests.factories import RESOLUTION, make_conflict, make_manager, make_partner, make_partner_user
from tests.servers import SmtpServer
from tracker.extensions import db
from tracker.models import MailNotice, NotificationPreference, OutboxMessage, User
from tracker.services import conflicts, mail_notices, mail_threads, outbox, preferences

MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, 04:00 in New York
STEP = timedelta(minutes=5)  # longer than the window: each step its own message
INTERNAL_NOTE = "Finance sat on invoice 4711 for three weeks, again."


@pytest.fixture
def mail(app, smtp_server: SmtpServer) -> SmtpServer:
    app.config.update(
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=smtp_server.port,
        MAIL_COALESCE_SECONDS=120,
        BASE_URL="https://trustomer.example",
        MAIL_INTAKE_ADDRESS="conflicts@trustomer.example",
        MAIL_FROM="Trustomer <trustomer@trustomer.example>",
    )
    return smtp_server


def _world():  # type: ignore[no-untyped-def]
    maya = make_manager(
        name="Maya Okafor", email="maya@trustomer.example", timezone="America/New_York"
    )
    leo = make_manager(name="Leo Brandt", email="leo@trustomer.example")
    partner = make_partner(name="Northwind Logistics", owner_id=maya.id, timezone="Europe/Berlin")
    anna = make_partner_user(partner=partner, name="Anna Keller", email="anna@northwind.example")
    jonas = make_partner_user(partner=partner, name="Jonas Weber", email="jonas@northwind.example")
    return maya, leo, anna, jonas


def _deliver(at: datetime) -> None:
    report = outbox.deliver_due(at + timedelta(minutes=3))
    assert report.gave_up == 0 and report.retried == 0, report.lines


def _text(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _subject(message: EmailMessage) -> str:
    """The subject as a mail client shows it (a long one arrives folded)."""
    return " ".join(str(message["Subject"]).split())


def _html(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def _to(mail: SmtpServer, address: str) -> list[EmailMessage]:
    return [m.message for m in mail.messages if address in m.rcpt_tos]


def _lifecycle(maya, leo, anna):  # type: ignore[no-untyped-def]
    t = MONDAY
    conflict = make_conflict(
        anna,
        title="Pallets for order 5521 arrived broken",
        description="Six of twelve pallets were crushed on arrival.",
        category="delivery",
        severity="high",
        now=t,
    )
    _deliver(t)
    t += STEP
    conflicts.act(
        maya,
        conflict.id,
        "triage",
        {"severity": "high", "category": "delivery", "assignee_id": leo.id},
        now=t,
    )
    _deliver(t)
    t += STEP
    conflicts.comment(leo, conflict.id, INTERNAL_NOTE, internal=True, now=t)
    _deliver(t)
    t += STEP
    ask = {"message": "Please send the delivery note signed by your driver."}
    conflicts.act(maya, conflict.id, "wait_on_partner", ask, now=t)
    _deliver(t)
    t += STEP
    conflicts.comment(anna, conflict.id, "Attached: the signed delivery note.", now=t)
    _deliver(t)
    t += STEP
    conflicts.comment(maya, conflict.id, "Thank you, we have it and ordered new pallets.", now=t)
    _deliver(t)
    t += STEP
    resolution = {**RESOLUTION, "summary": "Six replacement pallets shipped on Tuesday."}
    conflicts.act(maya, conflict.id, "resolve", resolution, now=t)
    _deliver(t)
    t += STEP
    conflicts.act(anna, conflict.id, "dispute", {"reason": "Only four pallets came."}, now=t)
    _deliver(t)
    t += STEP
    conflicts.act(maya, conflict.id, "resolve", {**resolution, "summary": "Two more sent."}, now=t)
    _deliver(t)
    t += STEP
    conflicts.act(anna, conflict.id, "accept", {}, now=t)
    _deliver(t)
    return db.session.get(type(conflict), conflict.id)


def test_a_whole_lifecycle_reads_as_what_happened_in_each_readers_timezone(app, mail) -> None:
    maya, leo, anna, jonas = _world()
    conflict = _lifecycle(maya, leo, anna)
    ref = conflict.ref
    jonas_mail = _to(mail, jonas.email)
    subjects = [_subject(m) for m in jonas_mail]
    title = "Pallets for order 5521 arrived broken"
    for expected in (
        f"[Trustomer] Received: {ref} {title}",
        f"[Trustomer] Triaged: {ref} {title}",
        f"[Trustomer] We need your answer: {ref} {title}",
        f"[Trustomer] Reply from your alliance team: {ref} {title}",
        f"[Trustomer] Resolved: {ref} {title}",
        f"[Trustomer] Disputed: {ref} {title}",
        f"[Trustomer] Accepted: {ref} {title}",
    ):
        assert expected in subjects, subjects
    by_subject = {_subject(m): _text(m) for m in jonas_mail}
    asked = by_subject[f"[Trustomer] We need your answer: {ref} {title}"]
    assert "> Please send the delivery note signed by your driver." in asked
    assert "Please answer by" in asked and "CET your time" in asked
    triaged = by_subject[f"[Trustomer] Triaged: {ref} {title}"]
    assert "We will resolve this by" in triaged and "CET your time" in triaged
    replied = by_subject[f"[Trustomer] Reply from your alliance team: {ref} {title}"]
    assert "> Thank you, we have it and ordered new pallets." in replied
    resolved = [_text(m) for m in jonas_mail if _subject(m).startswith("[Trustomer] Resolved")]
    assert "> Six replacement pallets shipped on Tuesday." in resolved[0]
    assert "> Two more sent." in resolved[1]
    assert all("Root cause:" in t and "Accountable:" in t for t in resolved)
    disputed = by_subject[f"[Trustomer] Disputed: {ref} {title}"]
    assert (
        "Anna Keller disputed the resolution" in disputed and "Only four pallets came." in disputed
    )
    # Staff read the same instants on their own clock, and the partner's words.
    maya_mail = _to(mail, maya.email)
    maya_text = "\n".join(_text(m) for m in maya_mail)
    assert "EST" in maya_text and "CET" not in maya_text
    assert any(
        _subject(m).startswith("[Trustomer] New comment from Anna Keller · Resumed: ")
        for m in maya_mail
    )
    assert "> Attached: the signed delivery note." in maya_text
    assert INTERNAL_NOTE in maya_text  # staff are told of internal notes
    # Nobody gets the same words twice.
    for person in (maya, leo, anna, jonas):
        said = [(_subject(m), _text(m)) for m in _to(mail, person.email)]
        assert said and len(said) == len(set(said)), person.email


def test_no_partner_bound_message_carries_internal_notes_or_staff_names(app, mail) -> None:
    maya, leo, anna, jonas = _world()
    _lifecycle(maya, leo, anna)
    partner_bound = _to(mail, anna.email) + _to(mail, jonas.email)
    assert len(partner_bound) >= 10
    for message in partner_bound:
        whole = message.as_string()
        for part in (whole, _text(message), _html(message), message["Subject"]):
            for secret in (
                INTERNAL_NOTE,
                "Finance sat",
                "Leo Brandt",
                "Maya Okafor",
                "Leo",
                "Maya",
            ):
                assert secret not in part, (message["Subject"], secret)
        assert "+note." not in whole  # the internal-note address is for staff only


def test_every_notice_of_a_conflict_is_one_thread_with_its_own_message_id(app, mail) -> None:
    maya, leo, anna, jonas = _world()
    conflict = _lifecycle(maya, leo, anna)
    root = mail_threads.thread_root_id(conflict.id)
    anna_mail = _to(mail, anna.email)
    assert len({m["Message-ID"] for m in anna_mail}) == len(anna_mail)
    for message in anna_mail:
        assert message["In-Reply-To"] == root and root in message["References"]
        assert message["Message-ID"] != root
        assert message["Reply-To"] == mail_threads.reply_address(conflict.id, anna.id)
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["List-Id"] == "Trustomer notices <notices.trustomer.example>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Unsubscribe"].startswith(
            "<https://trustomer.example/mail/unsubscribe/"
        )
        assert message.is_multipart() and _html(message)
    # The partner's next notice after their reply lands in the same thread.
    after_reply = [m for m in anna_mail if "Reply from your alliance team" in m["Subject"]]
    assert after_reply and after_reply[0]["References"] == root
    # Staff are told where an internal note goes, and that a reply is public.
    staff = _to(mail, maya.email)[0]
    note_address = mail_threads.reply_address(conflict.id, maya.id, internal=True)
    assert "Reply to this message to answer the partner publicly" in _text(staff)
    assert (
        f"To add an internal note instead (the partner never sees it), write to {note_address}"
        in _text(staff)
    )
    assert staff["Reply-To"] == mail_threads.reply_address(conflict.id, maya.id)


def test_notices_within_the_window_go_out_as_one_message(app, mail) -> None:
    maya, leo, anna, jonas = _world()
    conflict = make_conflict(anna, now=MONDAY)
    conflicts.comment(
        maya, conflict.id, "First: we are looking into it.", now=MONDAY + timedelta(seconds=10)
    )
    conflicts.comment(
        maya, conflict.id, "Second: finance confirms.", now=MONDAY + timedelta(seconds=40)
    )
    assert outbox.deliver_due(MONDAY + timedelta(seconds=60)).sent == 0  # the window is open
    # Its end, plus the grace that lets a transaction of the window that commits late join it.
    assert outbox.deliver_due(MONDAY + timedelta(minutes=2)).sent == 0
    outbox.deliver_due(MONDAY + timedelta(minutes=2) + mail_notices.LATE_COMMIT_GRACE)
    [message] = _to(mail, jonas.email)
    text = _text(message)
    assert "First: we are looking into it." in text and "Second: finance confirms." in text
    assert (
        "Received" in message["Subject"] and "Reply from your alliance team" in message["Subject"]
    )
    assert text.count("Second: finance confirms.") == 1
    # The next window is a new message in the same thread.
    later = MONDAY + timedelta(minutes=10)
    conflicts.comment(maya, conflict.id, "Third: paid today.", now=later)
    outbox.deliver_due(later + timedelta(minutes=3))
    first, second = _to(mail, jonas.email)
    assert "Third: paid today." in _text(second) and "First:" not in _text(second)
    assert first["References"] == second["References"]


def test_writers_in_parallel_make_one_message_per_window(app, mail, migrated_database) -> None:
    maya, leo, anna, jonas = _world()
    conflict = make_conflict(anna, now=MONDAY - timedelta(hours=1))
    people = [maya.id, leo.id, anna.id, jonas.id]
    errors: list[BaseException] = []
    start = threading.Barrier(len(people))

    def comment(user_id: int, n: int) -> None:
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                start.wait(timeout=10)
                conflicts.comment(
                    user, conflict.id, f"Parallel word {n}", now=MONDAY + timedelta(seconds=n)
                )
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=comment, args=(uid, i)) for i, uid in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    windowed = (
        select(OutboxMessage.recipient_id, func.count())
        .where(
            OutboxMessage.dedupe_key.like(f"notices:%:{conflict.id}:120:%"),
            OutboxMessage.created_at >= MONDAY,
        )
        .group_by(OutboxMessage.recipient_id)
    )
    counts = dict(db.session.execute(windowed).all())
    # Leo follows nothing here (neither assignee nor owner): he is told of nothing.
    assert set(counts) == {maya.id, anna.id, jonas.id} and set(counts.values()) == {1}
    outbox.deliver_due(MONDAY + timedelta(minutes=3))
    maya_last = _to(mail, maya.email)[-1]
    text = _text(maya_last)
    assert all(f"Parallel word {n}" in text for n in (1, 2, 3))  # everyone's but her own
    waiting = select(func.count(MailNotice.id)).where(MailNotice.outbox_key.is_(None))
    assert db.session.scalar(waiting) == 0


def test_daily_digest_is_one_message_a_day_in_the_readers_timezone(app, mail) -> None:
    maya, leo, anna, jonas = _world()
    preferences.save_cadence(jonas, "daily")
    first = make_conflict(anna, title="Invoice 4711 paid late", now=MONDAY)
    make_conflict(anna, title="Forecast shared late", now=MONDAY + timedelta(minutes=1))
    conflicts.comment(maya, first.id, "We are on the invoice.", now=MONDAY + timedelta(minutes=30))
    outbox.deliver_due(MONDAY + timedelta(hours=1))
    assert _to(mail, jonas.email) == []  # nothing per window for a digest reader
    assert _to(mail, anna.email)  # others still hear at once
    # 07:00 in Berlin on Tuesday: before the digest hour (08:00), nothing yet.
    assert mail_notices.send_digests(datetime(2026, 11, 17, 6, 0, tzinfo=UTC)) == 0
    at_eight = datetime(2026, 11, 17, 7, 5, tzinfo=UTC)
    assert mail_notices.send_digests(at_eight) == 1
    assert mail_notices.send_digests(at_eight + timedelta(minutes=10)) == 1  # the same key
    outbox.deliver_due(at_eight + timedelta(minutes=20))
    [digest] = _to(mail, jonas.email)
    text = _text(digest)
    assert digest["Subject"] == "[Trustomer] Daily digest Tue 17 Nov: 3 updates on 2 conflicts"
    assert "Invoice 4711 paid late" in text and "Forecast shared late" in text
    assert "We are on the invoice." in text
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail_notices.send_digests(at_eight + timedelta(hours=2)) == 0  # nothing waits


def test_one_click_unsubscribe_needs_no_session_and_changes_only_that_user(
    app, mail, client
) -> None:
    maya, leo, anna, jonas = _world()
    make_conflict(anna, now=MONDAY)
    outbox.deliver_due(MONDAY + timedelta(minutes=3))
    [message] = _to(mail, jonas.email)
    link = message["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("https://trustomer.example")
    page = client.get(path)
    assert page.status_code == 200 and "Stop e-mail to jonas@northwind.example" in page.get_data(
        as_text=True
    )
    assert preferences.channels_for([jonas], preferences.UPDATES)[jonas.id] == {"in_app", "email"}
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.expire_all()
    rows = db.session.execute(
        select(
            NotificationPreference.user_id,
            NotificationPreference.kind,
            NotificationPreference.channel,
            NotificationPreference.enabled,
        )
    ).all()
    assert rows == [(jonas.id, "updates", "email", False)]
    assert (
        client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    )  # again: harmless


@pytest.mark.parametrize(
    "token",
    ["nonsense", "eyJ1IjoxLCJrIjpbInVwZGF0ZXMiXX0.forged-signature", "a" * 300],
)
def test_a_forged_unsubscribe_link_changes_nothing(app, client, token) -> None:
    make_partner_user()
    for response in (
        client.get(f"/mail/unsubscribe/{token}"),
        client.post(f"/mail/unsubscribe/{token}"),
    ):
        assert response.status_code == 400
        assert "This unsubscribe link is not valid." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(NotificationPreference.id))) == 0


def test_hostile_titles_and_text_are_escaped_and_stay_out_of_headers(app, mail) -> None:
    maya, leo, anna, jonas = _world()
    conflict = make_conflict(
        anna,
        title="<script>alert(1)</script> Invoice\r\nBcc: victim@example.com",
        description='<img src=x onerror="alert(2)"> **late**\r\nTo: other@example.com',
        now=MONDAY,
    )
    conflicts.comment(
        maya, conflict.id, "<b onmouseover=alert(3)>hi</b>", now=MONDAY + timedelta(minutes=5)
    )
    outbox.deliver_due(MONDAY + timedelta(minutes=10))
    assert mail.messages
    for received in mail.messages:
        message = received.message
        assert received.rcpt_tos in ([maya.email], [leo.email], [anna.email], [jonas.email])
        assert message["Bcc"] is None and "\n" not in message["Subject"]
        html = _html(message)
        assert "<script" not in html and "<img" not in html and "<b " not in html
        assert "&lt;script&gt;" in html
    assert all(m.message["To"] != "other@example.com" for m in mail.messages)


def test_demo_seed_leaves_the_outbox_empty(app, runner) -> None:
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert db.session.scalar(select(func.count(MailNotice.id))) == 0
    # Mail works as usual afterwards: the seed's suppression ends with it.
    anna = db.session.scalar(select(User).where(User.email == "anna@northwind.example"))
    make_conflict(anna, now=MONDAY)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) > 0


def test_deliver_says_how_many_emails_wait_for_an_smtp_host(app, runner) -> None:
    assert not app.config["SMTP_HOST"]
    anna = make_partner_user(partner=make_partner(owner_id=make_manager().id))
    make_partner_user(partner=anna.partner)
    make_conflict(anna, now=MONDAY)
    waiting = db.session.scalar(select(func.count(OutboxMessage.id)))
    assert waiting == 2  # the owner and the colleague
    result = runner.invoke(args=["notifications", "deliver", "--now", "2026-11-16T10:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "2 e-mail(s) wait for an SMTP host: set TRACKER_SMTP_HOST to send them" in result.output
    assert result.output.strip().splitlines()[-1] == "delivered 0, retried 0, gave up 0"


def test_coalescing_window_comes_from_the_environment(monkeypatch) -> None:
    from config import Config, ConfigError

    monkeypatch.setenv("TRACKER_MAIL_COALESCE_SECONDS", "300")
    assert Config().MAIL_COALESCE_SECONDS == 300
    monkeypatch.delenv("TRACKER_MAIL_COALESCE_SECONDS")
    assert Config().MAIL_COALESCE_SECONDS == 120
    monkeypatch.setenv("TRACKER_MAIL_COALESCE_SECONDS", "-1")
    with pytest.raises(ConfigError, match="TRACKER_MAIL_COALESCE_SECONDS"):
        Config()
    monkeypatch.delenv("TRACKER_MAIL_COALESCE_SECONDS")
    monkeypatch.setenv("TRACKER_MAIL_DIGEST_HOUR", "24")
    with pytest.raises(ConfigError, match="TRACKER_MAIL_DIGEST_HOUR"):
        Config()


def test_the_preferences_page_offers_immediately_or_a_daily_digest(app, browser) -> None:
    user = make_partner_user(email="kate@bluefin.example")
    browser.login(user.email)
    page = browser.get("/notifications/preferences").get_data(as_text=True)
    assert 'name="email-cadence" value="immediately" checked' in page
    browser.post(
        "/notifications/preferences",
        {"pref-updates-in_app": "on", "pref-updates-email": "on", "email-cadence": "daily"},
    )
    assert preferences.cadence(db.session.get(User, user.id)) == "daily"
    browser.post("/notifications/preferences", {"email-cadence": "hourly"})  # not offered
    db.session.expire_all()
    assert preferences.digest_readers([db.session.get(User, user.id)]) == {user.id}
    page = browser.get("/notifications/preferences").get_data(as_text=True)
    assert 'name="email-cadence" value="daily" checked' in page


def test_a_late_sweep_tells_each_person_of_both_clocks_in_one_message(app, mail) -> None:
    from tracker.jobs.sweep import sweep

    maya, leo, anna, jonas = _world()
    conflict = make_conflict(anna, severity="critical", now=MONDAY)
    outbox.deliver_due(MONDAY + timedelta(minutes=3))
    mail.clear()
    three_days_late = MONDAY + timedelta(days=3)
    sweep(three_days_late)
    outbox.deliver_due(three_days_late + timedelta(minutes=3))
    [message] = [m for m in _to(mail, maya.email) if "breached (critical)" in _subject(m)]
    assert _subject(message).startswith(
        "[Trustomer] Time to triage breached (critical) · Time to resolution breached (critical)"
    )
    text = _text(message)
    assert text.count("Passed since the last check") == 2
    assert "Warning since" in text and "Breach since" in text
    assert message["References"] == mail_threads.thread_root_id(conflict.id)
    partner = _to(mail, anna.email)
    assert len(partner) == 1 and "Escalated to senior management" in _subject(partner[0])
    assert "breached" not in partner[0].as_string()


def test_a_message_that_cannot_be_composed_fails_alone(app, mail) -> None:
    def broken(key, spec, now):  # type: ignore[no-untyped-def]
        raise RuntimeError("template missing")

    outbox.register_composer("broken", broken)
    outbox.enqueue_composed_email(
        dedupe_key="broken-1", address="a@northwind.example", subject="x",
        compose={"compose": "broken"}, due_at=MONDAY, now=MONDAY,
    )  # fmt: skip
    outbox.enqueue_email(
        dedupe_key="fine-1", address="b@northwind.example", subject="Fine", text="Hi",
        html=None, now=MONDAY,
    )  # fmt: skip
    db.session.commit()
    report = outbox.deliver_due(MONDAY)
    assert report.gave_up == 1 and report.sent == 1
    failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "broken-1"))
    assert failed.status == "failed" and "template missing" in failed.last_error
    assert [m.rcpt_tos for m in mail.messages] == [["b@northwind.example"]]


def test_a_notice_that_commits_after_its_window_went_out_rides_with_the_next(app, mail) -> None:
    maya, leo, anna, jonas = _world()
    conflict = make_conflict(anna, now=MONDAY - timedelta(hours=1))
    outbox.deliver_due(MONDAY)
    mail.clear()
    conflicts.comment(maya, conflict.id, "On time.", now=MONDAY + timedelta(seconds=10))
    # A transaction of the window that commits after it ended, within the grace: it joins.
    window_end = MONDAY + timedelta(minutes=2)
    conflicts.comment(maya, conflict.id, "Within grace.", now=MONDAY + timedelta(seconds=15))
    outbox.deliver_due(window_end + mail_notices.LATE_COMMIT_GRACE)
    # A slower one, committed after its window's message went out.
    conflicts.comment(maya, conflict.id, "Late commit.", now=MONDAY + timedelta(seconds=20))
    outbox.deliver_due(MONDAY + timedelta(minutes=4))
    assert len(_to(mail, jonas.email)) == 1
    assert "Within grace." in _text(_to(mail, jonas.email)[0])
    conflicts.comment(maya, conflict.id, "Next window.", now=MONDAY + timedelta(minutes=10))
    outbox.deliver_due(MONDAY + timedelta(minutes=13))
    first, second = _to(mail, jonas.email)
    assert "On time." in _text(first) and "Late commit." not in _text(first)
    assert "Late commit." in _text(second) and "Next window." in _text(second)


def test_a_notice_keeps_what_to_say_and_is_worded_when_its_message_is_composed(app, mail) -> None:
    maya, leo, anna, jonas = _world()
    conflict = make_conflict(anna, now=MONDAY)
    outbox.deliver_due(MONDAY + timedelta(minutes=3))
    mail.clear()
    said = MONDAY + timedelta(minutes=10)
    conflicts.comment(maya, conflict.id, "Finance confirms the credit note.", now=said)
    [notice] = db.session.scalars(
        select(MailNotice).where(
            MailNotice.recipient_id == jonas.id, MailNotice.outbox_key.is_(None)
        )
    )
    entry_id = notice.facts["entry"]
    assert notice.kind == "reply" and notice.body_text is None and notice.subject is None
    # Jonas chooses German before the window closes: the message is written in German.
    db.session.get(User, jonas.id).locale = "de"
    db.session.commit()
    outbox.deliver_due(said + timedelta(minutes=2) + mail_notices.LATE_COMMIT_GRACE)
    [message] = _to(mail, jonas.email)
    assert "Antwort Ihres Allianzteams" in _subject(message)
    assert "Finance confirms the credit note." in _text(message)
    [english] = _to(mail, anna.email)
    assert "Reply from your alliance team" in _subject(english)
    # The words stay on the row: what the reader was told, kept.
    db.session.expire_all()
    kept = db.session.get(MailNotice, notice.id)
    assert kept.facts == {"entry": entry_id}
    assert kept.subject.startswith("Antwort Ihres Allianzteams")
    assert "Finance confirms the credit note." in kept.body_text
    assert "Finance confirms the credit note." in kept.body_html


def test_the_escalation_list_message_is_composed_when_it_is_delivered(app, mail) -> None:
    from tracker.jobs.sweep import sweep

    app.config["ESCALATION_EMAIL"] = "escalations@trustomer.example"
    maya, leo, anna, jonas = _world()
    conflict = make_conflict(anna, severity="critical", now=MONDAY)
    outbox.deliver_due(MONDAY + timedelta(minutes=3))
    mail.clear()
    late = MONDAY + timedelta(days=3)
    sweep(late)
    waiting = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.address == "escalations@trustomer.example")
    ).all()
    assert waiting and all(m.body_text is None for m in waiting)
    outbox.deliver_due(late + timedelta(minutes=3))
    listed = _to(mail, "escalations@trustomer.example")
    assert len(listed) == len(waiting) == 2  # one per clock, at its highest level
    for message in listed:
        assert "breached (critical)" in _subject(message)
        assert "Passed since the last check" in _text(message)
        assert message["References"] == mail_threads.thread_root_id(conflict.id)
        assert message["Auto-Submitted"] == "auto-generated"
        assert "UTC" in _text(message)  # the list has no reader: UTC, in English
