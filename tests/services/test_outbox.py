"""The outbox's delivery side against a real SMTP sink and a real webhook receiver."""

from __future__ import annotations

import hashlib
import os
import select as select_module
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.servers import LOOPBACK, SmtpServer, WebhookReceiver, wait_for
from tracker.channels.webhook import SIGNATURE_HEADER, verify
from tracker.clock import utcnow
from tracker.database import flush_deferred
from tracker.extensions import db
from tracker.models import OutboxMessage
from tracker.services import outbox
from tracker.services.errors import InvalidInput, NotFound

SECRET = "webhook-test-secret"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mail(app, smtp_server: SmtpServer) -> SmtpServer:
    app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    return smtp_server


@pytest.fixture
def hooks(app, webhook_receiver: WebhookReceiver) -> WebhookReceiver:
    app.config["WEBHOOK_SECRET"] = SECRET
    return webhook_receiver


def installation(app) -> str:  # type: ignore[no-untyped-def]
    return hashlib.sha256(app.config["SECRET_KEY"].encode()).hexdigest()[:8]


def _row(key: str) -> OutboxMessage:
    """The committed row of a key (enqueueing writes it with the transaction)."""
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
    assert row is not None
    return row


def queue_email(key: str = "esc-1-alice", *, now=NOW, **overrides) -> OutboxMessage:  # type: ignore[no-untyped-def]
    values = {
        "dedupe_key": key,
        "address": "alice@partner.test",
        "subject": "TR-2026-00001 breached its resolution target",
        "text": "The conflict is overdue.",
        "html": "<p>The conflict is <b>overdue</b>.</p>",
        "now": now,
    }
    values.update(overrides)
    outbox.enqueue_email(**values)
    db.session.commit()
    return _row(values["dedupe_key"])


def queue_webhook(url: str, key: str = "esc-1-hook", **overrides) -> OutboxMessage:  # type: ignore[no-untyped-def]
    values = {"dedupe_key": key, "url": url, "payload": {"event": "breach", "n": 1}, "now": NOW}
    values.update(overrides)
    outbox.enqueue_webhook(**values)
    db.session.commit()
    return _row(values["dedupe_key"])


def reloaded(message: OutboxMessage) -> OutboxMessage:
    return db.session.get(OutboxMessage, message.id, populate_existing=True)


# --- writing ---------------------------------------------------------------------------------


def test_enqueue_adds_a_pending_row_due_now_to_the_callers_transaction(app) -> None:
    outbox.enqueue_email(
        dedupe_key="k", address="a@x.test", subject="s", text="t", html=None, now=NOW
    )
    flush_deferred(db.session)  # what the end of a publish, or the commit, does
    message = db.session.scalar(select(OutboxMessage))
    assert (message.status, message.attempts, message.next_attempt_at) == ("pending", 0, NOW)
    db.session.rollback()  # nothing was committed: the caller's rollback takes it away
    assert db.session.scalar(select(OutboxMessage.id)) is None


def test_a_rollback_before_the_rows_are_written_drops_them_too(app) -> None:
    outbox.enqueue_email(
        dedupe_key="k", address="a@x.test", subject="s", text="t", html=None, now=NOW
    )
    db.session.rollback()
    db.session.commit()
    assert db.session.scalar(select(OutboxMessage.id)) is None


def test_enqueue_with_an_existing_dedupe_key_adds_nothing(app) -> None:
    queue_email("same-key")
    outbox.enqueue_email(
        dedupe_key="same-key", address="b@x.test", subject="s", text="t", html=None, now=NOW
    )
    outbox.enqueue_webhook(dedupe_key="same-key", url="http://x.test/", payload={}, now=NOW)
    db.session.commit()
    assert [m.address for m in db.session.scalars(select(OutboxMessage))] == ["alice@partner.test"]


def test_enqueue_twice_in_one_transaction_adds_one_row(app) -> None:
    for _ in range(2):
        outbox.enqueue_webhook(dedupe_key="k", url="http://x.test/", payload={}, now=NOW)
    db.session.commit()
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 1


# --- delivering email --------------------------------------------------------------------------


def test_message_ids_differ_between_installations_and_fall_back_to_an_invalid_domain(app) -> None:
    app.config.update(SECRET_KEY="first-installation-key", MAIL_FROM="alerts@one.example")
    first = outbox.email_message_id(7)
    assert first == f"<outbox-7.{installation(app)}@one.example>"
    app.config["SECRET_KEY"] = "second-installation-key"
    assert outbox.email_message_id(7) != first  # same outbox id, another installation
    assert outbox.email_message_id(7) == outbox.email_message_id(7)  # stable
    for sender in ("", "Trustomer", "Trustomer <no-domain>", "alerts@[192.0.2.1]"):
        app.config["MAIL_FROM"] = sender
        assert outbox.email_message_id(7).endswith("@trustomer.invalid>"), sender


def test_email_is_delivered_once_as_plain_and_html_with_a_stable_message_id(app, mail) -> None:
    app.config["MAIL_FROM"] = "Trustomer <alerts@trustomer.example>"
    message = queue_email()

    report = outbox.deliver_due(NOW)

    assert (report.sent, report.retried, report.gave_up) == (1, 0, 0)
    [received] = mail.messages
    assert received.rcpt_tos == ["alice@partner.test"]
    assert received.message["Message-ID"] == (
        f"<outbox-{message.id}.{installation(app)}@trustomer.example>"
    )
    assert received.message["Subject"] == "TR-2026-00001 breached its resolution target"
    plain = received.message.get_body(preferencelist=("plain",))
    html = received.message.get_body(preferencelist=("html",))
    assert plain is not None and "overdue." in plain.get_content()
    assert html is not None and "<b>overdue</b>" in html.get_content()
    row = reloaded(message)
    assert (row.status, row.sent_at, row.claimed_until) == ("sent", NOW, None)

    again = outbox.deliver_due(NOW + timedelta(days=1))
    assert (again.sent, again.retried, again.gave_up, again.skipped) == (0, 0, 0, 0)
    assert len(mail.messages) == 1


def test_smtp_down_then_up_retries_with_backoff_and_sends_exactly_once(app, mail) -> None:
    message = queue_email()
    mail.stop()

    first = outbox.deliver_due(NOW)
    assert (first.sent, first.retried) == (0, 1)
    row = reloaded(message)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == NOW + timedelta(seconds=30)
    assert "unreachable" in row.last_error

    not_yet = outbox.deliver_due(NOW)
    assert (not_yet.sent, not_yet.retried, not_yet.gave_up, not_yet.skipped) == (0, 0, 0, 0)

    mail.start()
    later = outbox.deliver_due(NOW + timedelta(seconds=31))
    assert later.sent == 1
    assert len(mail.messages) == 1
    assert reloaded(message).status == "sent"


def test_unconfigured_smtp_keeps_the_message_waiting_without_spending_attempts(app, mail) -> None:
    app.config["SMTP_HOST"] = ""
    message = queue_email()
    for minute in range(3):
        report = outbox.deliver_due(NOW + timedelta(minutes=minute))
        assert (report.sent, report.retried, report.gave_up) == (0, 0, 0)
    row = reloaded(message)
    assert (row.status, row.attempts) == ("pending", 0)
    app.config.update(SMTP_HOST=mail.host, SMTP_PORT=mail.port)
    assert outbox.deliver_due(NOW + timedelta(minutes=5)).sent == 1
    assert reloaded(message).status == "sent"


def test_temporary_smtp_rejection_is_retried_later(app, mail) -> None:
    message = queue_email()
    mail.reject_next(451, "mailbox busy, try later")

    assert outbox.deliver_due(NOW).retried == 1
    row = reloaded(message)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "451" in row.last_error

    assert outbox.deliver_due(NOW + timedelta(seconds=30)).sent == 1
    assert len(mail.messages) == 1


def test_permanent_smtp_rejection_gives_up_at_once_until_an_admin_retries(app, mail) -> None:
    message = queue_email()
    mail.reject_next(550, "no such user")

    report = outbox.deliver_due(NOW)
    assert (report.sent, report.retried, report.gave_up) == (0, 0, 1)
    row = reloaded(message)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550" in row.last_error
    assert outbox.summary() == {"pending": 0, "sending": 0, "sent": 0, "failed": 1}
    assert outbox.deliver_due(NOW + timedelta(days=1)).gave_up == 0  # failed rows stay put

    later = NOW + timedelta(hours=2)
    retried = outbox.retry(message.id, later)
    assert (retried.status, retried.attempts, retried.next_attempt_at) == ("pending", 0, later)

    assert outbox.deliver_due(later).sent == 1
    assert len(mail.messages) == 1
    assert outbox.summary()["sent"] == 1


def test_gives_up_after_the_configured_number_of_attempts(app, mail) -> None:
    app.config["DELIVERY_MAX_ATTEMPTS"] = 3
    message = queue_email()
    mail.stop()

    t = NOW
    for attempt, wait in [(1, 30), (2, 60)]:
        report = outbox.deliver_due(t)
        assert report.retried == 1
        row = reloaded(message)
        assert (row.status, row.attempts) == ("pending", attempt)
        t = row.next_attempt_at
        assert t == NOW + timedelta(seconds=30 if attempt == 1 else 90)
        assert wait == int(outbox.backoff(attempt).total_seconds())

    final = outbox.deliver_due(t)
    assert (final.retried, final.gave_up) == (0, 1)
    row = reloaded(message)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 3, None)
    assert "unreachable" in row.last_error
    assert "gave up" in final.lines[0]


def test_a_very_long_error_is_stored_truncated(app, mail) -> None:
    message = queue_email()
    mail.reject_next(550, "x" * 1500)
    outbox.deliver_due(NOW)
    assert len(reloaded(message).last_error) == 1000


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 960), (7, 1920), (8, 3600), (50, 3600)],
)
def test_backoff_doubles_from_thirty_seconds_up_to_an_hour(attempts: int, seconds: int) -> None:
    assert outbox.backoff(attempts) == timedelta(seconds=seconds)


def test_backoff_follows_a_configured_base(app, mail) -> None:
    app.config["DELIVERY_BACKOFF_SECONDS"] = 5
    message = queue_email()
    mail.stop()
    outbox.deliver_due(NOW)
    assert reloaded(message).next_attempt_at == NOW + timedelta(seconds=5)


def test_a_message_not_yet_due_waits(app, mail) -> None:
    queue_email(now=NOW + timedelta(minutes=5))
    assert outbox.deliver_due(NOW).sent == 0
    assert outbox.deliver_due(NOW + timedelta(minutes=5)).sent == 1


def test_limit_caps_one_pass_and_the_oldest_go_first(app, mail) -> None:
    first, second, third = (queue_email(f"k{n}", address=f"u{n}@x.test") for n in range(3))
    assert outbox.deliver_due(NOW, limit=2).sent == 2
    assert [m.rcpt_tos for m in mail.messages] == [["u0@x.test"], ["u1@x.test"]]
    assert reloaded(third).status == "pending"
    assert outbox.deliver_due(NOW).sent == 1


# --- claims and concurrency -----------------------------------------------------------------------


def _claimed_by_someone_else(message: OutboxMessage, until) -> None:  # type: ignore[no-untyped-def]
    row = reloaded(message)
    row.status, row.claimed_until = "sending", until
    db.session.commit()


def test_a_stale_claim_is_picked_up_again(app, mail) -> None:
    message = queue_email()
    _claimed_by_someone_else(message, NOW - timedelta(seconds=1))  # its deliverer died

    assert outbox.deliver_due(NOW).sent == 1
    assert len(mail.messages) == 1
    assert reloaded(message).status == "sent"


def test_a_fresh_claim_is_left_to_its_deliverer(app, mail) -> None:
    message = queue_email()
    _claimed_by_someone_else(message, utcnow() + timedelta(minutes=5))  # leases: the DB's clock

    report = outbox.deliver_due(NOW)
    assert (report.sent, report.skipped) == (0, 0)
    assert mail.messages == []
    assert reloaded(message).status == "sending"


def test_a_message_being_sent_is_claimed_for_the_configured_lease(app, hooks) -> None:
    app.config["DELIVERY_LEASE_SECONDS"] = 60
    seen_while_sending = []

    def resolver(ref: str) -> str:
        # Runs mid-delivery: what another deliverer would see in the table right now.
        row = db.session.execute(select(OutboxMessage.status, OutboxMessage.claimed_until)).one()
        seen_while_sending.append(tuple(row))
        return SECRET

    outbox.register_secret_resolver("test_lease:", resolver)
    message = queue_webhook(hooks.url, secret_ref="test_lease:1")

    before = utcnow()
    assert outbox.deliver_due(NOW).sent == 1
    [(status, until)] = seen_while_sending
    # Counted on the database's clock (the one deliverers share), not from the caller's NOW.
    assert status == "sending"
    assert before + timedelta(seconds=59) <= until <= utcnow() + timedelta(seconds=61)
    assert reloaded(message).claimed_until is None


def test_a_slow_pass_stops_claiming_before_its_leases_could_run_out(app, mail, monkeypatch) -> None:
    app.config["DELIVERY_LEASE_SECONDS"] = 300
    seconds = iter(range(0, 10_000, 60))  # a pass where every step takes a minute
    monkeypatch.setattr(outbox.time, "monotonic", lambda: next(seconds))
    first, second = queue_email("k1"), queue_email("k2")

    report = outbox.deliver_due(NOW)

    assert report.sent == 1
    assert report.lines[-1] == "stopped after 150s; the rest waits a pass"
    assert (reloaded(first).status, reloaded(second).status) == ("sent", "pending")


class _Answering(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.slow
def test_a_deliverer_killed_mid_send_leaves_a_claim_another_takes_over(app, tmp_path) -> None:
    # A listening socket nobody accepts on: the request goes out and no answer ever comes.
    hole = socket.create_server((LOOPBACK, 0))
    url = f"http://{LOOPBACK}:{hole.getsockname()[1]}/hook"
    message = queue_webhook(url)
    env = {
        **os.environ,
        "TRACKER_ENV": "test",
        "TRACKER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "TRACKER_INSTANCE_PATH": str(tmp_path),
        "TRACKER_WEBHOOK_SECRET": SECRET,
        "TRACKER_DELIVERY_LEASE_SECONDS": "5",  # leases run on the database's (real) clock
    }
    app.config["DELIVERY_LEASE_SECONDS"] = 5
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "notifications", "deliver",
         "--now", NOW.isoformat()],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: select_module.select([hole], [], [], 0)[0], timeout=30)  # sending now
        process.kill()
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()

    row = reloaded(message)
    assert (row.status, row.attempts) == ("sending", 0)
    assert row.claimed_until > utcnow()
    assert outbox.deliver_due(NOW + timedelta(days=1)).sent == 0  # its lease still holds

    _Answering.bodies = []
    server = ThreadingHTTPServer(hole.getsockname(), _Answering, bind_and_activate=False)
    server.socket.close()
    server.socket = hole  # answer on the same address, including the dead process's request
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}).start()
    try:
        wait_for(lambda: outbox.deliver_due(NOW).sent == 1, timeout=30)  # once the lease ran out
    finally:
        server.shutdown()
        server.server_close()
    assert reloaded(message).status == "sent"
    # Killed after sending and before marking: at least once, so the receiver may see it twice.
    assert _Answering.bodies[-1] == b'{"event":"breach","n":1}'
    assert outbox.deliver_due(NOW + timedelta(hours=1)).sent == 0


def test_a_sent_message_is_never_sent_again(app, mail) -> None:
    message = queue_email()
    outbox.deliver_due(NOW)
    row = reloaded(message)
    row.next_attempt_at, row.claimed_until = NOW, NOW  # even if its times say it is due
    db.session.commit()
    assert outbox.deliver_due(NOW + timedelta(hours=1)).sent == 0
    assert len(mail.messages) == 1


def test_two_deliverers_in_parallel_send_every_message_exactly_once(app, mail) -> None:
    messages = [queue_email(f"k{n}", address=f"user{n}@x.test") for n in range(20)]
    start = threading.Barrier(2)
    reports: list[outbox.DeliveryReport] = []
    errors: list[BaseException] = []

    def deliverer(name: str) -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                reports.append(outbox.deliver_due(NOW, worker=name))
        except BaseException as exc:  # surfaced below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=deliverer, args=(f"w{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(r.sent for r in reports) == 20
    message_ids = [m.message["Message-ID"] for m in mail.messages]
    domain = app.config["MAIL_FROM"].rpartition("@")[2].rstrip(">")
    expected = [f"<outbox-{m.id}.{installation(app)}@{domain}>" for m in messages]
    assert sorted(message_ids) == sorted(expected)
    db.session.expire_all()
    assert outbox.summary() == {"pending": 0, "sending": 0, "sent": 20, "failed": 0}


# --- webhooks -------------------------------------------------------------------------------------


def test_webhook_error_then_success_is_sent_once_and_signed(app, hooks) -> None:
    message = queue_webhook(hooks.url)
    hooks.respond_with(500)

    first = outbox.deliver_due(NOW)
    assert (first.sent, first.retried) == (0, 1)
    assert "500" in reloaded(message).last_error

    second = outbox.deliver_due(NOW + timedelta(seconds=30))
    assert second.sent == 1
    assert outbox.deliver_due(NOW + timedelta(hours=1)).sent == 0

    requests = hooks.requests
    assert len(requests) == 2  # the refused attempt and the delivered one
    delivered = requests[-1]
    assert verify(delivered.body, SECRET, delivered.headers[SIGNATURE_HEADER])
    assert delivered.body == b'{"event":"breach","n":1}'
    row = reloaded(message)
    assert (row.status, row.attempts) == ("sent", 1)


def test_webhook_client_error_gives_up_at_once(app, hooks) -> None:
    message = queue_webhook(hooks.url)
    hooks.respond_with(410)
    assert outbox.deliver_due(NOW).gave_up == 1
    assert reloaded(message).status == "failed"


def test_webhook_without_a_secret_ref_is_sent_unsigned(app, hooks) -> None:
    queue_webhook(hooks.url, secret_ref=None)
    assert outbox.deliver_due(NOW).sent == 1
    assert SIGNATURE_HEADER not in hooks.requests[0].headers


def test_webhook_secret_comes_from_the_resolver_registered_for_its_prefix(app, hooks) -> None:
    secrets = {"test_partner_hook:7": "partner-seven-secret"}
    outbox.register_secret_resolver("test_partner_hook:", secrets.get)
    queue_webhook(hooks.url, key="a", secret_ref="test_partner_hook:7")
    queue_webhook(hooks.url, key="b", secret_ref="test_partner_hook:8")  # since deleted

    report = outbox.deliver_due(NOW)

    assert (report.sent, report.gave_up) == (1, 1)
    [request] = hooks.requests
    assert verify(request.body, "partner-seven-secret", request.headers[SIGNATURE_HEADER])
    failed = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed"))
    assert "no webhook secret" in failed.one().last_error


def test_webhook_with_an_unknown_secret_ref_fails_for_good(app, hooks) -> None:
    message = queue_webhook(hooks.url, secret_ref="nobody-registered-this")
    assert outbox.deliver_due(NOW).gave_up == 1
    assert reloaded(message).status == "failed"
    assert hooks.requests == []


def test_a_malformed_message_fails_without_stopping_the_others(app, mail, hooks) -> None:
    bad = queue_webhook("ftp://files.example/hook")
    good = queue_email()
    report = outbox.deliver_due(NOW)
    assert (report.sent, report.gave_up) == (1, 1)
    assert "ValueError" in reloaded(bad).last_error
    assert reloaded(good).status == "sent"


def test_report_lines_show_a_webhooks_host_only(app, hooks) -> None:
    queue_webhook(hooks.url + "?token=very-secret")
    report = outbox.deliver_due(NOW)
    assert "very-secret" not in report.lines[0]
    assert f"{hooks.host}:{hooks.port}" in report.lines[0]


# --- retrying by hand ---------------------------------------------------------------------------


def test_only_failed_messages_can_be_retried(app, mail) -> None:
    message = queue_email()
    with pytest.raises(InvalidInput, match="pending"):
        outbox.retry(message.id, NOW)
    with pytest.raises(NotFound):
        outbox.retry(message.id + 1000, NOW)
