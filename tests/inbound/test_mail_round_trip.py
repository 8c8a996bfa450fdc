"""Both halves of mail at once: the real notice a partner receives, answered from their mail
client into the real IMAP box, becomes their comment, and the next notice joins the thread."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parseaddr

from sqlalchemy import select

from tests.conftest import NOW
from tests.inbound.test_imap_fetch import _answer, _comments
from tracker.domain import workflow
from tracker.extensions import db
from tracker.models import Conflict
from tracker.services import conflicts, inbound_mail, mail_threads, outbox


def _delivered(smtp_server, now, address: str) -> list:  # type: ignore[no-untyped-def]
    outbox.deliver_due(now)
    return [m.message for m in smtp_server.messages if address in str(m.message["To"])]


def test_a_real_notice_answered_by_mail_resumes_the_conflict_and_the_thread_holds(
    app, world, imap_server, smtp_server, new_browser
) -> None:
    app.config.update(imap_server.settings())
    app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    conflict_id = world.conflict.id
    root = mail_threads.thread_root_id(conflict_id)

    # The question the manager asked (in the world fixture) reached the partner by mail.
    notices = _delivered(smtp_server, NOW, world.partner_user.email)
    [question] = [n for n in notices if "We need your answer:" in str(n["Subject"])]
    assert "When were the pallets collected?" in question.get_body(("plain",)).get_content()
    assert root in str(question["References"]) and str(question["In-Reply-To"]) == root
    reply_to = parseaddr(str(question["Reply-To"]))[1]
    assert mail_threads.parse_reply_address(reply_to).user_id == world.partner_user.id

    # Petra presses Reply in her mail client; the poller picks it up from the IMAP box.
    imap_server.append(_answer(question, "Collected on Friday at 14:00.", "<a-1@acme.example>"))
    assert inbound_mail.fetch(NOW).counts == {inbound_mail.COMMENTED: 1}
    [comment] = _comments(conflict_id)
    assert (comment.body, comment.actor_id) == (
        "Collected on Friday at 14:00.",
        world.partner_user.id,
    )
    assert db.session.get(Conflict, conflict_id).status == workflow.TRIAGED  # resumed

    manager = new_browser()
    manager.login(world.manager.email)
    assert "Collected on Friday at 14:00." in manager.get(
        f"/console/conflicts/{conflict_id}"
    ).get_data(as_text=True)

    # The team's answer reaches Petra in the same thread as the question.
    later = NOW + timedelta(minutes=10)
    conflicts.comment(world.manager, conflict_id, "Thanks, we have asked the carrier.", now=later)
    [answer] = [
        n
        for n in _delivered(smtp_server, later, world.partner_user.email)
        if "Thanks, we have asked the carrier." in n.get_body(("plain",)).get_content()
    ]
    assert str(answer["In-Reply-To"]) == root and root in str(answer["References"])
    assert answer["Message-ID"] != question["Message-ID"]

    # Fetched twice (the message put back): still one comment.
    imap_server.append(_answer(question, "Collected on Friday at 14:00.", "<a-1@acme.example>"))
    assert inbound_mail.fetch(later).counts == {inbound_mail.DUPLICATE: 1}
    assert len(_comments(conflict_id)) == 1
    assert db.session.scalar(select(Conflict.status).where(Conflict.id == conflict_id)) == (
        workflow.TRIAGED
    )
