"""In-app notifications: what a user should look at, and whether they have."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.conflict import Conflict
from tracker.models.types import UTCDateTime


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "event_id", name="uq_notifications_user_event"),
        Index("ix_notifications_user_read", "user_id", "read_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    conflict_id: Mapped[int | None] = mapped_column(ForeignKey("conflicts.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("conflict_events.id"))
    # Escalation notices have no event; this key keeps each one to a single row per user.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    conflict: Mapped[Conflict | None] = relationship()
