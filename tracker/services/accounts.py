"""Accounts: creating users, signing in, passwords, invites and deactivation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_sqlalchemy.pagination import Pagination
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.clock import utcnow
from tracker.domain import accounts as rules
from tracker.domain.accounts import ROLES, STAFF_ROLES
from tracker.domain.passwords import check_password_strength
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import Partner, User
from tracker.services import admin_audit, api_tokens, messagebus, paging, sessions
from tracker.services.errors import InvalidInput, NotFound

INVITE_SALT = "trustomer-invite"
# A hash to compare against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = generate_password_hash("not-a-real-password-timing-guard")


def _hash(password: str) -> str:
    """Hash with the configured method (scrypt by default; tests may lower its cost)."""
    return generate_password_hash(
        password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    )


def _rule(fn, *args, field: str, **kwargs):  # type: ignore[no-untyped-def]
    try:
        return fn(*args, **kwargs)
    except rules.AccountRuleError as exc:
        raise InvalidInput(str(exc), field_errors={field: str(exc)}) from exc


def _check_new_password(password: str, *, email: str, name: str, field: str) -> None:
    """The one password rule for every way a password is set: web, invite, CLI."""
    _rule(rules.check_password, password, field=field)
    _rule(check_password_strength, password, email=email, name=name, field=field)


def create_user(
    *,
    email: str,
    name: str,
    role: str,
    now: datetime,
    partner_id: int | None = None,
    password: str | None = None,
    timezone: str | None = None,
    actor: User | None = None,
) -> User:
    """Create an account; without a password it waits for its invite to be accepted.

    Recorded in the admin audit log as `actor`'s change (None: the command line)."""
    email = _rule(rules.normalise_email, email, field="email")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise InvalidInput(
            N_("An account with this email already exists."),
            field_errors={"email": N_("Already in use.")},
        )
    _rule(rules.check_role, role, field="role")
    name = (name or "").strip() or email.split("@")[0]
    if len(name) > 120:
        raise InvalidInput(
            N_("Name is too long."), field_errors={"name": N_("At most 120 characters.")}
        )
    if partner_id is not None and db.session.get(Partner, partner_id) is None:
        raise InvalidInput(
            N_("Unknown partner."), field_errors={"partner_id": N_("Choose an existing partner.")}
        )
    _rule(rules.check_role_partner, role, partner_id is not None, field="partner_id")
    if timezone:
        _rule(rules.check_timezone, timezone, field="timezone")
    user = User(
        email=email,
        name=name,
        role=role,
        partner_id=partner_id,
        timezone=timezone or None,
        timezone_chosen=bool(timezone),
        created_at=now,
        active=True,
    )
    if password is not None:
        _check_new_password(password, email=email, name=name, field="password")
        user.password_hash = _hash(password)
    db.session.add(user)
    try:
        db.session.flush()
        after = {**_audited(user), "invited": password is None}
        messagebus.publish(
            [admin_audit.changed(actor, "user.created", _subject(user), after=after)], now
        )
        db.session.commit()
    except IntegrityError:  # the same address created at the same instant by another admin
        db.session.rollback()
        raise InvalidInput(
            N_("An account with this email already exists."),
            field_errors={"email": N_("Already in use.")},
        ) from None
    return user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))


def authenticate(email: str, password: str, *, now: datetime) -> User | None:
    """The active user with this email and password, or None (never says which part was wrong)."""
    user = find_user_by_email(email)
    if user is None or user.password_hash is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    if not user.is_active:
        return None
    user.last_login_at = now
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str, *, now: datetime) -> None:
    """Change a password. Whoever knew the old one may have signed in or made API tokens:
    every session (the caller opens a fresh one) and every API token of the user ends."""
    if user.password_hash is None or not check_password_hash(user.password_hash, current or ""):
        raise InvalidInput(
            N_("Your current password is not correct."),
            field_errors={"current_password": N_("Not correct.")},
        )
    _check_new_password(new, email=user.email, name=user.name, field="new_password")
    user.password_hash = _hash(new)
    _end_access(user, now)
    db.session.commit()


def _audited(user: User) -> dict[str, object]:
    """What the admin audit log keeps of an account (never a password or its hash)."""
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "partner_id": user.partner_id,
        "active": user.active,
    }


def _subject(user: User) -> str:
    return f"user:{user.id} {user.email}"


def set_active(user_id: int, active: bool, *, now: datetime, actor: User | None = None) -> User:
    """Deactivate or reactivate an account. Deactivation ends its sessions and revokes its
    API tokens for good: reactivating the account does not bring them back."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such user."))
    if user.active != active:
        before = _audited(user)
        user.active = active
        if not active:
            _end_access(user, now)
        kind = "user.activated" if active else "user.deactivated"
        audit = admin_audit.changed(
            actor, kind, _subject(user), before=before, after=_audited(user)
        )
        messagebus.publish([audit], now)
        db.session.commit()
    return user


def _end_access(user: User, now: datetime) -> None:
    """Revoke every session and API token of a user, in the caller's transaction."""
    # Counted in SQL, not in Python: a password change and a deactivation at the same
    # instant must both move the version on (two "v + 1" written from one read would not).
    user.session_version = User.session_version + 1  # also voids invitation links in flight
    sessions.revoke_all(user.id, now=now)
    api_tokens.revoke_all(user.id, now=now)


def open_session(user: User, *, now: datetime) -> str:
    """Start a server-side session for a user who just proved who they are; its token."""
    lifetime = timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    return sessions.start(user, now=now, lifetime=lifetime)


def close_session(token: str | None, *, now: datetime) -> None:
    """Sign out one browser; the user's other sessions stay."""
    sessions.end(token, now=now)


def load_session_user(token: str, *, now: datetime) -> User | None:
    """Flask-Login's user loader: the active user of a live session token, or None."""
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    return sessions.user_for(token, now=now, idle=idle)


@dataclass(frozen=True)
class InviteOutcome:
    user: User
    token: str


def invite_token(user: User, secret_key: str) -> str:
    """A signed token bound to the account's session version: it works once."""
    serializer = URLSafeTimedSerializer(secret_key, salt=INVITE_SALT)
    return serializer.dumps({"uid": user.id, "v": user.session_version})


def user_for_invite(token: str, secret_key: str, max_age_seconds: int) -> User:
    """The account an invite token is for; InvalidInput when expired, tampered or used."""
    serializer = URLSafeTimedSerializer(secret_key, salt=INVITE_SALT)
    try:
        payload = serializer.loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise InvalidInput(
            N_("This invitation has expired. Ask your administrator for a new one.")
        ) from exc
    except BadSignature as exc:
        raise InvalidInput(N_("This invitation link is not valid.")) from exc
    user = db.session.get(User, payload.get("uid")) if isinstance(payload, dict) else None
    if user is None or user.session_version != payload.get("v") or not user.active:
        raise InvalidInput(N_("This invitation link has already been used or was withdrawn."))
    if user.password_hash is not None:
        raise InvalidInput(
            "This invitation has already been used. Sign in with your password, "
            "or ask an administrator to reset it."
        )
    return user


def accept_invite(
    token: str, password: str, *, secret_key: str, max_age_seconds: int, now: datetime
) -> User:
    """Set the password from an invite; the token cannot be used again."""
    user = user_for_invite(token, secret_key, max_age_seconds)
    _check_new_password(password, email=user.email, name=user.name, field="password")
    # One conditional UPDATE: of two requests with the same link at once, exactly one sets
    # the password; the other finds the version moved on and is told the link was used.
    claimed = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            User.session_version == user.session_version,
            User.password_hash.is_(None),
        )
        .values(
            password_hash=_hash(password),
            session_version=User.session_version + 1,
            last_login_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        raise InvalidInput(N_("This invitation link has already been used or was withdrawn."))
    db.session.commit()
    db.session.refresh(user)
    return user


def invite_url(user: User) -> str:
    """The absolute invitation link, on TRACKER_BASE_URL: never on the request's Host
    header, which whoever sends the request chooses (a forged one would mail a phishing
    link that carries a real token)."""
    token = invite_token(user, current_app.config["SECRET_KEY"])
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"].rstrip("/")):
        return url_for("auth.accept_invite", token=token, _external=True)


def reissue_invite(user_id: int, *, actor: User | None = None, now: datetime | None = None) -> User:
    """Invalidate earlier invite links for a user who has not set a password yet."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such user."))
    user.session_version = User.session_version + 1
    audit = admin_audit.changed(
        actor, "user.invite_reissued", _subject(user), after={"earlier_links": "void"}
    )
    messagebus.publish([audit], now or utcnow())
    db.session.commit()
    return user


def get_user(user_id: int) -> User:
    """The user with `user_id` (for admins: the route checks); NotFound otherwise."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such user."))
    return user


def users_page(role: str | None, page: int, per_page: int) -> Pagination:
    """Every user (or those with `role`; unknown roles mean all), by role then name."""
    query = select(User).order_by(User.role, User.name)
    if role in ROLES:
        query = query.where(User.role == role)
    return paging.numbered(query, page, per_page)


# Built once: the queue and the conflict page read it on every request.
_STAFF_CHOICES = (
    select(User.id, User.name)
    .where(User.role.in_(STAFF_ROLES), User.active.is_(True))
    .order_by(User.name)
)


def staff_choices() -> list[tuple[int, str]]:
    """Active alliance managers and admins as (id, name) by name: whom work can go to."""
    return [(user_id, name) for user_id, name in db.session.execute(_STAFF_CHOICES)]


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


def set_timezone(user: User, timezone: str | None) -> User:
    """The zone a person reads times in; None falls back to their organisation's, else UTC."""
    if timezone:
        _rule(rules.check_timezone, timezone, field="timezone")
    user.timezone = timezone or None
    user.timezone_chosen = True
    db.session.commit()
    return user


def adopt_browser_timezone(user: User, zone: str | None) -> bool:
    """At sign-in, read times in the browser's zone, unless a zone was ever chosen.

    Staff would otherwise read deadlines in UTC until they find the Account page. One
    conditional UPDATE: an explicit choice (even "my organisation's") is never overridden,
    also when it is saved at the same instant. An unknown or missing zone changes nothing.
    True when the zone was adopted."""
    zone = (zone or "").strip()
    try:
        rules.check_timezone(zone)
    except rules.AccountRuleError:
        return False
    adopted = db.session.execute(
        update(User)
        .where(User.id == user.id, User.timezone.is_(None), User.timezone_chosen.is_(False))
        .values(timezone=zone)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if adopted.rowcount != 1:
        return False
    db.session.refresh(user)
    return True


def set_reading_preferences(user: User, *, timezone: str | None, locale: str | None) -> User:
    """Zone and language a person reads pages and mail in, both checked before either is set.

    None for the zone falls back to the organisation's, else UTC; None for the language
    follows the browser, else the partner's default, else English."""
    if timezone:
        _rule(rules.check_timezone, timezone, field="timezone")
    user.locale = _rule(rules.check_locale, locale, field="locale")
    user.timezone = timezone or None
    user.timezone_chosen = True
    db.session.commit()
    return user


def queue_invitation(user: User, url: str, *, now: datetime) -> None:
    """E-mail the invitation link through the outbox (delivered when SMTP is configured)."""
    from flask import render_template
    from flask_babel import force_locale, gettext

    from tracker.services import outbox

    with force_locale(user.mail_locale):
        subject = gettext("You are invited to Trustomer")
        text = render_template("email/invite.txt", user=user, url=url)
    outbox.enqueue_email(
        dedupe_key=f"invite:{user.id}:{user.session_version}",
        address=user.email,
        subject=subject,
        text=text,
        html=None,
        recipient_id=user.id,
        now=now,
    )
    db.session.commit()
