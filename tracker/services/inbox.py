"""A user's notifications as they read them: pages of their own, and one of their own."""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination

from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import Notification, User
from tracker.services import notifications, paging
from tracker.services.errors import NotFound


def page(user: User, number: int, per_page: int) -> Pagination:
    """Page `number` of the user's notifications, newest first."""
    return paging.numbered(notifications.for_user(user), number, per_page)


def after(user: User, unread: bool | None, after_id: int | None, limit: int) -> list[Notification]:
    """The user's notifications (only unread, only read, or all), newest first after the cursor."""
    query = notifications.for_user(user)
    if unread is True:
        query = query.where(Notification.read_at.is_(None))
    elif unread is False:
        query = query.where(Notification.read_at.is_not(None))
    return paging.after(query, after_id, limit, descending=True)


def own(user: User, notification_id: int) -> Notification:
    """The notification if it is the user's; NotFound otherwise (never someone else's)."""
    item = db.session.get(Notification, notification_id)
    if item is None or item.user_id != user.id:
        raise NotFound(N_("No such notification."))
    return item
