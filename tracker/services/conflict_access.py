"""Who may read which conflict, attachment and event: the one rule every reader goes through."""

from __future__ import annotations

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import selectinload

from tracker.domain.text import N_
from tracker.extensions import db
from tracker.models import Attachment, Conflict, ConflictEvent, User
from tracker.models.conflict import INTERNAL, PUBLIC
from tracker.services.errors import NotFound


def may_see(user: User, conflict: Conflict) -> bool:
    """Staff see every conflict; a partner's people see their own organisation's."""
    if user.is_staff:
        return True
    return user.is_partner and user.partner_id == conflict.partner_id


def visible_conflict(user: User, conflict_id: int) -> Conflict:
    """The conflict if `user` may see it; otherwise NotFound (never say it exists)."""
    conflict = db.session.get(Conflict, conflict_id)
    if conflict is None or not may_see(user, conflict):
        raise NotFound(N_("No such conflict."))
    return conflict


def visible_attachment(user: User, attachment_id: int) -> Attachment:
    """The attachment if `user` may see it and its conflict; otherwise NotFound."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or not may_see(user, attachment.conflict):
        raise NotFound(N_("No such attachment."))
    if attachment.visibility == INTERNAL and not user.is_staff:
        raise NotFound(N_("No such attachment."))
    return attachment


def _timeline_statement(public_only: bool) -> Select:
    query = select(ConflictEvent).where(ConflictEvent.conflict_id == bindparam("conflict_id"))
    if public_only:
        query = query.where(ConflictEvent.visibility == PUBLIC)
    # Each entry shows its author and attachments: read them with the entries, not one by one.
    query = query.options(
        selectinload(ConflictEvent.actor), selectinload(ConflictEvent.attachments)
    )
    return query.order_by(ConflictEvent.id)


# Built once each (every conflict page reads one): built per call, the statement and its
# eager options cost about a fifth of what reading fifty entries does.
_TIMELINE = {False: _timeline_statement(False), True: _timeline_statement(True)}


def timeline(conflict: Conflict, viewer: User) -> list[ConflictEvent]:
    """The conflict's events in the order they happened; partners see public ones only."""
    query = _TIMELINE[not viewer.is_staff]
    return list(db.session.scalars(query, {"conflict_id": conflict.id}))
