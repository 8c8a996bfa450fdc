"""E-mail notices: one row per thing a person is told by mail, before it joins a message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.models.types import UTCDateTime


class MailNotice(db.Model):
    """What one person is to read about one event, rendered for them (their timezone, their
    side of the wall), waiting to be carried by an outbox message.

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
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    digest: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outbox_key: Mapped[str | None] = mapped_column(String(200), index=True)
