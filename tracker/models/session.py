"""Signed-in browser sessions, kept server-side so that signing out really ends them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.models.types import UTCDateTime


class UserSession(db.Model):
    """One signed-in browser; the cookie carries a random token, only its SHA-256 is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 hex of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The user's session_version when signed in: any bump (e.g. a partner deactivated) ends it.
    user_version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def usable_at(self, now: datetime, idle: timedelta) -> bool:
        """Not revoked, not past its lifetime, and used within the last `idle`."""
        if self.revoked_at is not None or self.expires_at <= now:
            return False
        return now - self.last_seen_at <= idle
