"""A partner's outgoing webhooks: their own systems hear of their conflicts' public events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.api import present
from tracker.api import schemas as s
from tracker.api.endpoint import endpoint
from tracker.clock import utcnow
from tracker.services import partner_webhooks

if TYPE_CHECKING:
    from tracker.models import User


@endpoint(
    "/webhooks",
    summary="Your organisation's webhooks",
    tag="webhooks",
    responses={200: s.WebhookList},
)
def list_webhooks(user: User) -> s.WebhookList:
    """Partner users only."""
    return s.WebhookList(items=[present.webhook(h) for h in partner_webhooks.for_partner(user)])


@endpoint(
    "/webhooks",
    "POST",
    summary="Register a webhook",
    tag="webhooks",
    body=s.WebhookCreate,
    responses={201: s.WebhookCreated},
    secret_fields=("secret",),
    before_claim=lambda user, body: partner_webhooks.check_url(body.url),
)
def create_webhook(user: User, body: s.WebhookCreate):  # type: ignore[no-untyped-def]
    """Partner users only. Deliveries are POSTs signed with the secret, shown only now:
    `X-Trustomer-Signature: sha256=<hex HMAC-SHA256 of the body>`. The response is sent with
    `Cache-Control: no-store`.

    The secret is not kept for idempotent replays: a retry with the same Idempotency-Key and
    body after the webhook was created is a 409 problem naming the webhook's id (with
    `Idempotent-Replayed: true`), never a second copy of the secret. If the secret was lost,
    deactivate that webhook and register another."""
    events = [e.value for e in body.events] if body.events else None
    hook, secret = partner_webhooks.create(
        user, url=body.url, events=events, now=utcnow(), resolved=True
    )
    created = s.WebhookCreated(**present.webhook(hook).model_dump(), secret=secret)
    return created, 201


@endpoint(
    "/webhooks/<id:webhook_id>/deactivate",
    "POST",
    summary="Deactivate a webhook",
    tag="webhooks",
    responses={200: s.Webhook},
)
def deactivate_webhook(user: User, webhook_id: int) -> s.Webhook:
    """Partner users only; deliveries not yet sent fail."""
    return present.webhook(partner_webhooks.deactivate(user, webhook_id, utcnow()))
