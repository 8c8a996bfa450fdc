"""Partner text never breaks or hijacks what we send: mail headers, Slack text."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from tests.factories import make_conflict, make_manager, make_partner, make_partner_user
from tracker.extensions import db
from tracker.jobs.sweep import sweep
from tracker.models import Conflict, OutboxMessage
from tracker.services.outbox import deliver_due

SUBMITTED = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # Monday 10:00 Berlin
LATER = datetime(2026, 11, 16, 10, 30, tzinfo=UTC)


def test_a_title_with_line_breaks_is_kept_on_one_line_and_every_mail_is_delivered(
    app, smtp_server
) -> None:
    app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    owner = make_manager()
    user = make_partner_user(partner=make_partner(owner_id=owner.id))
    conflict = make_conflict(
        user,
        severity="critical",
        title="Invoice 4711\r\nBcc: everyone@example.com\u2028late",
        now=SUBMITTED,
    )
    assert (
        db.session.get(Conflict, conflict.id).title == "Invoice 4711 Bcc: everyone@example.com late"
    )
    sweep(LATER)
    report = deliver_due(LATER)
    assert report.gave_up == 0
    assert (
        db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.status != "sent")
        )
        == 0
    )
    for mail in smtp_server.messages:
        assert "\n" not in mail.message["Subject"]
        assert mail.rcpt_tos != ["everyone@example.com"]


def test_partner_text_cannot_ping_a_slack_channel_or_plant_links(app, webhook_receiver) -> None:
    app.config.update(WEBHOOK_URL=webhook_receiver.url, WEBHOOK_SECRET="s")
    owner = make_manager()
    user = make_partner_user(partner=make_partner(owner_id=owner.id))
    make_conflict(
        user,
        severity="critical",
        title="<!channel> <https://phish.example|Reset password>",
        now=SUBMITTED,
    )
    sweep(LATER)
    deliver_due(LATER)
    texts = [json.loads(r.body)["text"] for r in webhook_receiver.requests]
    assert texts
    for text in texts:
        assert "<!channel>" not in text and "<https://phish.example" not in text
        assert "&lt;!channel&gt;" in text
