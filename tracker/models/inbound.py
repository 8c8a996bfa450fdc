"""Incoming mail as seen: one row per message, claimed by its Message-ID, refused ones too."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.models.types import UTCDateTime


class InboundMessage(db.Model):
    """A message that came in by IMAP or by the MTA's pipe, and what became of it.

    `message_id` is unique: the row is claimed (`INSERT … ON CONFLICT DO NOTHING`) in the
    same transaction as the comment or conflict it makes, so a message fetched twice, or
    again after a crash, is acted on once.
    """

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The Message-ID header, or "sha256:<hex of the raw bytes>" when it has none.
    message_id: Mapped[str] = mapped_column(String(500), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    source: Mapped[str] = mapped_column(String(16))  # imap | pipe
    sender: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str | None] = mapped_column(String(300))
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    detail: Mapped[str | None] = mapped_column(String(500))
    size_bytes: Mapped[int] = mapped_column(default=0)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    conflict_id: Mapped[int | None] = mapped_column(ForeignKey("conflicts.id"), index=True)
    answered: Mapped[bool] = mapped_column(default=False)  # a bounce or receipt was queued
