"""Open SLA escalations and acknowledging them (alliance managers only)."""

from __future__ import annotations

from tracker.api import paging, present, queries
from tracker.api import schemas as s
from tracker.api.endpoint import endpoint
from tracker.clock import utcnow
from tracker.models import User
from tracker.services import escalations


@endpoint(
    "/escalations",
    summary="List open escalations",
    tag="escalations",
    query=s.EscalationQuery,
    responses={200: s.EscalationPage},
    staff=True,
)
def list_escalations(user: User, query: s.EscalationQuery) -> s.EscalationPage:
    rows = queries.open_escalations(query, paging.decode(query.cursor))
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
