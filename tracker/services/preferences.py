"""Notification preferences: per user, per kind of notice, per channel, within the role."""

from __future__ import annotations

from sqlalchemy import Select, and_, or_, select

from tracker.database import transaction_memo
from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import NotificationPreference, User

UPDATES = "updates"
ESCALATIONS = "escalations"
TRUST = "trust"
IN_APP = "in_app"
EMAIL = "email"
CHANNELS = {IN_APP: N_("In the app (the bell)"), EMAIL: N_("By email")}
KINDS = {
    UPDATES: N_("Updates on conflicts: new conflicts, replies, status changes"),
    ESCALATIONS: N_("SLA escalations and their reminders"),
    TRUST: N_("Trust alerts on partners you own: a falling score, a partner gone quiet"),
}


def allowed_kinds(user: User) -> list[str]:
    """Partners hear of their conflicts' public updates; escalation and trust alerts are for
    staff."""
    return [UPDATES, ESCALATIONS, TRUST] if user.is_staff else [UPDATES]


def choices(user: User) -> dict[tuple[str, str], bool]:
    """Every (kind, channel) the role allows, with the user's choice (on unless turned off)."""
    stored = {
        (p.kind, p.channel): p.enabled
        for p in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    return {
        (kind, channel): stored.get((kind, channel), True)
        for kind in allowed_kinds(user)
        for channel in CHANNELS
    }


def channels_for(users: list[User], kind: str) -> dict[int, set[str]]:
    """The channels each user wants `kind` on, for many users in one query (a fan-out); a
    user's choices are read once per transaction."""
    known: dict[int, set[str]] = transaction_memo(db.session, ("channels", kind), dict)
    missing = [u.id for u in users if kind in allowed_kinds(u) and u.id not in known]
    if missing:
        # The same statement reads their digest choice, which the fan-out asks next.
        digest: dict[int, bool] = transaction_memo(db.session, ("digest",), dict)
        digest_missing = {i for i in missing if i not in digest}
        rows = db.session.execute(
            select(
                NotificationPreference.user_id,
                NotificationPreference.kind,
                NotificationPreference.channel,
                NotificationPreference.enabled,
            ).where(
                NotificationPreference.user_id.in_(missing), _wanted(kind, bool(digest_missing))
            )
        )
        _remember(kind, missing, digest_missing, rows)
    return {u.id: known.get(u.id, set()) if kind in allowed_kinds(u) else set() for u in users}


def read_with_choices(query: Select, kind: str) -> list[User]:
    """The users `query` selects, each with their choices of `kind` and of the digest joined
    in the same statement (a fan-out reads its readers, then their choices: one statement
    where there were two), remembered for channels_for() and digest_readers()."""
    known: dict[int, set[str]] = transaction_memo(db.session, ("channels", kind), dict)
    digest: dict[int, bool] = transaction_memo(db.session, ("digest",), dict)
    joined = query.outerjoin(
        NotificationPreference,
        and_(NotificationPreference.user_id == User.id, _wanted(kind, True)),
    ).add_columns(
        NotificationPreference.user_id,
        NotificationPreference.kind,
        NotificationPreference.channel,
        NotificationPreference.enabled,
    )
    users: dict[int, User] = {}
    rows = []
    for user, *choice in db.session.execute(joined):
        users.setdefault(user.id, user)
        if choice[0] is not None:
            rows.append(choice)
    missing = [u.id for u in users.values() if kind in allowed_kinds(u) and u.id not in known]
    _remember(kind, missing, {i for i in users if i not in digest}, rows)
    return list(users.values())


def _wanted(kind: str, with_digest: bool):  # type: ignore[no-untyped-def]
    wanted = NotificationPreference.kind == kind
    if with_digest:
        wanted = or_(
            wanted,
            and_(NotificationPreference.kind == DIGEST, NotificationPreference.channel == EMAIL),
        )
    return wanted


def _remember(kind: str, missing: list[int], digest_missing: set[int], rows) -> None:  # type: ignore[no-untyped-def]
    """Into the transaction's memos: every channel of `kind` unless turned off, and the
    digest off unless chosen, for the users not read yet."""
    known: dict[int, set[str]] = transaction_memo(db.session, ("channels", kind), dict)
    digest: dict[int, bool] = transaction_memo(db.session, ("digest",), dict)
    waiting = set(missing)
    for user_id in missing:
        known[user_id] = set(CHANNELS)
    for user_id in digest_missing:
        digest[user_id] = False
    for user_id, row_kind, channel, enabled in rows:
        if row_kind == kind and not enabled and user_id in waiting:
            known[user_id].discard(channel)
        if row_kind == DIGEST and channel == EMAIL and user_id in digest_missing:
            digest[user_id] = bool(enabled)


def save(user: User, enabled: set[tuple[str, str]]) -> None:
    """Store the user's choices; anything outside the role is ignored, not stored."""
    for (kind, channel), _ in choices(user).items():
        row = db.session.scalar(
            select(NotificationPreference).where(
                NotificationPreference.user_id == user.id,
                NotificationPreference.kind == kind,
                NotificationPreference.channel == channel,
            )
        )
        if row is None:
            row = NotificationPreference(user_id=user.id, kind=kind, channel=channel)
            db.session.add(row)
        row.enabled = (kind, channel) in enabled
    db.session.commit()


# --- how e-mail arrives: at once (coalesced per conflict) or as one daily digest -------------

# Stored as a preference row of its own kind: enabled means "send me a daily digest instead".
DIGEST = "email_digest"
CADENCES = {"immediately": N_("Immediately (one message per conflict every few minutes at most)"),
            "daily": N_("As one daily digest")}  # fmt: skip


def digest_readers(users: list[User]) -> set[int]:
    """Which of these users chose the daily digest; read once per transaction for everyone
    asked about (a fan-out asks for each reader in turn)."""
    known: dict[int, bool] = transaction_memo(db.session, ("digest",), dict)
    missing = [u.id for u in users if u.id not in known]
    if missing:
        for user_id in missing:
            known[user_id] = False
        rows = db.session.execute(
            select(NotificationPreference.user_id, NotificationPreference.enabled).where(
                NotificationPreference.user_id.in_(missing),
                NotificationPreference.kind == DIGEST,
                NotificationPreference.channel == EMAIL,
            )
        )
        for user_id, enabled in rows:
            known[user_id] = bool(enabled)
    return {u.id for u in users if known.get(u.id)}


def cadence(user: User) -> str:
    return "daily" if user.id in digest_readers([user]) else "immediately"


def _row(user_id: int, kind: str, channel: str) -> NotificationPreference:
    row = db.session.scalar(
        select(NotificationPreference).where(
            NotificationPreference.user_id == user_id,
            NotificationPreference.kind == kind,
            NotificationPreference.channel == channel,
        )
    )
    if row is None:
        row = NotificationPreference(user_id=user_id, kind=kind, channel=channel)
        db.session.add(row)
    return row


def save_cadence(user: User, value: str) -> None:
    """Immediately or daily; anything else is ignored (the form offers only these)."""
    if value not in CADENCES:
        return
    _row(user.id, DIGEST, EMAIL).enabled = value == "daily"
    db.session.commit()


def stop_email(user: User, kinds: list[str]) -> list[str]:
    """Turn e-mail off for these kinds of notice of this user only (one-click unsubscribe);
    kinds the role does not have are ignored. Returns the kinds turned off."""
    stopped = [kind for kind in kinds if kind in allowed_kinds(user)]
    for kind in stopped:
        _row(user.id, kind, EMAIL).enabled = False
    db.session.commit()
    return stopped
