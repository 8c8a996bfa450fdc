"""A conflict's comments and its timeline of events, as far as the caller may see them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.api import present
from tracker.api import schemas as s
from tracker.api.endpoint import endpoint
from tracker.clock import utcnow
from tracker.services import conflict_access, conflicts

if TYPE_CHECKING:
    from tracker.models import User

COMMENT_KINDS = ("comment", "reply", "internal_note")


@endpoint(
    "/conflicts/<id:conflict_id>/comments",
    summary="List comments",
    tag="comments",
    responses={200: s.EventList},
)
def list_comments(user: User, conflict_id: int) -> s.EventList:
    """Public comments and replies; internal notes too for managers."""
    row = conflict_access.visible_conflict(user, conflict_id)
    events = [e for e in conflict_access.timeline(row, user) if e.kind in COMMENT_KINDS]
    return s.EventList(items=[present.event(e) for e in events])


@endpoint(
    "/conflicts/<id:conflict_id>/comments",
    "POST",
    summary="Comment (or write an internal note)",
    tag="comments",
    body=s.CommentCreate,
    responses={201: s.Event},
)
def create_comment(user: User, conflict_id: int, body: s.CommentCreate):  # type: ignore[no-untyped-def]
    """`internal: true` is for managers only; a partner's reply resumes a conflict on hold."""
    event = conflicts.comment(user, conflict_id, body.body, internal=body.internal, now=utcnow())
    return present.event(event), 201


@endpoint(
    "/conflicts/<id:conflict_id>/events",
    summary="The conflict's timeline",
    tag="comments",
    responses={200: s.EventList},
)
def list_events(user: User, conflict_id: int) -> s.EventList:
    """Every event in order; partners get the public ones only."""
    row = conflict_access.visible_conflict(user, conflict_id)
    return s.EventList(items=[present.event(e) for e in conflict_access.timeline(row, user)])
