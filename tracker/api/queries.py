"""Read-only queries behind the list endpoints, each scoped to what the caller may see."""

from __future__ import annotations

from sqlalchemy import Select, select

from tracker.api import schemas as s
from tracker.extensions import db
from tracker.models import Conflict, Escalation, Notification, Partner, User
from tracker.services import escalations, notifications
from tracker.services.errors import InvalidInput


def conflicts(user: User, query: s.ConflictQuery, after_id: int | None) -> list[Conflict]:
    """Newest first; a partner's users only ever get their own organisation's conflicts."""
    statement: Select = select(Conflict)
    if not user.is_staff:
        statement = statement.where(Conflict.partner_id == user.partner_id)
    if query.status:
        statement = statement.where(Conflict.status == query.status.value)
    if query.partner_id:
        statement = statement.where(Conflict.partner_id == query.partner_id)
    if query.severity:
        statement = statement.where(Conflict.severity == query.severity.value)
    if query.assignee_id:
        if not user.is_staff:  # who is assigned is internal: no filtering on it either
            raise InvalidInput(
                "Filtering by assignee is for alliance managers.",
                field_errors={"assignee_id": "Not available to partner users."},
            )
        statement = statement.where(Conflict.assignee_id == query.assignee_id)
    if query.sla_state:
        statement = statement.where(Conflict.sla_state == query.sla_state.value)
    if query.updated_since:
        # Partners see only public changes: internal notes must not surface a conflict.
        column = Conflict.updated_at if user.is_staff else Conflict.public_updated_at
        statement = statement.where(column >= query.updated_since)
    return _page(statement, Conflict.id, after_id, query.limit, descending=True)


def open_escalations(query: s.EscalationQuery, after_id: int | None) -> list[Escalation]:
    """Open escalations, oldest first (staff only: the route checks)."""
    acknowledged = None if query.acknowledged is None else ("yes" if query.acknowledged else "no")
    level = query.level.value if query.level else None
    statement = escalations.active_query(level, acknowledged).order_by(None)
    return _page(statement, Escalation.id, after_id, query.limit, descending=False)


def user_notifications(
    user: User, query: s.NotificationQuery, after_id: int | None
) -> list[Notification]:
    """The caller's own notifications, newest first."""
    statement = notifications.for_user(user).order_by(None)
    if query.unread is True:
        statement = statement.where(Notification.read_at.is_(None))
    elif query.unread is False:
        statement = statement.where(Notification.read_at.is_not(None))
    return _page(statement, Notification.id, after_id, query.limit, descending=True)


def visible_partners(user: User) -> list[Partner]:
    """Staff see every partner; a partner's user sees only their own organisation."""
    statement = select(Partner).order_by(Partner.name)
    if not user.is_staff:
        statement = statement.where(Partner.id == user.partner_id)
    return list(db.session.scalars(statement))


def _page(statement: Select, id_column, after_id: int | None, limit: int, *, descending: bool):  # type: ignore[no-untyped-def]
    if after_id is not None:
        statement = statement.where(id_column < after_id if descending else id_column > after_id)
    order = id_column.desc() if descending else id_column.asc()
    return list(db.session.scalars(statement.order_by(order).limit(limit + 1)))
