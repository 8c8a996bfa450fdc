"""Notification preferences: per user, per kind of notice, per channel, within the role."""

from __future__ import annotations

from sqlalchemy import select

from tracker.database import transaction_memo
from tracker.extensions import db
from tracker.models import NotificationPreference, User

UPDATES = "updates"
ESCALATIONS = "escalations"
TRUST = "trust"
IN_APP = "in_app"
EMAIL = "email"
CHANNELS = {IN_APP: "In the app (the bell)", EMAIL: "By email"}
KINDS = {
    UPDATES: "Updates on conflicts: new conflicts, replies, status changes",
    ESCALATIONS: "SLA escalations and their reminders",
    TRUST: "Trust alerts on partners you own: a falling score, a partner gone quiet",
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
        for user_id in missing:
            known[user_id] = set(CHANNELS)
        rows = db.session.execute(
            select(
                NotificationPreference.user_id,
                NotificationPreference.channel,
                NotificationPreference.enabled,
            ).where(
                NotificationPreference.user_id.in_(missing), NotificationPreference.kind == kind
            )
        )
        for user_id, channel, enabled in rows:
            if not enabled:
                known[user_id].discard(channel)
    return {u.id: known.get(u.id, set()) if kind in allowed_kinds(u) else set() for u in users}


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
