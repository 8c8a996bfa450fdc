"""Personal API tokens: create (shown once), authenticate by hash, revoke."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import joinedload

from tracker.database import lock_for_write
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import ApiToken, Partner, SlaPolicy, User
from tracker.models.api import SCOPES, WRITE
from tracker.services import admin_audit, messagebus
from tracker.services.errors import InvalidInput, NotFound

TOKEN_PREFIX = "trk_"  # noqa: S105 - a marker, not a secret
SHOWN_PREFIX_LENGTH = 8
MAX_NAME = 100
MAX_LIFETIME = timedelta(days=730)  # a token lives two years at most: rotate long-lived ones
# Recording every use would write on every request; a minute's precision is enough to show.
LAST_USED_PRECISION = timedelta(minutes=1)


def allows(token: ApiToken, scope: str) -> bool:
    """Whether `token` may be used for `scope` (one of SCOPES): read-only tokens cannot write."""
    return scope != WRITE or token.may_write


def hash_token(raw: str) -> str:
    """The stored form of a token: its SHA-256 in hex (tokens are random, no salt needed)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create(
    user: User,
    *,
    name: str,
    scope: str,
    now: datetime,
    expires_at: datetime | None = None,
    actor: User | None | str = "owner",
) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the token itself, which is never stored.

    Recorded in the admin audit log as made by `actor`: the owner by default, None for the
    command line (its name, scope and expiry; never the token or its hash)."""
    clean_name = (name or "").strip() or "API token"
    errors: dict[str, str] = {}
    if len(clean_name) > MAX_NAME:
        errors["name"] = f"At most {MAX_NAME} characters."
    if scope not in SCOPES:
        errors["scope"] = N_("Choose read or write.")
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = N_("The expiry must be in the future.")
    elif expires_at is not None and expires_at > now + MAX_LIFETIME:
        errors["expires_at"] = N_("The expiry can be at most two years ahead.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name or ""):
        errors["name"] = N_("Use letters, digits and punctuation only.")
    if not user.is_active:
        errors["user"] = N_(
            "A deactivated user (or a user of an inactive partner) cannot have tokens."
        )
    if errors:
        raise InvalidInput(N_("The token could not be created."), field_errors=errors)
    # Judge the account under its row lock (SQLite: the write lock): a token asked for while
    # the password changes or the account is deactivated must not outlive that revocation.
    seen_version = user.session_version
    lock_for_write(db.session)
    current = db.session.execute(
        select(User.session_version, User.active).where(User.id == user.id).with_for_update()
    ).one()
    if current.session_version != seen_version or not current.active:
        db.session.rollback()
        raise InvalidInput(
            "Your access changed while the token was being made (a new password, or the "
            "account was deactivated). Sign in again and create the token then.",
            field_errors={"user": N_("Sign in again.")},
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=clean_name,
        scope=scope,
        token_hash=hash_token(raw),
        prefix=raw[:SHOWN_PREFIX_LENGTH],
        created_at=now,
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    made_by = user if actor == "owner" else actor
    after = {"user_id": user.id, "name": clean_name, "scope": scope, "expires_at": expires_at}
    audit = admin_audit.changed(made_by, "token.created", _subject(token, user), after=after)  # type: ignore[arg-type]
    messagebus.publish([audit], now)
    db.session.commit()
    return token, raw


def _subject(token: ApiToken, owner: User) -> str:
    return f"token:{token.id} {token.name} of {owner.email}"


@cache
def _by_hash() -> Select:
    """Built once (its cache key too): each request binds only the hash."""
    return (
        select(ApiToken)
        .where(ApiToken.token_hash == bindparam("token_hash"))
        .options(
            joinedload(ApiToken.user)
            .joinedload(User.partner)
            .joinedload(Partner.agreement)
            .joinedload(SlaPolicy.calendar)
        )
    )


def authenticate(raw: str, now: datetime) -> ApiToken | None:
    """The usable token for this bearer string (recording its use), or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    # The owner and their partner come with the token (one statement): every request reads
    # them; the partner's agreement too, which a create snapshots.
    token = db.session.scalar(_by_hash(), {"token_hash": hash_token(raw)})
    if token is None or not token.usable_at(now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
        db.session.commit()
    return token


def for_user(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked ones too, marked as such)."""
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke(user: User, token_id: int, now: datetime) -> ApiToken:
    """Revoke one of the user's own tokens; someone else's is NotFound."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(N_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = now
        audit = admin_audit.changed(
            user, "token.revoked", _subject(token, user),
            before={"revoked": False}, after={"revoked": True},
        )  # fmt: skip
        messagebus.publish([audit], now)
        db.session.commit()
    return token


def revoke_all(user_id: int, *, now: datetime) -> int:
    """Revoke every live token of a user (password changed, account deactivated), in the
    caller's transaction: a revoked token stays revoked even if the account comes back."""
    result = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0
