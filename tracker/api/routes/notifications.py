"""The caller's own in-app notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.api import paging, present
from tracker.api import schemas as s
from tracker.api.endpoint import endpoint
from tracker.services import inbox

if TYPE_CHECKING:
    from tracker.models import User


@endpoint(
    "/notifications",
    summary="Your notifications",
    tag="notifications",
    query=s.NotificationQuery,
    responses={200: s.NotificationPage},
)
def list_notifications(user: User, query: s.NotificationQuery) -> s.NotificationPage:
    """Newest first, with a cursor (`next`)."""
    rows = inbox.after(user, query.unread, paging.decode(query.cursor), query.limit)
    return s.NotificationPage(
        items=[present.notification(r) for r in rows[: query.limit]],
        next=paging.next_link(rows, query.limit),
    )
