"""User accounts: admins, alliance managers and partner users."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.domain.accounts import ADMIN, MANAGER, PARTNER, STAFF_ROLES
from tracker.extensions import db
from tracker.models.types import UTCDateTime

if TYPE_CHECKING:
    from tracker.models.partner import Partner


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    # True once the person (or an admin for them) picked a zone, even "my organisation's":
    # the browser's zone, adopted at sign-in, only ever fills a zone nobody chose.
    timezone_chosen: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The language chosen on the Account page; None: the browser's, else the partner's.
    locale: Mapped[str | None] = mapped_column(String(8))
    # Bumped on password change or deactivation (also of the partner): every session and
    # invitation link issued before stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    partner: Mapped[Partner | None] = relationship(
        back_populates="users", foreign_keys=[partner_id]
    )

    # One object per row in a database session: compare by identity, not by get_id() as
    # UserMixin does (the same account loaded with two sessions is still one account).
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def bind_session(self, token: str) -> None:
        """Remember the server-side session this object was signed in or loaded with."""
        self._session_token = token

    def get_id(self) -> str:
        """What Flask-Login keeps in the cookie: the session's token, never the user's id.

        The token names a row in user_sessions (see services/sessions.py), so signing out
        revokes exactly this browser's session.
        """
        token = getattr(self, "_session_token", None)
        if not token:
            raise RuntimeError("sign users in through services.sessions.start()")
        return token

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """May sign in: not deactivated, invite accepted and (partners) organisation active."""
        if not self.active or self.password_hash is None:
            return False
        return self.role != PARTNER or (self.partner is not None and self.partner.active)

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == MANAGER

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_partner(self) -> bool:
        return self.role == PARTNER

    @property
    def display_timezone(self) -> str:
        """The user's own zone, else their partner's, else UTC."""
        if self.timezone:
            return self.timezone
        if self.partner is not None:
            return self.partner.timezone
        return "UTC"

    @property
    def mail_locale(self) -> str:
        """The language of mail to this person: their choice, else their partner's, else English."""
        from tracker.domain.accounts import preferred_locale

        return preferred_locale(
            self.locale, None, self.partner.default_locale if self.partner else None
        )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"
