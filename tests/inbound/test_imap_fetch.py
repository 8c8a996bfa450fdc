"""The IMAP poller against a real Dovecot over TLS, and the pipe command: a partner answers a
notice by mail, the answer becomes their comment once, however often it is fetched."""

from __future__ import annotations

import os
import subprocess
import sys
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW
from tests.inbound.conftest import INTAKE
from tracker.channels.imap import MailboxError
from tracker.domain import workflow
from tracker.extensions import db
from tracker.jobs.scheduler import build_scheduler, run_mail_fetch
from tracker.models import Conflict, ConflictEvent, InboundMessage, OutboxMessage
from tracker.services import inbound_mail, mail_threads, outbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mailbox(app, imap_server):  # type: ignore[no-untyped-def]
    app.config.update(imap_server.settings())
    return imap_server


def _comments(conflict_id: int) -> list[ConflictEvent]:
    db.session.expire_all()
    query = select(ConflictEvent).where(
        ConflictEvent.conflict_id == conflict_id, ConflictEvent.kind == "comment"
    )
    return list(db.session.scalars(query))


def _notice(app, world, smtp_server) -> EmailMessage:  # type: ignore[no-untyped-def]
    """The partner's notice, sent for real: Reply-To their reply address, in the thread."""
    app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    conflict, user = world.conflict, world.partner_user
    outbox.enqueue_email(
        dedupe_key="test-notice",
        address=user.email,
        subject=f"We need your answer: {conflict.ref} {conflict.title}",
        text="When were the pallets collected?",
        html=None,
        now=NOW,
        headers={
            "Reply-To": mail_threads.reply_address(conflict.id, user.id),
            "In-Reply-To": mail_threads.thread_root_id(conflict.id),
            "References": mail_threads.thread_root_id(conflict.id),
        },
    )
    db.session.commit()
    assert outbox.deliver_due(NOW).gave_up == 0
    [received] = [m for m in smtp_server.messages if m.message["Subject"].startswith("We need")]
    return received.message


def _answer(notice: EmailMessage, text: str, message_id: str) -> bytes:
    """What the partner's mail client sends when they press Reply."""
    answer = EmailMessage()
    answer["Return-Path"] = "<petra@acme.example>"
    answer["From"] = "Petra Partner <petra@acme.example>"
    answer["To"] = str(notice["Reply-To"])
    answer["Subject"] = f"Re: {notice['Subject']}"
    answer["Message-ID"] = message_id
    answer["In-Reply-To"] = str(notice["Message-ID"])
    answer["References"] = f"{notice['References']} {notice['Message-ID']}"
    said = notice.get_body(("plain",)).get_content()  # a plain notice, or a multipart one
    quoted = "\n".join(f"> {line}" for line in said.splitlines())
    answer.set_content(f"{text}\n\nOn Mon, 16 Nov 2026 at 10:00, Trustomer wrote:\n{quoted}")
    return answer.as_bytes()


def test_a_partner_answers_a_notice_by_mail_and_the_manager_sees_it_once(
    app, world, mailbox, smtp_server, new_browser
) -> None:
    notice = _notice(app, world, smtp_server)
    assert parseaddr(str(notice["Reply-To"]))[1].startswith("conflicts+")
    raw = _answer(notice, "Collected on Friday at 14:00.", "<answer-1@acme.example>")
    mailbox.append(raw)

    report = inbound_mail.fetch(NOW)

    assert report.counts == {inbound_mail.COMMENTED: 1} and report.moved == 1
    [comment] = _comments(world.conflict.id)
    assert comment.body == "Collected on Friday at 14:00."
    assert comment.actor_id == world.partner_user.id
    assert db.session.get(Conflict, world.conflict.id).status == workflow.TRIAGED
    assert mailbox.count("INBOX") == 0 and mailbox.count(mailbox.processed_folder) == 1
    manager = new_browser()
    manager.login(world.manager.email)
    page = manager.get(f"/console/conflicts/{world.conflict.id}").get_data(as_text=True)
    assert "Collected on Friday at 14:00." in page
    # Fetched again (delivered twice, or put back by hand): still one comment.
    mailbox.append(raw)
    again = inbound_mail.fetch(NOW)
    assert again.counts == {inbound_mail.DUPLICATE: 1} and again.moved == 1
    assert len(_comments(world.conflict.id)) == 1
    assert mailbox.count("INBOX") == 0


def test_a_message_committed_but_not_moved_before_a_crash_is_not_processed_twice(
    world, mailbox
) -> None:
    raw = world.reply("outlook_reply.eml")
    mailbox.append(raw)
    assert inbound_mail.fetch(NOW).counts == {inbound_mail.COMMENTED: 1}
    # The crash: the comment was committed, the MOVE never happened; the message is back.
    mailbox.append(raw)

    report = inbound_mail.fetch(NOW)

    assert report.counts == {inbound_mail.DUPLICATE: 1}
    assert len(_comments(world.conflict.id)) == 1
    assert mailbox.count("INBOX") == 0 and mailbox.count(mailbox.processed_folder) == 2


def test_every_refused_message_is_moved_and_writes_nothing_but_its_record(world, mailbox) -> None:
    from tests.inbound.test_inbound_mail import _counts, _written

    token = mail_threads.reply_address(world.conflict.id, world.partner_user.id)
    refused = [
        world.reply("gmail_reply.eml").replace(b"petra@acme.example", b"mallory@evil.example"),
        world.reply("gmail_reply.eml", sender=world.outsider, reply_to=token).replace(
            b"gmailreply0001", b"outsider"
        ),
        world.reply("attachment_refused.eml"),
        world.reply("out_of_office.eml"),
        world.reply("bounce_dsn.eml"),
    ]
    for raw in refused:
        mailbox.append(raw)
    before = _counts()

    report = inbound_mail.fetch(NOW)

    assert report.counts == {inbound_mail.REFUSED: 3, inbound_mail.DROPPED: 2}
    written = _written(before)
    assert written == {"inbound_messages": 5, "outbox_messages": 3}  # three polite answers
    assert mailbox.count("INBOX") == 0


def test_a_30_mb_message_is_refused_from_its_header_alone(world, mailbox) -> None:
    raw = world.reply("attachment_reply.eml").replace(
        b"--mixed-boundary-42--", b"B" * (30 * 1024 * 1024) + b"\n--mixed-boundary-42--"
    )
    mailbox.append(raw)

    report = inbound_mail.fetch(NOW)

    assert report.counts == {inbound_mail.REFUSED: 1}
    row = db.session.scalar(select(InboundMessage))
    assert row.detail == "larger than 25 MB" and row.size_bytes > 30 * 1024 * 1024
    assert row.message_id == "<attachment-0001@acme.example>"
    assert len(_comments(world.conflict.id)) == 0 and mailbox.count("INBOX") == 0


def test_the_mailbox_certificate_is_verified(app, world, mailbox) -> None:
    app.config["IMAP_CA_FILE"] = ""  # the system's CAs do not know the test's certificate
    mailbox.append(world.reply("gmail_reply.eml"))

    with pytest.raises(MailboxError, match="TLS"):
        inbound_mail.fetch(NOW)
    assert mailbox.count("INBOX") == 1


def test_the_scheduler_polls_the_mailbox_only_when_one_is_configured(app, world, mailbox) -> None:
    assert "mail_fetch" in {job.id for job in build_scheduler(app).get_jobs()}
    mailbox.append(world.reply("gmail_reply.eml"))

    run_mail_fetch(app)

    assert len(_comments(world.conflict.id)) == 1 and mailbox.count("INBOX") == 0
    app.config["IMAP_HOST"] = ""
    assert "mail_fetch" not in {job.id for job in build_scheduler(app).get_jobs()}


# --- the commands ------------------------------------------------------------------------------


def _env(app, tmp_path, **more: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        **os.environ,
        "TRACKER_ENV": "test",
        "TRACKER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "TRACKER_INSTANCE_PATH": str(tmp_path),
        "TRACKER_UPLOAD_DIR": str(tmp_path / "uploads"),
        "TRACKER_MAIL_INTAKE_ADDRESS": INTAKE,
        "TRACKER_MAIL_FROM": "Trustomer <trustomer@trustomer.example>",
        **more,
    }


def _flask(*args: str, env: dict[str, str], stdin: bytes | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT, env=env, stdin=subprocess.PIPE if stdin is not None else None,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def test_two_fetch_processes_at_once_make_each_comment_once(app, world, mailbox, tmp_path) -> None:
    messages = [
        world.reply("outlook_reply.eml"),
        world.reply("gmail_reply.eml", sender=world.colleague),
        world.reply("thunderbird_reply_de.eml"),
    ]
    for raw in messages:
        mailbox.append(raw)
    env = _env(app, tmp_path, **mailbox.env())

    processes = [_flask("mail", "fetch", env=env) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]

    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()
        assert b"mail fetch:" in out
    assert len(_comments(world.conflict.id)) == 3
    assert db.session.scalar(select(func.count(InboundMessage.id))) == 3
    # Two MOVEs of one message racing may leave a second copy in the processed folder
    # (IMAP has no atomic take); never a second comment.
    assert mailbox.count("INBOX") == 0 and mailbox.count(mailbox.processed_folder) >= 3


def test_fetch_without_a_mailbox_says_so_with_a_configuration_status(runner) -> None:
    result = runner.invoke(args=["mail", "fetch"])
    assert result.exit_code == 78 and "TRACKER_IMAP_HOST" in result.output


def test_ingest_reads_one_message_from_standard_input(app, world, runner) -> None:
    raw = world.reply("apple_mail_reply.eml")

    first = runner.invoke(args=["mail", "ingest"], input=raw)
    second = runner.invoke(args=["mail", "ingest"], input=raw)

    assert (first.exit_code, second.exit_code) == (0, 0)
    assert "commented" in first.output and "duplicate" in second.output
    assert len(_comments(world.conflict.id)) == 1


def test_ingest_answers_dropped_mail_with_success_and_junk_with_a_data_error(world, runner) -> None:
    dropped = runner.invoke(args=["mail", "ingest"], input=world.reply("out_of_office.eml"))
    junk = runner.invoke(args=["mail", "ingest"], input=b"\x00\x01 no headers here")
    assert dropped.exit_code == 0 and "dropped" in dropped.output
    assert junk.exit_code == 65


def test_ingest_asks_the_mta_to_retry_when_the_database_is_unavailable(app, tmp_path) -> None:
    env = _env(app, tmp_path, TRACKER_DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/x.db")
    raw = message_from_bytes(b"From: a@b.example\n\nhello\n", policy=policy.default).as_bytes()

    process = _flask("mail", "ingest", env=env, stdin=raw)
    out, err = process.communicate(raw, timeout=60)

    assert process.returncode == 75, err.decode()
    assert b"database is unavailable" in err


def test_ingest_of_a_30_mb_message_is_refused_and_exits_cleanly(app, world, runner) -> None:
    raw = world.reply("gmail_reply.eml") + b"C" * (30 * 1024 * 1024)
    result = runner.invoke(args=["mail", "ingest"], input=raw)
    assert result.exit_code == 0 and "larger than 25 MB" in result.output
    assert db.session.scalar(select(func.count(OutboxMessage.id))) >= 1
