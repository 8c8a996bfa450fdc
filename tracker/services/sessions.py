"""Server-side sessions: each signed-in browser is a row, so signing out really ends it.

The cookie (signed by Flask) carries a random 256-bit token; only its SHA-256 is stored, so
a copy of the table cannot be replayed. A cookie copied before sign-out names a revoked row.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.models import User, UserSession

TOKEN_BYTES = 32  # 256 bits of randomness
MAX_TOKEN_LENGTH = 64  # token_urlsafe(32) is 43 characters; anything longer is not ours
# Writing last_seen_at on every request would make every page a write; five minutes of
# precision is plenty for an idle timeout counted in hours.
LAST_SEEN_PRECISION = timedelta(minutes=5)


def hash_token(raw: str) -> str:
    """The stored form of a session token (random, so no salt is needed)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def start(user: User, *, now: datetime, lifetime: timedelta) -> str:
    """Open a session for a user who has just proved who they are; returns its token.

    The user's finished sessions (revoked or expired) are deleted on the way, so the table
    holds little more than the sessions that can still be used.
    """
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(UserSession.revoked_at.is_not(None), UserSession.expires_at <= now),
        )
    )
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(
        UserSession(
            id=hash_token(raw),
            user_id=user.id,
            user_version=user.session_version,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    db.session.commit()
    user.bind_session(raw)
    return raw


# Built once: every signed-in request runs it, and a statement built per call (its join,
# the eager option and its cache key worked out again) cost twice what it takes to run.
_SESSION_WITH_USER = (
    select(UserSession, User)
    .join(User, User.id == UserSession.user_id)
    .options(joinedload(User.partner))
    .where(UserSession.id == bindparam("token_hash"))
)


def user_for(raw: str | None, *, now: datetime, idle: timedelta) -> User | None:
    """The active user of a live session, or None: one indexed read, a write at most every
    few minutes (a conditional update, so concurrent requests do not pile up writes)."""
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        return None
    row = db.session.execute(_SESSION_WITH_USER, {"token_hash": hash_token(raw)}).first()
    if row is None:
        return None
    record, user = row
    if not record.usable_at(now, idle) or record.user_version != user.session_version:
        return None
    if not user.is_active:
        return None
    if now - record.last_seen_at >= LAST_SEEN_PRECISION:
        db.session.execute(
            update(UserSession)
            .where(
                UserSession.id == record.id,
                UserSession.last_seen_at <= now - LAST_SEEN_PRECISION,
            )
            .values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    user.bind_session(raw)
    return user


def end(raw: str | None, *, now: datetime) -> None:
    """Sign out this browser only: its session row is revoked, other devices stay signed in."""
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.id == hash_token(raw), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def revoke_all(user_id: int, *, now: datetime) -> None:
    """Revoke every session of a user, in the caller's transaction (the caller commits)."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


def live_count(user_id: int, *, now: datetime) -> int:
    """How many sessions of a user are neither revoked nor past their lifetime."""
    query = select(func.count(UserSession.id)).where(
        UserSession.user_id == user_id,
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > now,
    )
    return db.session.scalar(query) or 0


def purge_finished(now: datetime, *, idle: timedelta) -> int:
    """Delete sessions that can no longer be used (revoked, past their lifetime or idle too
    long); for a periodic sweep. Sign-in already clears the signing-in user's own."""
    result = db.session.execute(
        delete(UserSession).where(
            or_(
                UserSession.revoked_at.is_not(None),
                UserSession.expires_at <= now,
                UserSession.last_seen_at < now - idle,
            )
        )
    )
    db.session.commit()
    return result.rowcount or 0
