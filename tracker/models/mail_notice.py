"""E-mail notices: one row per thing a person is told by mail, before it joins a message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.models.types import UTCDateTime


class MailNotice(db.Model):
    """What one person is to read about one event, waiting to be carried by an outbox message.

    `facts` say what to tell (the timeline entry, or the escalation and the levels passed);
    the words (`subject`, `body_*`) are rendered from them for the reader (their language,
    timezone and side of the wall) when the message is composed, and kept on the row.

    `outbox_key` names the message that carries it: set when a message takes it (a coalesced
    message when its window closes, a digest once a day), so each notice goes out once.
    """

    __tablename__ = "mail_notices"
    __table_args__ = (
        Index("ix_mail_notices_recipient_conflict", "recipient_id", "conflict_id"),
        Index("ix_mail_notices_digest_waiting", "digest", "outbox_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    conflict_id: Mapped[int | None] = mapped_column(ForeignKey("conflicts.id"))
    kind: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(16))  # updates | escalations
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    digest: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outbox_key: Mapped[str | None] = mapped_column(String(200), index=True)
