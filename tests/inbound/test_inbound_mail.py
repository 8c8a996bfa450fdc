"""Replies and new conflicts by mail: matched, cleaned, acted on once through the portal's use
cases; refused and automatic mail recorded with nothing else written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW
from tests.factories import make_manager
from tests.inbound.conftest import INTAKE, mail_fixture
from tracker.domain import workflow
from tracker.extensions import db
from tracker.models import (
    Attachment,
    Conflict,
    ConflictEvent,
    InboundMessage,
    OutboxMessage,
)
from tracker.services import accounts, inbound_mail, mail_threads

LATER = NOW + timedelta(hours=1)


def _counts() -> dict[str, int]:
    return {
        table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in db.metadata.sorted_tables
    }


def _written(before: dict[str, int]) -> dict[str, int]:
    db.session.expire_all()
    after = _counts()
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


def _receive(raw: bytes, now=LATER, **kwargs):  # type: ignore[no-untyped-def]
    result = inbound_mail.receive(raw, now=now, source=inbound_mail.PIPE, **kwargs)
    db.session.expire_all()
    return result


def _comments(conflict) -> list[ConflictEvent]:  # type: ignore[no-untyped-def]
    query = select(ConflictEvent).where(
        ConflictEvent.conflict_id == conflict.id,
        ConflictEvent.kind.in_(("comment", "reply", "internal_note")),
    )
    return list(db.session.scalars(query.order_by(ConflictEvent.id)))


def _bounces() -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.dedupe_key.like("mail-bounce:%"))
    return list(db.session.scalars(query))


# --- replies ---------------------------------------------------------------------------------

CLIENT_REPLIES = [
    pytest.param(
        "outlook_reply.eml",
        "The pallets were collected on Friday, the delivery note is signed.\n\nKind regards\nPetra",
        id="outlook",
    ),
    pytest.param(
        "gmail_reply.eml",
        "Collected on Friday \u2013 the driver signed the delivery note.",
        id="gmail",
    ),
    pytest.param("apple_mail_reply.eml", "Yes, collected on Friday.", id="apple-mail"),
    pytest.param(
        "thunderbird_reply_de.eml", "Die Paletten wurden am Freitag abgeholt.", id="thunderbird"
    ),
    pytest.param(
        "html_only_fr.eml",
        "Les palettes sont parties vendredi & le bon est signé.\n\nFish <script> stays text\n\n"
        "- first\n- second",
        id="html-only",
    ),
    pytest.param(
        "iso_8859_1.eml",
        "Die Lieferung kam am Montag. Grüße aus Köln, Jürgen Müller",
        id="iso-8859-1",
    ),
    pytest.param("shift_jis.eml", "パレットは金曜日に回収されました。", id="shift-jis"),
]


@pytest.mark.parametrize(("fixture", "text"), CLIENT_REPLIES)
def test_a_reply_from_each_client_becomes_the_partners_comment_without_history(
    world, fixture, text
) -> None:
    result = _receive(world.reply(fixture))

    assert result.outcome == inbound_mail.COMMENTED, result.line
    [comment] = _comments(world.conflict)
    assert comment.kind == "comment" and comment.actor_id == world.partner_user.id
    assert comment.visibility == "public"
    assert comment.body == text
    assert result.conflict_id == world.conflict.id


def test_the_partners_reply_resumes_the_conflict_waiting_on_them(world) -> None:
    assert db.session.get(Conflict, world.conflict.id).status == workflow.WAITING_ON_PARTNER

    _receive(world.reply("gmail_reply.eml"))

    assert db.session.get(Conflict, world.conflict.id).status == workflow.TRIAGED
    query = select(ConflictEvent.kind).where(ConflictEvent.conflict_id == world.conflict.id)
    kinds = list(db.session.scalars(query.order_by(ConflictEvent.id)))
    assert kinds[-2:] == ["comment", "status_changed"]  # resumed by the one transition path


def test_the_same_message_twice_makes_one_comment(world) -> None:
    raw = world.reply("outlook_reply.eml")
    first = _receive(raw)
    second = _receive(raw, now=LATER + timedelta(minutes=5))

    assert (first.outcome, second.outcome) == (inbound_mail.COMMENTED, inbound_mail.DUPLICATE)
    assert len(_comments(world.conflict)) == 1
    assert db.session.scalar(select(func.count(InboundMessage.id))) == 1


def test_a_message_without_message_id_is_claimed_by_a_hash_of_its_bytes(world) -> None:
    raw = world.reply("gmail_reply.eml").replace(
        b"Message-ID: <CAHx7Yk3fQ9gmailreply0001@mail.gmail.example>\n", b""
    )
    assert _receive(raw).outcome == inbound_mail.COMMENTED
    assert _receive(raw).outcome == inbound_mail.DUPLICATE
    [row] = db.session.scalars(select(InboundMessage))
    assert row.message_id.startswith("sha256:") and len(_comments(world.conflict)) == 1


def test_matched_by_the_thread_headers_when_no_reply_address_is_there(world) -> None:
    raw = world.reply("gmail_reply.eml", reply_to=INTAKE)

    result = _receive(raw)

    assert result.outcome == inbound_mail.COMMENTED and result.conflict_id == world.conflict.id


def test_a_colleague_of_the_same_partner_may_answer_on_the_token_of_another(world) -> None:
    token_of_petra = mail_threads.reply_address(world.conflict.id, world.partner_user.id)
    raw = world.reply("gmail_reply.eml", sender=world.colleague, reply_to=token_of_petra)

    assert _receive(raw).outcome == inbound_mail.COMMENTED
    [comment] = _comments(world.conflict)
    assert comment.actor_id == world.colleague.id  # the From writes, never the token's user


@pytest.mark.parametrize("who", ["manager", "outsider"])
def test_a_partners_reply_address_never_speaks_for_the_team_or_another_partner(world, who) -> None:
    """From alone proves nothing: Petra's address, sent with a manager's (or a stranger's)
    From, is refused and writes nothing but its record."""
    token_of_petra = mail_threads.reply_address(world.conflict.id, world.partner_user.id)
    sender = getattr(world, who)
    raw = world.reply("gmail_reply.eml", sender=sender, reply_to=token_of_petra)

    assert _receive(raw).outcome == inbound_mail.REFUSED
    assert _comments(world.conflict) == []


def test_a_staff_answer_needs_the_reply_address_issued_to_them(world) -> None:
    """Every notice names the thread; a manager's From on a thread reference alone is not
    enough to write as the team."""
    raw = world.reply("thunderbird_reply_de.eml", sender=world.manager, reply_to=f"{INTAKE}")

    assert _receive(raw).outcome == inbound_mail.REFUSED
    assert _comments(world.conflict) == []


def test_an_internal_note_address_works_only_for_the_manager_it_was_issued_to(world) -> None:
    colleague = make_manager(email="leo@trustomer.example", name="Leo Manager")
    note_of_anna = mail_threads.reply_address(world.conflict.id, world.manager.id, internal=True)
    raw = world.reply("gmail_reply.eml", sender=colleague, reply_to=note_of_anna)

    assert _receive(raw).outcome == inbound_mail.REFUSED
    assert _comments(world.conflict) == []


def test_a_staff_reply_is_a_public_reply_and_the_internal_address_makes_a_note(world) -> None:
    public = world.reply("thunderbird_reply_de.eml", sender=world.manager)
    internal_address = mail_threads.reply_address(
        world.conflict.id, world.manager.id, internal=True
    )
    note = world.reply("gmail_reply.eml", sender=world.manager, reply_to=internal_address).replace(
        b"gmailreply0001", b"gmailnote0001"
    )

    assert _receive(public).outcome == inbound_mail.COMMENTED
    assert _receive(note).outcome == inbound_mail.NOTED
    reply, internal = _comments(world.conflict)
    assert (reply.kind, reply.visibility) == ("reply", "public")
    assert (internal.kind, internal.visibility) == ("internal_note", "internal")
    # A manager's answer does not resume on the partner's behalf.
    assert db.session.get(Conflict, world.conflict.id).status == workflow.WAITING_ON_PARTNER


def test_attachments_pass_the_upload_checks_and_embedded_logos_are_not_attached(world) -> None:
    result = _receive(world.reply("attachment_reply.eml"))

    assert result.outcome == inbound_mail.COMMENTED
    [comment] = _comments(world.conflict)
    assert comment.body == "The signed delivery note is attached."
    [attachment] = db.session.scalars(select(Attachment))
    assert attachment.filename == "delivery-note-5521.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.event_id == comment.id


# --- a new conflict by mail ------------------------------------------------------------------


def test_a_partner_writing_to_the_intake_address_opens_a_conflict_and_gets_a_receipt(
    world,
) -> None:
    result = _receive(world.reply("new_conflict.eml"))

    assert result.outcome == inbound_mail.OPENED, result.line
    conflict = db.session.get(Conflict, result.conflict_id)
    assert conflict.partner_id == world.partner_user.partner_id
    assert conflict.created_by_id == world.partner_user.id
    assert conflict.title == "Invoice 9911 paid 20 days late"
    assert conflict.severity == "high" and conflict.category == "payment_terms"
    assert conflict.description == (
        "Invoice 9911 was due on 1 November and paid on 21 November.\n"
        "Please look into the payment run."
    )
    [receipt] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == f"mail-receipt:{conflict.id}")
    )
    assert receipt.address == "petra@acme.example"
    assert conflict.ref in receipt.subject and conflict.title in receipt.subject
    assert f"https://trustomer.example/portal/conflicts/{conflict.id}" in receipt.body_text
    assert "We will triage it by" in receipt.body_text and "CET" in receipt.body_text
    assert receipt.headers["Reply-To"] == mail_threads.reply_address(
        conflict.id, world.partner_user.id
    )
    assert receipt.headers["References"].startswith(mail_threads.thread_root_id(conflict.id))
    assert receipt.headers["Auto-Submitted"] == "auto-replied"
    assert _receive(world.reply("new_conflict.eml")).outcome == inbound_mail.DUPLICATE
    assert db.session.scalar(select(func.count(Conflict.id))) == 2


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Pallets missing", ("Pallets missing", "medium", "other")),
        ("[critical] Line down", ("Line down", "critical", "other")),
        ("Re: [Delivery] [LOW] Late truck", ("Late truck", "low", "delivery")),
        ("[handover] [urgent] Keys", ("[urgent] Keys", "medium", "customer_handover")),
    ],
)
def test_subject_tags_set_severity_and_category_and_leave_the_title(subject, expected) -> None:
    assert inbound_mail.subject_tags(subject) == expected


# --- refused, with nothing written but the record and one answer ---------------------------


def _refused(world, raw: bytes, detail: str, *, answered: bool = True) -> None:  # type: ignore[no-untyped-def]
    before = _counts()
    result = _receive(raw)
    assert result.outcome == inbound_mail.REFUSED, result.line
    assert detail in result.detail
    written = _written(before)
    expected = {"inbound_messages": 1, **({"outbox_messages": 1} if answered else {})}
    assert written == expected
    assert result.answered is answered


def test_unknown_senders_are_refused_and_answered_once(world) -> None:
    raw = world.reply("gmail_reply.eml").replace(b"petra@acme.example", b"mallory@evil.example")
    _refused(world, raw, "unknown")
    [bounce] = _bounces()
    assert bounce.address == "mallory@evil.example"
    assert "does not belong to an active Trustomer account" in bounce.body_text
    assert bounce.headers["Auto-Submitted"] == "auto-replied"
    # The next refusal within the hour is recorded, not answered.
    second = raw.replace(b"gmailreply0001", b"gmailreply0002")
    _refused(world, second, "unknown", answered=False)


def test_deactivated_users_are_refused(world) -> None:
    accounts.set_active(world.partner_user.id, False, now=NOW)
    _refused(world, world.reply("outlook_reply.eml"), "deactivated")


def test_another_partners_sender_with_a_valid_token_is_refused(world) -> None:
    token = mail_threads.reply_address(world.conflict.id, world.partner_user.id)
    raw = world.reply("gmail_reply.eml", sender=world.outsider, reply_to=token)
    _refused(world, raw, "issued to someone else")
    assert "did not match a conflict you can reply to" in _bounces()[0].body_text


def test_a_token_for_a_conflict_of_another_partner_is_refused(world) -> None:
    raw = world.reply(
        "gmail_reply.eml",
        sender=world.outsider,
        reply_to=mail_threads.reply_address(world.conflict.id, world.outsider.id),
    )
    _refused(world, raw, "may not see")


def test_a_forged_token_is_refused_and_does_not_fall_back_to_the_thread(world) -> None:
    forged = (
        f"conflicts+{world.conflict.id}.{world.partner_user.id}.aaaaaaaaaaaaaaaa@trustomer.example"
    )
    _refused(world, world.reply("gmail_reply.eml", reply_to=forged), "forged")


def test_a_partner_writing_a_note_to_the_internal_address_is_refused(world) -> None:
    internal = mail_threads.reply_address(world.conflict.id, world.partner_user.id, internal=True)
    _refused(world, world.reply("gmail_reply.eml", reply_to=internal), "internal notes")


def test_a_disallowed_attachment_refuses_the_whole_message(world) -> None:
    _refused(world, world.reply("attachment_refused.eml"), "tool.exe")
    assert "not accepted" in _bounces()[0].body_text


def test_staff_cannot_open_a_conflict_by_mail(world) -> None:
    _refused(world, world.reply("new_conflict.eml", sender=world.manager), "staff")


def test_failed_authentication_results_are_refused_without_answer_when_required(app, world) -> None:
    raw = world.reply("outlook_reply.eml").replace(b"dmarc=pass", b"dmarc=fail (p=reject)")
    assert _receive(raw).outcome == inbound_mail.COMMENTED  # the option is off by default
    app.config["MAIL_REQUIRE_AUTH_PASS"] = True
    second = raw.replace(b"AM0PR07MB1234ABCD5678EF@", b"AM0PR07MB9999@")
    _refused(world, second, "dmarc=fail", answered=False)


def test_an_oversized_message_is_refused_and_answered_without_being_read(app, world) -> None:
    app.config["MAIL_MAX_BYTES"] = 1024 * 1024
    raw = world.reply("gmail_reply.eml") + b"x" * (2 * 1024 * 1024)
    _refused(world, raw, "larger than 1 MB")
    assert "larger than 1 MB" in _bounces()[0].body_text


def test_a_message_of_30_mb_piped_in_is_refused_at_the_default_limit(world) -> None:
    attachment = b"A" * (30 * 1024 * 1024)
    raw = world.reply("attachment_reply.eml").replace(b"--mixed-boundary-42--", attachment)
    _refused(world, raw, "larger than 25 MB")


_HEAD = b"From: petra@acme.example\nTo: conflicts@trustomer.example\nSubject: Pallets for 5521\n"


@pytest.mark.parametrize(
    ("raw", "outcome"),
    [
        pytest.param(
            _HEAD + b"Message-ID: <broken-1@acme.example>\nMIME-Version: 1.0\n"
            b'Content-Type: text/plain; charset="x-no-such-charset"\n\n\xff\xfe broken',
            inbound_mail.OPENED,  # read with replacement characters
            id="unknown-charset",
        ),
        pytest.param(
            _HEAD + b"Message-ID: <broken-2@acme.example>\nMIME-Version: 1.0\n"
            b"Content-Type: multipart/mixed\n\n--nothing\nno boundary at all\n",
            inbound_mail.REFUSED,  # nothing readable in it: "A description is required."
            id="multipart-without-boundary",
        ),
        pytest.param(
            _HEAD + b"Message-ID: <broken-3@acme.example>\nMIME-Version: 1.0\n"
            b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!!not base64***\n",
            inbound_mail.OPENED,
            id="bad-base64",
        ),
    ],
)
def test_malformed_mime_never_crashes_and_is_recorded_once(world, raw, outcome) -> None:
    before = _counts()
    result = _receive(raw)
    written = _written(before)
    assert result.outcome == outcome, result.line
    assert written["inbound_messages"] == 1
    if outcome == inbound_mail.REFUSED:
        assert written == {"inbound_messages": 1, "outbox_messages": 1}


def test_input_that_is_no_message_is_recorded_with_a_data_error(world) -> None:
    result = _receive(b"\x00\x01\x02 not a mail at all")
    assert result.outcome == inbound_mail.REFUSED and result.exit_code == inbound_mail.EX_DATAERR
    assert "unparseable" in result.detail


# --- automatic mail, dropped without answer ------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "edit", "detail"),
    [
        ("out_of_office.eml", None, "auto-submitted"),
        ("bounce_dsn.eml", None, "auto-submitted"),
        ("bounce_dsn.eml", (b"Auto-Submitted: auto-replied\n", b""), "Return-Path"),
        ("gmail_reply.eml", (b"MIME-Version", b"Precedence: bulk\nMIME-Version"), "bulk"),
        ("gmail_reply.eml", (b"MIME-Version", b"Precedence: list\nMIME-Version"), "list"),
        ("gmail_reply.eml", (b"MIME-Version", b"X-Autoreply: yes\nMIME-Version"), "X-Autoreply"),
        ("gmail_reply.eml", (b"Return-Path: <petra@acme.example>", b"Return-Path: <>"), "bounce"),
        (
            "gmail_reply.eml",
            (b"From: Petra Partner <petra@acme.example>", b"From: trustomer@trustomer.example"),
            "our own address",
        ),
    ],
)
def test_auto_replies_bounces_and_loops_are_dropped_without_answer(
    world, fixture, edit, detail
) -> None:
    raw = world.reply(fixture)
    if edit:
        raw = raw.replace(*edit)
    before = _counts()
    result = _receive(raw)
    assert result.outcome == inbound_mail.DROPPED and detail in result.detail, result.line
    assert _written(before) == {"inbound_messages": 1}


def test_our_own_message_ids_coming_back_are_dropped(world) -> None:
    from tracker.services.outbox import email_message_id

    own = email_message_id(17).encode()
    raw = world.reply("gmail_reply.eml").replace(
        b"<CAHx7Yk3fQ9gmailreply0001@mail.gmail.example>", own
    )
    result = _receive(raw)
    assert result.outcome == inbound_mail.DROPPED and "own Message-ID" in result.detail


def test_a_fixture_pdf_is_a_real_pdf() -> None:
    raw = mail_fixture("attachment_reply.eml")
    assert b"JVBERi0xLjQK" in raw  # "%PDF-1.4\n", so the upload check's magic test applies


def test_a_refused_sender_is_answered_again_after_the_interval(world) -> None:
    raw = world.reply("gmail_reply.eml").replace(b"petra@acme.example", b"mallory@evil.example")
    first = _receive(raw, now=LATER)
    again = _receive(raw.replace(b"gmailreply0001", b"later"), now=LATER + timedelta(hours=2))
    assert first.answered and again.answered
    assert len(_bounces()) == 2
