"""Conflicts: raise, list, read, and move through the workflow."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.api import paging, present
from tracker.api import schemas as s
from tracker.api.endpoint import endpoint
from tracker.clock import utcnow
from tracker.services import conflict_access, conflict_search, conflicts

if TYPE_CHECKING:
    from tracker.models import User


@endpoint(
    "/conflicts",
    "POST",
    summary="Raise a conflict",
    tag="conflicts",
    body=s.ConflictCreate,
    responses={201: s.Conflict},
)
def create_conflict(user: User, body: s.ConflictCreate):  # type: ignore[no-untyped-def]
    """Partners raise conflicts with their own organisation; managers name the partner."""
    row = conflicts.submit(
        user,
        title=body.title,
        description=body.description,
        category=body.category.value,
        severity=body.severity.value,
        partner_id=body.partner_id,
        now=utcnow(),
    )
    return present.conflict(row, user), 201


@endpoint(
    "/conflicts",
    summary="List conflicts",
    tag="conflicts",
    query=s.ConflictQuery,
    responses={200: s.ConflictPage},
)
def list_conflicts(user: User, query: s.ConflictQuery) -> s.ConflictPage:
    """Newest first, with a cursor (`next`); partners see their own organisation's only.
    With `q`, best match first, each with its matched passage."""
    filters = conflict_search.ConflictFilters(
        status=query.status.value if query.status else None,
        partner_id=query.partner_id,
        severity=query.severity.value if query.severity else None,
        assignee_id=query.assignee_id,
        sla_state=query.sla_state.value if query.sla_state else None,
        updated_since=query.updated_since,
        search=query.q,
    )
    if query.q is None:
        rows = conflict_search.api_page(user, filters, paging.decode(query.cursor), query.limit)
        return s.ConflictPage(
            items=[present.conflict(r, user) for r in rows[: query.limit]],
            next=paging.next_link(rows, query.limit),
        )
    offset = paging.decode_offset(query.cursor)
    rows = conflict_search.api_search_page(user, filters, offset, query.limit)
    passages = conflict_search.snippets(user, filters, rows[: query.limit])
    return s.ConflictPage(
        items=[present.matched(r, user, passages.get(r.id)) for r in rows[: query.limit]],
        next=paging.next_offset_link(rows, query.limit, offset),
    )


@endpoint(
    "/conflicts/<id:conflict_id>",
    summary="Read a conflict",
    tag="conflicts",
    responses={200: s.Conflict},
)
def get_conflict(user: User, conflict_id: int) -> s.Conflict:
    return present.conflict(conflict_access.visible_conflict(user, conflict_id), user)


@endpoint(
    "/conflicts/<id:conflict_id>/actions",
    "POST",
    summary="Take a workflow action",
    tag="conflicts",
    body=s.ActionRequest,
    responses={200: s.Conflict},
)
def act_on_conflict(user: User, conflict_id: int, body: s.ActionRequest) -> s.Conflict:
    """An action the conflict's state and the caller's role do not allow is a 409 saying why."""
    row = conflicts.act(user, conflict_id, body.action.value, body.fields(), now=utcnow())
    return present.conflict(row, user)
