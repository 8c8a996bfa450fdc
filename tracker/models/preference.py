"""Notification preferences: who wants which notices on which channel."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db


class NotificationPreference(db.Model):
    """A user's choice to receive (or not) one kind of notice on one channel."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "channel", name="uq_notification_preferences_choice"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))  # updates | escalations | trust
    channel: Mapped[str] = mapped_column(String(16))  # in_app | email
    enabled: Mapped[bool] = mapped_column(default=True)
