"""Open SLA escalations and acknowledging them (alliance managers only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.api import paging, present
from tracker.api import schemas as s
from tracker.api.endpoint import endpoint
from tracker.clock import utcnow
from tracker.services import escalations
from tracker.services import paging as pages

if TYPE_CHECKING:
    from tracker.models import User


@endpoint(
    "/escalations",
    summary="List open escalations",
    tag="escalations",
    query=s.EscalationQuery,
    responses={200: s.EscalationPage},
    staff=True,
)
def list_escalations(user: User, query: s.EscalationQuery) -> s.EscalationPage:
    """Open escalations, oldest first, with a cursor (`next`)."""
    acknowledged = None if query.acknowledged is None else ("yes" if query.acknowledged else "no")
    level = query.level.value if query.level else None
    rows = pages.after(
        escalations.active_query(level, acknowledged),
        paging.decode(query.cursor),
        query.limit,
        descending=False,
    )
    return s.EscalationPage(
        items=[present.escalation(r) for r in rows[: query.limit]],
        next=paging.next_link(rows, query.limit),
    )


@endpoint(
    "/escalations/<id:escalation_id>/acknowledge",
    "POST",
    summary="Acknowledge an escalation",
    tag="escalations",
    body=s.AcknowledgeRequest,
    responses={200: s.Escalation},
    staff=True,
)
def acknowledge(user: User, escalation_id: int, body: s.AcknowledgeRequest) -> s.Escalation:
    """Reminders for this level stop; the next level still fires. Twice is a 409."""
    row = escalations.acknowledge(user, escalation_id, body.note, now=utcnow())
    return present.escalation(row)
