"""Notification preferences: per user, per kind of notice, per channel, within the role."""

from __future__ import annotations

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import NotificationPreference, User

UPDATES = "updates"
ESCALATIONS = "escalations"
IN_APP = "in_app"
EMAIL = "email"
CHANNELS = {IN_APP: "In the app (the bell)", EMAIL: "By email"}
KINDS = {
    UPDATES: "Updates on conflicts: new conflicts, replies, status changes",
    ESCALATIONS: "SLA escalations and their reminders",
}


def allowed_kinds(user: User) -> list[str]:
    """Partners hear of their conflicts' public updates; escalation alerts are for staff."""
    return [UPDATES, ESCALATIONS] if user.is_staff else [UPDATES]


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


def wants(user: User, kind: str, channel: str) -> bool:
    if kind not in allowed_kinds(user):
        return False
    row = db.session.scalar(
        select(NotificationPreference).where(
            NotificationPreference.user_id == user.id,
            NotificationPreference.kind == kind,
            NotificationPreference.channel == channel,
        )
    )
    return True if row is None else row.enabled


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
