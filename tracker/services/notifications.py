"""In-app notifications: who hears of a conflict event, and what they have read."""

from __future__ import annotations

from datetime import datetime

from flask import render_template
from sqlalchemy import func, select, update

from tracker.domain import workflow
from tracker.extensions import db
from tracker.models import Conflict, ConflictEvent, Notification, User
from tracker.models.conflict import PUBLIC
from tracker.services import outbox, partner_webhooks, preferences
from tracker.services.links import conflict_url

_KIND_TITLES = {
    "submitted": "New conflict {ref}: {title}",
    "comment": "{ref}: new comment from {partner}",
    "reply": "{ref}: new reply from the alliance team",
    "internal_note": "{ref}: internal note",
    "assigned": "{ref}: assignment changed",
    "field_changed": "{ref}: details changed",
}


def _title(conflict: Conflict, event: ConflictEvent) -> str:
    if event.kind == "status_changed" and event.data:
        label = workflow.STATE_LABELS.get(event.data.get("to", ""), "")
        return f"{conflict.ref}: now {label.lower()}"
    template = _KIND_TITLES.get(event.kind, "{ref}: updated")
    return template.format(ref=conflict.ref, title=conflict.title, partner=conflict.partner.name)[
        :300
    ]


def recipients(conflict: Conflict, event: ConflictEvent) -> list[User]:
    """Staff who own or handle the conflict; the partner's people for public events only."""
    staff_ids = {conflict.assignee_id, conflict.partner.owner_id} - {None}
    people: list[User] = []
    if staff_ids:
        people.extend(db.session.scalars(select(User).where(User.id.in_(staff_ids))))
    if event.visibility == PUBLIC:
        people.extend(
            db.session.scalars(
                select(User).where(User.partner_id == conflict.partner_id, User.active.is_(True))
            )
        )
    # is_active, not the column: invites never accepted and users of inactive partners hear nothing.
    return [p for p in people if p.id != event.actor_id and p.is_active]


def fan_out(conflict: Conflict, event: ConflictEvent, now: datetime) -> int:
    """Tell each recipient in the app and/or by email (their choice), in the caller's transaction.

    Partners are recipients of public events only (see recipients()), so what reaches them,
    in the app or by mail, is what their own page shows.
    """
    title = _title(conflict, event)
    count = 0
    for user in recipients(conflict, event):
        if preferences.wants(user, preferences.UPDATES, preferences.IN_APP):
            db.session.add(
                Notification(
                    user_id=user.id,
                    conflict_id=conflict.id,
                    event_id=event.id,
                    kind=event.kind,
                    title=title,
                    created_at=now,
                )
            )
            count += 1
        if preferences.wants(user, preferences.UPDATES, preferences.EMAIL):
            context = {
                "title": title,
                "conflict": conflict,
                "body": event.body,
                "url": conflict_url(conflict, staff=user.is_staff),
            }
            outbox.enqueue_email(
                dedupe_key=f"event:{event.id}:email:{user.id}",
                address=user.email,
                subject=workflow.one_line(f"[Trustomer] {title}")[:300],
                text=render_template("email/update.txt", **context),
                html=render_template("email/update.html", **context),
                recipient_id=user.id,
                conflict_id=conflict.id,
                now=now,
            )
    partner_webhooks.on_event(conflict, event, now)
    return count


def unread_count(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def for_user(user: User):  # type: ignore[no-untyped-def]
    """Newest first; paged by the caller."""
    return (
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc())
    )


def mark_read(user: User, now: datetime, notification_id: int | None = None) -> int:
    """Mark one (or all) of the user's notifications read; never someone else's."""
    statement = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    result = db.session.execute(statement.values(read_at=now))
    db.session.commit()
    return result.rowcount or 0
